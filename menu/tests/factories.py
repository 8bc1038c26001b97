from decimal import Decimal

import factory
import wagtail_factories

from menu.models import (
    Allergen,
    Category,
    Ingredient,
    MenuPage,
    ProductExtra,
    ProductPage,
    ProductSize,
    RecipeLine,
)


class IngredientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Ingredient
        django_get_or_create = ["name"]
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Ingrédient {n}")
    unit = Ingredient.Unit.GRAM

    @factory.post_generation
    def allergens(self, create, codes, **kwargs):
        if create and codes:
            self.allergens.set(Allergen.objects.filter(code__in=codes))


class MenuPageFactory(wagtail_factories.PageFactory):
    class Meta:
        model = MenuPage

    title = "La carte"
    slug = "carte"


class ProductPageFactory(wagtail_factories.PageFactory):
    class Meta:
        model = ProductPage
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Pizza {n}")
    category = Category.PIZZA
    summary = "Une pizza de test."

    @factory.post_generation
    def sizes(self, create, sizes, **kwargs):
        """sizes=[("Moyenne", "12.50"), ...]; default: one medium size at 12.50 €."""
        if not create:
            return
        for order, (name, price) in enumerate([("Moyenne (31 cm)", "12.50")] if sizes is None else sizes):
            ProductSize.objects.create(product=self, name=name, price=Decimal(price), sort_order=order)

    @factory.post_generation
    def ingredients(self, create, ingredients, **kwargs):
        if create and ingredients:
            self.ingredients.set(ingredients)
            self.save()  # a ParentalManyToManyField is written when the page is saved


class RecipeLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RecipeLine

    product = None
    ingredient = factory.SubFactory(IngredientFactory)
    quantity = 100


class ProductExtraFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductExtra

    product = None
    name = factory.LazyAttribute(lambda o: f"Supplément {o.ingredient.name.lower()}")
    kind = ProductExtra.Kind.ADD
    ingredient = factory.SubFactory(IngredientFactory)
    quantity = 50
    price = Decimal("1.50")


def product_with_recipe(menu, *, title, recipe, sizes=(("Petite", "9.00", "1.00"),), **kwargs):
    """A product whose recipe is `recipe` = {ingredient: quantity}; sizes (name, price, factor)."""
    product = ProductPageFactory(parent=menu, title=title, sizes=[], **kwargs)
    for order, (name, price, factor) in enumerate(sizes):
        ProductSize.objects.create(
            product=product, name=name, price=Decimal(price), recipe_factor=Decimal(factor), sort_order=order
        )
    for order, (ingredient, quantity) in enumerate(recipe.items()):
        RecipeLineFactory(product=product, ingredient=ingredient, quantity=quantity, sort_order=order)
    product.ingredients.set(recipe)
    product.save()
    return product
