from decimal import Decimal

from django.db.models import Prefetch
from wagtail.test.utils.form_data import inline_formset, nested_form_data

from menu.models import ProductExtra, ProductPage, ProductSize, RecipeLine
from menu.recipes import allergens_for, ingredient_needs, needs_for_lines, scaled_quantity, sizes_with_recipes

from .factories import IngredientFactory, ProductExtraFactory, product_with_recipe


def test_scaled_quantity_rounds_half_up_to_a_whole_unit():
    assert scaled_quantity(80, Decimal("1.40")) == 112
    assert scaled_quantity(5, Decimal("1.50")) == 8
    assert scaled_quantity(1, Decimal("1.90")) == 2


def test_scaled_quantity_never_drops_an_ingredient_to_nothing():
    assert scaled_quantity(1, Decimal("0.30")) == 1


def test_recipe_quantities_scale_with_each_size(menu_page):
    dough = IngredientFactory(name="Pâte")
    sauce = IngredientFactory(name="Sauce tomate")
    product = product_with_recipe(
        menu_page,
        title="Margherita",
        recipe={dough: 200, sauce: 80},
        sizes=[("Petite", "9.00", "1.00"), ("Moyenne", "12.00", "1.40"), ("Grande", "15.00", "1.90")],
    )
    small, medium, large = product.sizes.all()

    assert ingredient_needs(small) == {dough.id: 200, sauce.id: 80}
    assert ingredient_needs(medium) == {dough.id: 280, sauce.id: 112}
    assert ingredient_needs(large) == {dough.id: 380, sauce.id: 152}


def test_an_added_extra_is_scaled_and_added_to_the_recipe(menu_page):
    cheese = IngredientFactory(name="Mozzarella")
    product = product_with_recipe(
        menu_page, title="Margherita", recipe={cheese: 100}, sizes=[("Grande", "15.00", "1.50")]
    )
    extra = ProductExtraFactory(product=product, ingredient=cheese, quantity=40)

    assert ingredient_needs(product.sizes.get(), [extra]) == {cheese.id: 150 + 60}


def test_a_removed_ingredient_is_not_used(menu_page):
    dough = IngredientFactory(name="Pâte")
    onion = IngredientFactory(name="Oignons")
    product = product_with_recipe(menu_page, title="Savoyarde", recipe={dough: 200, onion: 30})
    no_onion = ProductExtraFactory(product=product, ingredient=onion, kind=ProductExtra.Kind.REMOVE, price=0)

    assert ingredient_needs(product.sizes.get(), [no_onion]) == {dough.id: 200}


def test_extras_change_the_allergens_shown(menu_page):
    dough = IngredientFactory(name="Pâte", allergens=["gluten"])
    cheese = IngredientFactory(name="Mozzarella", allergens=["milk"])
    anchovy = IngredientFactory(name="Anchois", allergens=["fish"])
    product = product_with_recipe(menu_page, title="Margherita", recipe={dough: 200, cheese: 100})
    add_anchovy = ProductExtraFactory(product=product, ingredient=anchovy, quantity=20)
    no_cheese = ProductExtraFactory(
        product=product, ingredient=cheese, kind=ProductExtra.Kind.REMOVE, price=0
    )
    product = ProductPage.objects.with_recipes().get(id=product.id)

    assert [a.code for a in allergens_for(product)] == ["gluten", "milk"]
    assert [a.code for a in allergens_for(product, [add_anchovy])] == ["gluten", "fish", "milk"]
    assert [a.code for a in allergens_for(product, [no_cheese])] == ["gluten"]


def test_needs_of_several_lines_add_up(menu_page, django_assert_max_num_queries):
    cheese = IngredientFactory(name="Mozzarella")
    first = product_with_recipe(menu_page, title="Margherita", recipe={cheese: 100})
    second = product_with_recipe(
        menu_page, title="Quatre fromages", recipe={cheese: 60}, sizes=[("Grande", "15.00", "2.00")]
    )
    extra = ProductExtraFactory(product=second, ingredient=cheese, quantity=10)

    with django_assert_max_num_queries(5):
        needs, _resolved = needs_for_lines([(first.sizes.get(), 2, []), (second.sizes.get(), 1, [extra])])

    assert needs == {cheese.id: 2 * 100 + 120 + 20}


def test_the_product_form_derives_the_ingredients_from_the_recipe(menu_page):
    dough = IngredientFactory(name="Pâte", allergens=["gluten"])
    cheese = IngredientFactory(name="Mozzarella", allergens=["milk"])
    form_class = ProductPage.get_edit_handler().get_form_class()
    data = nested_form_data(
        {
            "title": "Margherita",
            "slug": "margherita",
            "category": "pizza",
            "vat_rate": "10.00",
            "is_available": "on",
            "sizes": inline_formset([{"name": "Petite", "price": "9.00", "recipe_factor": "1.00"}]),
            "recipe_lines": inline_formset(
                [{"ingredient": dough.id, "quantity": "200"}, {"ingredient": cheese.id, "quantity": "100"}]
            ),
            "extras": inline_formset([]),
            "preparation_steps": inline_formset([]),
        }
    )
    form = form_class(data, instance=ProductPage(), parent_page=menu_page, for_user=None)

    assert form.is_valid(), form.errors
    product = form.save(commit=False)
    menu_page.add_child(instance=product)

    stored = ProductPage.objects.get(id=product.id)
    assert set(stored.ingredients.all()) == {dough, cheese}
    assert [a.code for a in stored.allergens] == ["gluten", "milk"]


