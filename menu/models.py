"""The catalogue: menu page, products (pages), their sizes, prices, recipes, ingredients and allergens."""

import re
from decimal import ROUND_HALF_UP, Decimal

from django import forms
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Prefetch, Q, prefetch_related_objects
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey, ParentalManyToManyField
from wagtail.admin.forms import WagtailAdminModelForm, WagtailAdminPageForm
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.fields import RichTextField
from wagtail.images import get_image_model
from wagtail.models import Orderable, Page, PageManager
from wagtail.query import PageQuerySet
from wagtail.search import index

from .catalogue import kept
from .head_office import HeadOfficeFields, HeadOfficeFieldsFormMixin, HeadOfficeFieldsMixin
from .offers import chain_offers, store_menu_provider
from .panels import PermissionedFormsetsMixin, PermissionedInlinePanel


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


CHANGE_RECIPE = "menu.change_recipe"

CENT = Decimal("0.01")
# Grams and millilitres per kilo and litre: the purchase price is per kilo, per litre or per piece.
PRICE_UNIT_SIZES = {"g": 1000, "ml": 1000, "piece": 1}


def cost_of(quantity, *, unit, purchase_price):
    """What `quantity` of an ingredient counted in `unit` costs at `purchase_price` (euros per kilo,
    litre or piece), rounded half up to the cent; None without a price."""
    if purchase_price is None:
        return None
    return (Decimal(quantity) * purchase_price / PRICE_UNIT_SIZES[unit]).quantize(
        CENT, rounding=ROUND_HALF_UP
    )


class PriceField(forms.DecimalField):
    """A price typed the French way (« 8,40 ») or with a dot; spaces between digits are ignored."""

    widget = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})

    def to_python(self, value):
        if isinstance(value, str):
            value = re.sub(r"[\s\u202f]", "", value).replace(",", ".")
        return super().to_python(value)


class IngredientForm(WagtailAdminModelForm):
    """The ingredient editor: the purchase price accepts a decimal comma. The panel's permission
    drops the field from the form of an editor without CHANGE_RECIPE (nothing they post for it
    is read)."""

    purchase_price = PriceField(required=False, min_value=Decimal("0"), max_digits=9, decimal_places=3)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "purchase_price" in self.fields:
            model_field = Ingredient._meta.get_field("purchase_price")
            self.fields["purchase_price"].label = model_field.verbose_name.capitalize()
            self.fields["purchase_price"].help_text = model_field.help_text


class Ingredient(index.Indexed, models.Model):
    """Something a kitchen uses or sells, counted in one unit (stock and recipes use it).

    The unit is fixed once a recipe, an option or a stock level counts in it (`clean`).
    """

    class Unit(models.TextChoices):
        GRAM = "g", _("grammes")
        MILLILITRE = "ml", _("millilitres")
        PIECE = "piece", _("pièces")

    # The purchase price is typed per kilo, per litre or per piece (what suppliers' invoices
    # show) while stock and recipes count in grams, millilitres or pieces: `cost_of` converts.
    PRICE_LABELS = {Unit.GRAM: _("€ / kg"), Unit.MILLILITRE: _("€ / litre"), Unit.PIECE: _("€ / pièce")}

    name = models.CharField(_("nom"), max_length=80, unique=True)
    unit = models.CharField(_("unité"), max_length=8, choices=Unit.choices, default=Unit.GRAM)
    allergens = models.ManyToManyField(
        Allergen, verbose_name=_("allergènes"), blank=True, related_name="ingredients"
    )
    purchase_price = models.DecimalField(
        _("prix d'achat HT"),
        max_digits=9,
        decimal_places=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_(
            "En euros hors taxes par kilo (ingrédient compté en grammes), par litre (en millilitres) "
            "ou par pièce, par exemple « 12,50 ». Vide : les écarts de consommation de cet "
            "ingrédient ne sont donnés qu'en quantité."
        ),
    )

    panels = [
        FieldPanel("name"),
        FieldPanel("unit"),
        FieldPanel("allergens", widget=forms.CheckboxSelectMultiple),
        # An operational figure (food cost): head office's, never marketing's.
        FieldPanel("purchase_price", permission=CHANGE_RECIPE),
    ]
    base_form_class = IngredientForm
    search_fields = [index.SearchField("name"), index.AutocompleteField("name")]

    class Meta:
        verbose_name = _("ingrédient")
        verbose_name_plural = _("ingrédients")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        saved_unit = Ingredient.objects.filter(pk=self.pk).values_list("unit", flat=True).first()
        if saved_unit and self.unit != saved_unit and self.is_counted():
            raise ValidationError(
                {
                    "unit": _(
                        "Impossible de changer l'unité d'un ingrédient déjà utilisé dans une recette, "
                        "une option ou un stock : les quantités enregistrées changeraient de sens. "
                        "Créez un nouvel ingrédient."
                    )
                }
            )

    @property
    def price_label(self):
        """« € / kg », « € / litre » or « € / pièce »: what `purchase_price` is per."""
        return self.PRICE_LABELS[self.unit]

    def cost_of(self, quantity):
        """What `quantity` (in the ingredient's unit) costs, in euros rounded to the cent, or None
        without a purchase price."""
        return cost_of(quantity, unit=self.unit, purchase_price=self.purchase_price)

    def is_counted(self):
        """Whether quantities in this ingredient's unit are recorded: recipes, options or stock.

        `stock_levels` is the stores app's relation (movements belong to a level); menu reads it
        without importing stores.
        """
        return self.recipe_lines.exists() or self.extras.exists() or self.stock_levels.exists()


