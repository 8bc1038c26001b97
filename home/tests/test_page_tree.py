"""Where home's page types may be created, checked with Wagtail's own page-tree assertions."""

from wagtail.models import Page
from wagtail.test.utils import WagtailPageTests
from wagtail.test.utils.form_data import nested_form_data, streamfield

from home.models import HomePage, StandardPage
from menu.models import MenuPage, ProductPage
from stores.models import StoreIndexPage, StorePage

from .factories import HomePageFactory, StandardPageFactory


class HomePageTreeTests(WagtailPageTests):
    """Logged in as a superuser (`WagtailPageTests`), so only the tree's rules can refuse."""

    def setUp(self):
        super().setUp()
        self.home = HomePageFactory(parent=Page.get_first_root_node())

    def test_the_home_page_sits_only_at_the_root(self):
        self.assertAllowedParentPageTypes(HomePage, {Page})

    def test_the_home_page_holds_the_menu_the_store_locator_and_standard_pages(self):
        self.assertAllowedSubpageTypes(HomePage, {MenuPage, StoreIndexPage, StandardPage})

    def test_a_second_home_page_cannot_be_created(self):
        self.assertCanCreateAt(Page, HomePage)  # the type is allowed there…
        self.assertFalse(HomePage.can_create_at(Page.get_first_root_node()))  # …but only once

    def test_standard_pages_go_under_the_home_page_or_another_standard_page(self):
        self.assertAllowedParentPageTypes(StandardPage, {HomePage, StandardPage})
        self.assertAllowedSubpageTypes(StandardPage, {StandardPage})

    def test_standard_pages_never_go_under_the_menu_the_stores_or_their_pages(self):
        for parent in (MenuPage, ProductPage, StoreIndexPage, StorePage):
            with self.subTest(parent=parent.__name__):
                self.assertCanNotCreateAt(parent, StandardPage)

    def test_catalogue_and_store_pages_never_go_directly_under_the_home_page(self):
        self.assertCanNotCreateAt(HomePage, ProductPage)
        self.assertCanNotCreateAt(HomePage, StorePage)
        self.assertCanNotCreateAt(HomePage, HomePage)

    def test_an_editor_creates_a_legal_notice_under_the_home_page(self):
        data = nested_form_data(
            {
                "title": "Mentions légales",
                "intro": "Qui édite ce site.",
                "body": streamfield([]),
                "show_in_footer": "on",
            }
        )

        self.assertCanCreate(self.home, StandardPage, data)

        page = StandardPage.objects.child_of(self.home).get()
        self.assertEqual((page.title, page.slug, page.live), ("Mentions légales", "mentions-legales", True))

    def test_a_terms_of_sale_page_nests_under_the_legal_notice(self):
        legal = StandardPageFactory(parent=self.home, title="Mentions légales")

        self.assertCanCreate(legal, StandardPage, nested_form_data({"title": "CGV", "body": streamfield([])}))

        self.assertEqual(StandardPage.objects.child_of(legal).get().title, "CGV")
