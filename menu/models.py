"""The catalogue: menu page, products (pages), their sizes and prices, ingredients and allergens."""

from decimal import Decimal

from django import forms
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey, ParentalManyToManyField
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel
from wagtail.fields import RichTextField
from wagtail.images import get_image_model
from wagtail.models import Orderable, Page, PageManager
from wagtail.query import PageQuerySet
from wagtail.search import index


class Allergen(models.Model):
    """One of the 14 allergens that EU regulation 1169/2011 requires a menu to declare.

    The 14 rows are created by a data migration; the code is stable, the label is translated.
    """

    class Code(models.TextChoices):
        GLUTEN = "gluten", _("Céréales contenant du gluten")
        CRUSTACEANS = "crustaceans", _("Crustacés")
        EGGS = "eggs", _("Œufs")
        FISH = "fish", _("Poissons")
        PEANUTS = "peanuts", _("Arachides")
        SOYBEANS = "soybeans", _("Soja")
        MILK = "milk", _("Lait")
        NUTS = "nuts", _("Fruits à coque")
        CELERY = "celery", _("Céleri")
        MUSTARD = "mustard", _("Moutarde")
        SESAME = "sesame", _("Graines de sésame")
        SULPHITES = "sulphites", _("Anhydride sulfureux et sulfites")
        LUPIN = "lupin", _("Lupin")
        MOLLUSCS = "molluscs", _("Mollusques")

    code = models.CharField(_("code"), max_length=20, choices=Code.choices, unique=True)

    class Meta:
        verbose_name = _("allergène")
        verbose_name_plural = _("allergènes")
        ordering = ["id"]

    def __str__(self):
        return str(self.get_code_display())

    @property
    def name(self):
        return self.get_code_display()


class Ingredient(index.Indexed, models.Model):
    """Something a kitchen uses or sells, counted in one unit (stock and recipes use it)."""

    class Unit(models.TextChoices):
        GRAM = "g", _("grammes")
        MILLILITRE = "ml", _("millilitres")
        PIECE = "piece", _("pièces")

    name = models.CharField(_("nom"), max_length=80, unique=True)
    unit = models.CharField(_("unité"), max_length=8, choices=Unit.choices, default=Unit.GRAM)
    allergens = models.ManyToManyField(
        Allergen, verbose_name=_("allergènes"), blank=True, related_name="ingredients"
    )

    panels = [
        FieldPanel("name"),
        FieldPanel("unit"),
        FieldPanel("allergens", widget=forms.CheckboxSelectMultiple),
    ]
    search_fields = [index.SearchField("name"), index.AutocompleteField("name")]

    class Meta:
        verbose_name = _("ingrédient")
        verbose_name_plural = _("ingrédients")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Category(models.TextChoices):
    PIZZA = "pizza", _("Pizzas")
    DRINK = "drink", _("Boissons")
    DESSERT = "dessert", _("Desserts")


class ProductQuerySet(PageQuerySet):
    def for_menu(self):
        """Everything a menu card shows, in a fixed number of queries whatever the menu's size."""
        image_model = get_image_model()
        return self.select_related("photo").prefetch_related(
            Prefetch("sizes", queryset=ProductSize.objects.order_by("sort_order", "id")),
            Prefetch("ingredients", queryset=Ingredient.objects.prefetch_related("allergens")),
            Prefetch("photo", queryset=image_model.objects.prefetch_renditions()),
        )


ProductManager = PageManager.from_queryset(ProductQuerySet)


class MenuPage(Page):
    """The menu: every product of the chain, grouped by category."""

    intro = models.TextField(_("introduction"), blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]

    parent_page_types = ["home.HomePage"]
    subpage_types = ["menu.ProductPage"]
    max_count = 1
    page_description = _("La carte : regroupe les produits (pizzas, boissons, desserts).")

    class Meta:
        verbose_name = _("carte")

    def products(self):
        return ProductPage.objects.child_of(self).live().for_menu().order_by("path")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        products = list(self.products())
        context["sections"] = [
            {
                "category": value,
                "label": label,
                "products": [p for p in products if p.category == value],
            }
            for value, label in Category.choices
        ]
        return context


class ProductPage(Page):
    """A product on the menu: a pizza, a drink or a dessert, sold in one or more sizes."""

    category = models.CharField(
        _("catégorie"), max_length=10, choices=Category.choices, default=Category.PIZZA
    )
    photo = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("photo"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    summary = models.CharField(
        _("accroche"), max_length=160, blank=True, help_text=_("Une phrase affichée sur la carte.")
    )
    description = RichTextField(_("description"), blank=True, features=["bold", "italic", "link"])
    ingredients = ParentalManyToManyField(
        Ingredient, verbose_name=_("ingrédients"), blank=True, related_name="products"
    )
    is_vegetarian = models.BooleanField(_("végétarien"), default=False)
    is_spicy = models.BooleanField(_("épicé"), default=False)
    is_available = models.BooleanField(
        _("disponible"),
        default=True,
        help_text=_("Décocher pour retirer le produit de la vente dans tous les points de vente."),
    )

    objects = ProductManager()

    search_fields = Page.search_fields + [
        index.SearchField("summary"),
        index.SearchField("description"),
        index.FilterField("category"),
    ]

    content_panels = Page.content_panels + [
        FieldPanel("category"),
        FieldPanel("photo"),
        FieldPanel("summary"),
        FieldPanel("description"),
        MultiFieldPanel(
            [
                FieldRowPanel(
                    [FieldPanel("is_vegetarian"), FieldPanel("is_spicy"), FieldPanel("is_available")]
                ),
                FieldPanel("ingredients", widget=forms.CheckboxSelectMultiple),
            ],
            heading=_("Composition et étiquettes"),
        ),
        InlinePanel("sizes", heading=_("Tailles et prix"), label=_("taille"), min_num=1),
    ]

    parent_page_types = ["menu.MenuPage"]
    subpage_types = []
    page_description = _("Un produit de la carte, avec ses tailles, prix, ingrédients et allergènes.")

    class Meta:
        verbose_name = _("produit")
        verbose_name_plural = _("produits")

    @property
    def allergens(self):
        """Allergens of all ingredients, each once, in the EU list's order (uses prefetches)."""
        found = {a.id: a for ingredient in self.ingredients.all() for a in ingredient.allergens.all()}
        return [found[key] for key in sorted(found)]

    @property
    def from_price(self):
        prices = [size.price for size in self.sizes.all()]
        return min(prices) if prices else None


class ProductSize(Orderable):
    """A size a product is sold in, with its price in euros (VAT included)."""

    product = ParentalKey(ProductPage, on_delete=models.CASCADE, related_name="sizes")
    name = models.CharField(
        _("taille"), max_length=40, help_text=_("Par exemple « Moyenne (31 cm) » ou « 33 cl ».")
    )
    price = models.DecimalField(
        _("prix (€ TTC)"),
        max_digits=6,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )

    panels = [FieldRowPanel([FieldPanel("name"), FieldPanel("price")])]

    class Meta(Orderable.Meta):
        verbose_name = _("taille")
        verbose_name_plural = _("tailles")
        constraints = [
            models.CheckConstraint(condition=models.Q(price__gt=0), name="menu_productsize_price_positive"),
        ]

    def __str__(self):
        return f"{self.product.title} — {self.name}"