class Category(models.TextChoices):
    PIZZA = "pizza", _("Pizzas")
    DRINK = "drink", _("Boissons")
    DESSERT = "dessert", _("Desserts")


# French VAT rates (percent) a product may be sold at; prices are VAT included.
VAT_RATES = [
    (Decimal("5.50"), _("5,5 %")),
    (Decimal("10.00"), _("10 %")),
    (Decimal("20.00"), _("20 %")),
]
DEFAULT_VAT_RATE = Decimal("10.00")


def renditions_prefetch(image_field):
    """The renditions of the image in `image_field` (a relation already `select_related`), in one query.

    `Prefetch(image_field, queryset=Image.objects.prefetch_renditions())` does nothing once the image
    is joined by `select_related`: Django sees the image loaded and skips that prefetch, and every
    `{% image %}` then asks for its rendition alone. Prefetching through the relation fills the
    list `Image.get_rendition` reads (`prefetched_renditions`) on the joined images.
    """
    rendition_model = get_image_model().get_rendition_model()
    return Prefetch(
        f"{image_field}__renditions", queryset=rendition_model.objects.all(), to_attr="prefetched_renditions"
    )


def fill_renditions(images):
    """Read the renditions of `images` (some may be None, or repeat) in one query, where
    `Image.get_rendition` looks for them (`prefetched_renditions`): for a page showing images read
    by several queries (a hero, product photos, promotions), one query instead of one per batch.
    Images whose renditions were read already are left as they are."""
    waiting = {}
    for image in images:
        if image is not None and getattr(image, "prefetched_renditions", None) is None:
            waiting.setdefault(image.pk, []).append(image)
    if not waiting:
        return
    found = {pk: [] for pk in waiting}
    for rendition in get_image_model().get_rendition_model().objects.filter(image_id__in=waiting):
        rendition.image = waiting[rendition.image_id][0]  # its image, which its URL reads: no query
        found[rendition.image_id].append(rendition)
    for pk, same in waiting.items():
        for image in same:
            image.prefetched_renditions = list(found[pk])


def menu_card_prefetches(*, renditions=True):
    """What a menu card reads: sizes and the photo's renditions (a card names no ingredient;
    `renditions=False` for a page that reads them with its other images: `fill_renditions`).

    Fresh `Prefetch` objects on each call: Django may adjust them while prefetching.
    """
    sizes = Prefetch("sizes", queryset=ProductSize.objects.order_by("sort_order", "id"))
    return [sizes, renditions_prefetch("photo")] if renditions else [sizes]


def recipe_lines_prefetch(*, allergens=True):
    """The recipe, each line with its ingredient (joined) and, unless told not to, the
    ingredient's allergens."""
    lines = RecipeLine.objects.order_by("sort_order", "id").select_related("ingredient")
    return Prefetch(
        "recipe_lines", queryset=lines.prefetch_related("ingredient__allergens") if allergens else lines
    )


def extras_prefetch(*, allergens=True):
    """The options, each with its ingredient (joined) and, unless told not to, the ingredient's
    allergens."""
    extras = ProductExtra.objects.order_by("sort_order", "id").select_related("ingredient")
    return Prefetch(
        "extras", queryset=extras.prefetch_related("ingredient__allergens") if allergens else extras
    )


