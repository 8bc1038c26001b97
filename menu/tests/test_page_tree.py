"""Where the menu's page types may be created, checked with Wagtail's own page-tree assertions.

`menu` must not import `stores` or `home`: their page types are named through the app registry.
"""

from decimal import Decimal

from django.apps import apps
from wagtail.models import Page
from wagtail.test.utils import WagtailPageTests
from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text

from menu.models import MenuPage, ProductPage

from .factories import MenuPageFactory


def page_type(label):
    return apps.get_model(label)


class MenuPageTreeTests(WagtailPageTests):
    """Logged in as a superuser (`WagtailPageTests`), so only the tree's rules can refuse."""

    def setUp(self):
        super().setUp()
        home_page = page_type("home.HomePage")
        self.home = Page.get_first_root_node().add_child(instance=home_page(title="Accueil", slug="accueil"))
        self.menu = MenuPageFactory(parent=self.home)

    def test_the_menu_sits_under_the_home_page_only(self):
        self.assertAllowedParentPageTypes(MenuPage, {page_type("home.HomePage")})

    def test_the_menu_holds_products_only(self):
        self.assertAllowedSubpageTypes(MenuPage, {ProductPage})

    def test_a_second_menu_cannot_be_created(self):
        self.assertCanCreateAt(page_type("home.HomePage"), MenuPage)  # the type is allowed there…
        self.assertFalse(MenuPage.can_create_at(self.home))  # …but only once

    def test_a_product_sits_under_the_menu_only_and_holds_no_page(self):
        self.assertAllowedParentPageTypes(ProductPage, {MenuPage})
        self.assertAllowedSubpageTypes(ProductPage, set())

    def test_products_never_go_elsewhere_in_the_tree(self):
        for parent in ("home.HomePage", "home.StandardPage", "stores.StoreIndexPage", "stores.StorePage"):
            with self.subTest(parent=parent):
                self.assertCanNotCreateAt(page_type(parent), ProductPage)
        self.assertCanNotCreateAt(ProductPage, ProductPage)
        self.assertCanNotCreateAt(MenuPage, MenuPage)

    def test_an_editor_creates_a_product_under_the_menu(self):
        data = nested_form_data(
            {
                "title": "Calzone",
                "category": "pizza",
                "vat_rate": "20.00",
                "summary": "Le chausson.",
                "description": rich_text("<p>Pliée en deux.</p>"),
                "is_available": "on",
                "sizes": inline_formset([{"name": "Unique", "price": "12.00", "recipe_factor": "1.00"}]),
                "recipe_lines": inline_formset([]),
                "extras": inline_formset([]),
                "preparation_steps": inline_formset([]),
                "comments": inline_formset([]),
            }
        )

        self.assertCanCreate(self.menu, ProductPage, data)

        product = ProductPage.objects.child_of(self.menu).get()
        self.assertEqual((product.title, product.live), ("Calzone", True))
        sizes = [(size.name, size.price) for size in product.sizes.all()]
        self.assertEqual(sizes, [("Unique", Decimal("12.00"))])
        self.assertEqual(product.vat_rate, Decimal("20.00"))
