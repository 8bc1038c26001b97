"""Where the stores' page types may be created, checked with Wagtail's own page-tree assertions.

`stores` may import `menu` but not `home`: home's page types are named through the app registry.
"""

from decimal import Decimal

from django.apps import apps
from wagtail.models import Page
from wagtail.test.utils import WagtailPageTests
from wagtail.test.utils.form_data import inline_formset, nested_form_data

from menu.models import MenuPage, ProductPage
from stores.models import StoreIndexPage, StorePage

from .factories import StoreIndexPageFactory


def page_type(label):
    return apps.get_model(label)


class StorePageTreeTests(WagtailPageTests):
    """Logged in as a superuser (`WagtailPageTests`), so only the tree's rules can refuse."""

    def setUp(self):
        super().setUp()
        home_page = page_type("home.HomePage")
        self.home = Page.get_first_root_node().add_child(instance=home_page(title="Accueil", slug="accueil"))
        self.store_index = StoreIndexPageFactory(parent=self.home)

    def test_the_store_locator_sits_under_the_home_page_only(self):
        self.assertAllowedParentPageTypes(StoreIndexPage, {page_type("home.HomePage")})

    def test_the_store_locator_holds_stores_only(self):
        self.assertAllowedSubpageTypes(StoreIndexPage, {StorePage})

    def test_a_second_store_locator_cannot_be_created(self):
        self.assertCanCreateAt(page_type("home.HomePage"), StoreIndexPage)  # the type is allowed there…
        self.assertFalse(StoreIndexPage.can_create_at(self.home))  # …but only once

    def test_a_store_sits_under_the_store_locator_only_and_holds_no_page(self):
        self.assertAllowedParentPageTypes(StorePage, {StoreIndexPage})
        self.assertAllowedSubpageTypes(StorePage, set())

    def test_stores_never_go_elsewhere_in_the_tree(self):
        for parent in (page_type("home.HomePage"), page_type("home.StandardPage"), MenuPage, ProductPage):
            with self.subTest(parent=parent.__name__):
                self.assertCanNotCreateAt(parent, StorePage)
        self.assertCanNotCreateAt(StorePage, StorePage)
        self.assertCanNotCreateAt(StoreIndexPage, StoreIndexPage)
        self.assertCanNotCreateAt(StoreIndexPage, ProductPage)

    def test_an_editor_creates_a_store_under_the_store_locator(self):
        data = nested_form_data(
            {
                "title": "OC Pizza Vaise",
                "street_address": "12 rue de Bourgogne",
                "postcode": "69009",
                "city": "Lyon",
                "phone": "04 78 00 00 09",
                "latitude": "45.774000",
                "longitude": "4.805000",
                "delivery_postcodes": "69009",
                "payment_location_id": "LOC-VAISE",
                "opening_hours": inline_formset([{"weekday": "0", "opens": "11:30", "closes": "14:30"}]),
                "delivery_bands": inline_formset([]),
                "comments": inline_formset([]),
            }
        )

        self.assertCanCreate(self.store_index, StorePage, data)

        store = StorePage.objects.child_of(self.store_index).get()
        self.assertEqual(
            (store.title, store.latitude, store.payment_location_id, store.live),
            ("OC Pizza Vaise", Decimal("45.774000"), "LOC-VAISE", True),
        )
        self.assertEqual(store.opening_hours.count(), 1)