# Recipes, options, preparation, availability and recipe factors drive the kitchens and the stock:
# head office edits them (ocpizza.roles), marketing edits the rest of a product.


class ProductQuerySet(PageQuerySet):
    def for_menu(self, *, renditions=True):
        """Everything a menu card shows, in a fixed number of queries whatever the menu's size
        (`renditions=False`: but the photos' renditions, read with the page's other images)."""
        return self.select_related("photo").prefetch_related(*menu_card_prefetches(renditions=renditions))

    def with_recipes(self, *, allergens=True):
        """The menu's prefetches plus recipes and extras with their ingredients (still bounded);
        `allergens=False` leaves out the ingredients' allergens (a store's menu shows none)."""
        return self.for_menu().prefetch_related(
            recipe_lines_prefetch(allergens=allergens), extras_prefetch(allergens=allergens)
        )


ProductManager = PageManager.from_queryset(ProductQuerySet)


class OneChildTypeRouteMixin:
    """Find a child page in one query instead of Wagtail's two (the page, then its specific row).

    Wagtail's `Page.route` reads the child by slug as a plain `Page`, then loads its specific
    class. A parent whose children are all of one type (`subpage_types`) returns them from
    `typed_children()` (with what the child's page needs joined), and one typed query reads the
    child. Any other child (a page created outside the admin's rules) is still found the generic way.
    A child found is kept per content generation (`menu.catalogue`): a page drawn again reads none.
    """

    def typed_children(self):
        raise NotImplementedError

    def route(self, request, path_components):
        if path_components:
            child = kept(
                request,
                ("typed child", self.pk, path_components[0]),
                lambda: self.typed_children().filter(slug=path_components[0]).first(),
                keep_none=False,
            )
            if child is not None:
                child._cached_parent_obj = self  # as Wagtail does: its parent needs no query
                child.restricted_paths = getattr(self, "restricted_paths", None)  # same generation
                return child.route(request, path_components[1:])
        return super().route(request, path_components)


class JoinedChildRouteMixin:
    """Find a child page of any of the allowed types in one query instead of Wagtail's two.

    For a parent whose children are of several types (the home page): the child is read by slug
    with each allowed type's row joined, and served as the type whose row is there. A child of
    any other type is still found the generic way. A child found is kept per content generation.
    """

    def route(self, request, path_components):
        if path_components:
            links = []
            for model in self.allowed_subpage_models():
                link = model._meta.parents.get(Page)  # the child's row, joined from `Page`
                if link is not None:
                    links.append(link.remote_field.get_accessor_name())
            page = kept(
                request,
                ("child", self.pk, path_components[0]),
                lambda: self.get_children().filter(slug=path_components[0]).select_related(*links).first(),
                keep_none=False,
            )
            for name in links if page is not None else ():
                try:
                    child = getattr(page, name)
                except ObjectDoesNotExist:
                    continue
                if page.content_type_id != ContentType.objects.get_for_model(child).id:
                    break  # a subclass of that type: its own row is not joined, Wagtail finds it
                child._cached_parent_obj = self  # as Wagtail does: its parent needs no query
                child.restricted_paths = getattr(self, "restricted_paths", None)  # same generation
                return child.route(request, path_components[1:])
        return super().route(request, path_components)


class OneQueryViewRestrictionsMixin:
    """Read a page's view restrictions in one query instead of Wagtail's two (its ancestors, then
    their restrictions): those of the page and of its ancestors, an alias taking its source page's
    (as Wagtail's `Page.get_view_restrictions`, which Wagtail checks before serving any page)."""

    # The tree paths under a view restriction (a superset: `ocpizza.sites.restricted_paths_sql`),
    # when the page was found through a root page read with them for this content generation (a
    # new restriction, or a page moved, is a new generation); None: unknown, the query is made.
    restricted_paths = None

    def get_view_restrictions(self):
        from wagtail.models import PageViewRestriction

        step = self.steplen
        paths = [self.path[:end] for end in range(step, len(self.path) + 1, step)]
        if self.restricted_paths is not None and self.restricted_paths.isdisjoint(paths):
            return PageViewRestriction.objects.none()  # neither it nor an ancestor is restricted
        return PageViewRestriction.objects.filter(
            Q(page__path__in=paths, page__alias_of__isnull=True) | Q(page__aliases__path__in=paths)
        ).distinct()