def test_the_product_page_lists_its_options_with_the_allergens_they_add(client, menu_page):
    dough = IngredientFactory(name="Pâte", allergens=["gluten"])
    anchovy = IngredientFactory(name="Anchois", allergens=["fish"])
    product = product_with_recipe(menu_page, title="Marinara", recipe={dough: 200})
    ProductExtraFactory(product=product, name="Supplément anchois", ingredient=anchovy, quantity=20)

    html = client.get(product.url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert "Supplément anchois" in html and "+1,50\u00a0€" in html and "(allergènes : Poissons)" in html


def test_the_product_editor_shows_the_recipe_extras_and_steps(client, admin_user, menu_page):
    product = product_with_recipe(menu_page, title="Marinara", recipe={IngredientFactory(name="Pâte"): 200})
    client.force_login(admin_user)

    response = client.get(f"/admin/pages/{product.id}/edit/", HTTP_ACCEPT_LANGUAGE="fr")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Recette (taille de référence)" in html and "Suppléments et retraits" in html
    assert "Préparation (pizzaiolo)" in html and "coefficient de recette" in html.lower()


def _as_orm_reads(sizes):
    """What pricing and the stock check read of `sizes` ({id: ProductSize})."""
    return {
        size_id: (
            size.sort_order,
            size.product_id,
            size.name,
            size.price,
            size.recipe_factor,
            size.product.title,
            size.product.slug,
            size.product.live,
            size.product.category,
            size.product.is_available,
            size.product.vat_rate,
            [
                (
                    line.pk,
                    line.sort_order,
                    line.ingredient_id,
                    line.quantity,
                    line.ingredient.name,
                    line.ingredient.unit,
                )
                for line in size.product.recipe_lines.all()
            ],
        )
        for size_id, size in sizes.items()
    }


def test_sizes_with_recipes_reads_what_the_orm_reads_in_one_query(menu_page, django_assert_num_queries):
    """The hand-written read gives the sizes, products and recipes (in the recipe's order) that
    `select_related` with a prefetch gives, for two sizes of one product, a product without a
    recipe and a withdrawn one, in one query; nothing more is read to price or check them."""
    dough, sauce, basil = (IngredientFactory(name=name) for name in ("Pâte", "Sauce tomate", "Basilic"))
    pizza = product_with_recipe(
        menu_page,
        title="Margherita",
        recipe={sauce: 80, dough: 200, basil: 3},
        sizes=[("Petite", "9.00", "1.00"), ("Grande", "12.50", "1.40")],
    )
    drink = product_with_recipe(menu_page, title="Eau", recipe={}, sizes=[("50 cl", "2.00", "1.00")])
    gone = product_with_recipe(menu_page, title="Calzone", recipe={dough: 250}, is_available=False)
    ids = [size.id for product in (pizza, drink, gone) for size in product.sizes.all()]
    expected = {
        size.id: size
        for size in ProductSize.objects.filter(id__in=ids)
        .select_related("product")
        .prefetch_related(
            Prefetch("product__recipe_lines", queryset=RecipeLine.objects.select_related("ingredient"))
        )
    }

    with django_assert_num_queries(1):
        sizes = sizes_with_recipes([*ids, ids[0], 999_999])
    with django_assert_num_queries(0):
        read = _as_orm_reads(sizes)
        assert needs_for_lines([(size, 1, []) for size in sizes.values()])[0] == {
            dough.id: 200 + 280 + 250,
            sauce.id: 80 + 112,
            basil.id: 3 + 4,
        }

    assert read == _as_orm_reads(expected)
    small = sizes[ids[0]]  # Decimals as the ORM gives them (SQLite's converters), not equal floats
    assert [str(value) for value in (small.price, small.recipe_factor, small.product.vat_rate)] == [
        str(value)
        for value in (
            expected[ids[0]].price,
            expected[ids[0]].recipe_factor,
            expected[ids[0]].product.vat_rate,
        )
    ]
    assert {type(value) for value in (small.price, small.recipe_factor, small.product.vat_rate)} == {Decimal}
    assert [line.ingredient.name for line in sizes[ids[0]].product.recipe_lines.all()] == [
        "Sauce tomate",
        "Pâte",
        "Basilic",
    ]
    assert sizes[ids[0]].product is sizes[ids[1]].product
    assert sizes_with_recipes([]) == {}
    summary = ProductPage.objects.get(pk=pizza.pk).summary
    with django_assert_num_queries(1):  # a field left out is read when used, as after .only()
        assert sizes[ids[0]].product.summary == summary