class MenuPage(RoutablePageMixin, OneChildTypeRouteMixin, OneQueryViewRestrictionsMixin, Page):
    """The menu: every product of the chain, grouped by category.

    `/carte/` is the chain-wide menu; `/carte/pizzeria/<store slug>/` is one store's menu, where what the
    store cannot make right now is greyed out (see `stores.availability`).
    """

    intro = models.TextField(_("introduction"), blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]

    parent_page_types = ["home.HomePage"]
    subpage_types = ["menu.ProductPage"]
    max_count = 1
    page_description = _("La carte : regroupe les produits (pizzas, boissons, desserts).")

    class Meta:
        verbose_name = _("carte")

    def typed_children(self):
        return ProductPage.objects.child_of(self).select_related("photo")

    def products(self):
        return ProductPage.objects.child_of(self).live().for_menu().order_by("path")

    def store_menu_url(self, store, request=None):
        """A store's menu (with `request`, its links are written from the request's site, which
        the page cache's middleware read with the catalogue: no query)."""
        return self.get_url(request) + self.reverse_subpage("store_menu", kwargs={"store_slug": store.slug})

    @staticmethod
    def sections(offers):
        """Offers grouped by category, in the order of `Category`."""
        return [
            {
                "category": value,
                "label": label,
                "products": [offer for offer in offers if offer.product.category == value],
            }
            for value, label in Category.choices
        ]

    def store_links(self, request=None):
        provider = store_menu_provider()
        return provider.store_links(self, request) if provider else []

    @path("")
    def chain_menu(self, request):
        products = kept(request, ("menu products", self.pk), lambda: list(self.products()))
        offers = chain_offers(products)
        return self.render(
            request,
            context_overrides={"sections": self.sections(offers), "store_links": self.store_links(request)},
        )

    # Under a prefix so a store slug never shadows a product page (/carte/<product slug>/).
    @path("pizzeria/<slug:store_slug>/", name="store_menu")
    def store_menu(self, request, store_slug):
        provider = store_menu_provider()
        if provider is None:
            raise Http404
        context = provider.store_menu_context(self, request, store_slug)
        context["store_links"] = self.store_links(request)
        return self.render(request, context_overrides=context)


class ProductPageForm(HeadOfficeFieldsFormMixin, PermissionedFormsetsMixin, WagtailAdminPageForm):
    """The product editor's form: the product's ingredients are those of its recipe.

    Editors write the recipe once; the ingredient list customers read (and the allergens derived
    from it) follows the recipe, so the two cannot disagree. The recipe, options and preparation
    are left out of the form of a user without `menu.change_recipe`, and that user edits from the
    live values of those fields (`menu.head_office`), never from the revision's.
    """

    def save(self, commit=True):
        page = super().save(commit=False)
        page.ingredients = sorted(
            {line.ingredient for line in page.recipe_lines.all() if line.ingredient_id},
            key=lambda ingredient: ingredient.name,
        )
        if commit:
            page.save()
        return page


class ProductPage(HeadOfficeFieldsMixin, OneQueryViewRestrictionsMixin, Page):
    """A product on the menu: a pizza, a drink or a dessert, sold in one or more sizes.

    Its recipe (`recipe_lines`) gives the quantity of each ingredient for the reference size;
    each size scales it by its `recipe_factor`. `ingredients` is derived from the recipe when the
    page is saved in the admin (see `ProductPageForm`). The recipe, options, preparation,
    availability and recipe factors go live only from a revision by a holder of
    `menu.change_recipe`, whatever the path (`head_office_fields`, see `menu.head_office`).
    """

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
    vat_rate = models.DecimalField(
        _("taux de TVA (%)"),
        max_digits=4,
        decimal_places=2,
        choices=VAT_RATES,
        default=DEFAULT_VAT_RATE,
        help_text=_(
            "10 % pour les plats et les boissons sans alcool servis pour une consommation immédiate, "
            "20 % pour les boissons alcoolisées. Chaque ligne de commande garde le taux du jour."
        ),
    )

    objects = ProductManager()

    search_fields = Page.search_fields + [
        index.SearchField("summary"),
        index.SearchField("description"),
        index.FilterField("category"),
    ]

    content_panels = Page.content_panels + [
        FieldRowPanel([FieldPanel("category"), FieldPanel("vat_rate")]),
        FieldPanel("photo"),
        FieldPanel("summary"),
        FieldPanel("description"),
        MultiFieldPanel(
            [
                FieldRowPanel(
                    [
                        FieldPanel("is_vegetarian"),
                        FieldPanel("is_spicy"),
                        FieldPanel("is_available", permission=CHANGE_RECIPE),
                    ]
                ),
            ],
            heading=_("Étiquettes"),
        ),
        PermissionedInlinePanel(
            "sizes",
            heading=_("Tailles et prix"),
            label=_("taille"),
            min_num=1,
            help_text=_(
                "Prix TTC de chaque taille. Le coefficient de recette (réglé par le siège) multiplie "
                "les quantités de la recette : 1,00 pour la taille de référence, par exemple 1,40 "
                "pour une moyenne et 1,90 pour une grande."
            ),
        ),
        PermissionedInlinePanel(
            "recipe_lines",
            permission=CHANGE_RECIPE,
            heading=_("Recette (taille de référence)"),
            label=_("ingrédient"),
            help_text=_(
                "Quantité de chaque ingrédient pour la taille de coefficient 1,00, dans l'unité de "
                "l'ingrédient. Les ingrédients et allergènes affichés aux clients en découlent. "
                "Une boisson ou un dessert est son propre ingrédient : 1 pièce."
            ),
        ),
        PermissionedInlinePanel(
            "extras", permission=CHANGE_RECIPE, heading=_("Suppléments et retraits"), label=_("option")
        ),
        PermissionedInlinePanel(
            "preparation_steps",
            permission=CHANGE_RECIPE,
            heading=_("Préparation (pizzaiolo)"),
            label=_("étape"),
        ),
    ]
    base_form_class = ProductPageForm
    head_office_fields = HeadOfficeFields(
        permission=CHANGE_RECIPE,
        fields=("is_available", "ingredients"),  # ingredients follow the recipe
        relations=("recipe_lines", "extras", "preparation_steps"),
        child_fields={"sizes": ("recipe_factor",)},
    )

    parent_page_types = ["menu.MenuPage"]
    subpage_types = []
    page_description = _("Un produit de la carte, avec ses tailles, prix, ingrédients et allergènes.")

    class Meta:
        verbose_name = _("produit")
        verbose_name_plural = _("produits")
        permissions = [("change_recipe", _("Peut modifier les recettes, options et disponibilités"))]

    def get_context(self, request, *args, **kwargs):
        # The template reads sizes, ingredients and options with their allergens: load them in a
        # fixed number of queries. A preview's page holds the editor's unsaved relations in
        # memory, which a prefetch would replace with the saved ones, so it is left alone.
        if not getattr(request, "is_preview", False):
            prefetch_related_objects(
                [self],
                *menu_card_prefetches(),
                Prefetch("ingredients", queryset=Ingredient.objects.all()),
                extras_prefetch(allergens=False),
            )
            # The allergens of the ingredients and of the options' ingredients, in one query.
            ingredients = [*self.ingredients.all(), *(extra.ingredient for extra in self.extras.all())]
            prefetch_related_objects(ingredients, "allergens")
        return super().get_context(request, *args, **kwargs)

    @property
    def allergens(self):
        """Allergens of all ingredients, each once, in the EU list's order (uses prefetches)."""
        found = {a.id: a for ingredient in self.ingredients.all() for a in ingredient.allergens.all()}
        return [found[key] for key in sorted(found)]

    @property
    def from_price(self):
        prices = [size.price for size in self.sizes.all()]
        return min(prices) if prices else None

    def allergens_with(self, extras):
        """Allergens once the chosen extras are applied (uses the `with_recipes` prefetches)."""
        from .recipes import allergens_for

        return allergens_for(self, extras)


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
    recipe_factor = models.DecimalField(
        _("coefficient de recette"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("1.00"),
        validators=[MinValueValidator(Decimal("0.01"))],
    )

    panels = [
        FieldRowPanel(
            [FieldPanel("name"), FieldPanel("price"), FieldPanel("recipe_factor", permission=CHANGE_RECIPE)]
        )
    ]

    class Meta(Orderable.Meta):
        verbose_name = _("taille")
        verbose_name_plural = _("tailles")
        constraints = [
            models.CheckConstraint(condition=models.Q(price__gt=0), name="menu_productsize_price_positive"),
            models.CheckConstraint(
                condition=models.Q(recipe_factor__gt=0), name="menu_productsize_recipe_factor_positive"
            ),
        ]

    def __str__(self):
        return f"{self.product.title} — {self.name}"


class RecipeLine(Orderable):
    """How much of one ingredient the product uses in its reference size (recipe factor 1.00)."""

    product = ParentalKey(ProductPage, on_delete=models.CASCADE, related_name="recipe_lines")
    ingredient = models.ForeignKey(
        Ingredient, on_delete=models.PROTECT, related_name="recipe_lines", verbose_name=_("ingrédient")
    )
    quantity = models.PositiveIntegerField(
        _("quantité"),
        validators=[MinValueValidator(1)],
        help_text=_("En grammes, millilitres ou pièces selon l'unité de l'ingrédient."),
    )

    panels = [FieldRowPanel([FieldPanel("ingredient"), FieldPanel("quantity")])]

    class Meta(Orderable.Meta):
        verbose_name = _("ligne de recette")
        verbose_name_plural = _("recette")
        constraints = [
            models.UniqueConstraint(fields=["product", "ingredient"], name="menu_recipeline_unique"),
            models.CheckConstraint(
                condition=models.Q(quantity__gt=0), name="menu_recipeline_quantity_positive"
            ),
        ]

    def __str__(self):
        return f"{self.quantity} {self.ingredient.get_unit_display()} {self.ingredient}"


class ProductExtra(Orderable):
    """An option a customer may pick: add an ingredient (a supplement) or leave one out.

    An added ingredient uses `quantity` for the reference size, scaled like the recipe. A removed
    ingredient drops its recipe line entirely (`quantity` is not used) and usually costs nothing.
    """

    class Kind(models.TextChoices):
        ADD = "add", _("supplément")
        REMOVE = "remove", _("retrait")

    product = ParentalKey(ProductPage, on_delete=models.CASCADE, related_name="extras")
    name = models.CharField(
        _("libellé"), max_length=60, help_text=_("Par exemple « Supplément mozzarella » ou « Sans oignons ».")
    )
    kind = models.CharField(_("type"), max_length=8, choices=Kind.choices, default=Kind.ADD)
    ingredient = models.ForeignKey(
        Ingredient, on_delete=models.PROTECT, related_name="extras", verbose_name=_("ingrédient")
    )
    quantity = models.PositiveIntegerField(
        _("quantité"), default=0, help_text=_("Pour un supplément, quantité ajoutée (taille de référence).")
    )
    price = models.DecimalField(_("prix (€ TTC)"), max_digits=6, decimal_places=2, default=Decimal("0.00"))

    panels = [
        FieldRowPanel([FieldPanel("name"), FieldPanel("kind")]),
        FieldRowPanel([FieldPanel("ingredient"), FieldPanel("quantity"), FieldPanel("price")]),
    ]

    class Meta(Orderable.Meta):
        verbose_name = _("option")
        verbose_name_plural = _("options")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(price__gte=0), name="menu_productextra_price_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(kind="remove") | models.Q(quantity__gt=0),
                name="menu_productextra_added_quantity_positive",
            ),
        ]

    def clean(self):
        if self.kind == self.Kind.ADD and not self.quantity:
            raise ValidationError({"quantity": _("Un supplément doit avoir une quantité positive.")})

    def __str__(self):
        return self.name


class PreparationStep(Orderable):
    """One step of the pizzaiolo's preparation, in order, with an optional photo."""

    product = ParentalKey(ProductPage, on_delete=models.CASCADE, related_name="preparation_steps")
    text = models.TextField(_("consigne"), help_text=_("Par exemple « Étaler 80 g de sauce tomate »."))
    image = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("photo"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    panels = [FieldPanel("text"), FieldPanel("image")]

    class Meta(Orderable.Meta):
        verbose_name = _("étape de préparation")
        verbose_name_plural = _("étapes de préparation")

    def __str__(self):
        return self.text[:60]


class ContentToken(models.Model):
    """A token that every change of content replaces, one row per writer (a thread of a process),
    written inside the change's own transaction when it has one (`menu.catalogue.
    new_database_token`, from the page cache's receivers); the database's token is all rows read
    at once (`database_token`).

    What an order keeps of the catalogue is kept under it (`menu.catalogue`): a price, a store's
    hours or settings edited and committed is a new token for the next order, with no cache in
    between that could refuse the write. A row per writer, not one row for all: two editors'
    transactions never wait for each other on it. Written by hand, never with `save()` (no
    signal: this model is not shown on a page)."""

    writer = models.CharField(max_length=200, unique=True)
    token = models.CharField(max_length=32)
    written_at = models.DateTimeField()

    class Meta:
        verbose_name = _("jeton du contenu")
        verbose_name_plural = _("jetons du contenu")

    def __str__(self):
        return f"{self.writer}: {self.token}"
