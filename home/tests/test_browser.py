"""Journeys a customer clicks through, in a real headless Chromium."""

import pytest

from home.tests.factories import HomePageFactory
from menu.models import Category
from menu.tests.factories import MenuPageFactory, ProductPageFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("restore_migrated_rows"),
]


@pytest.fixture
def storefront(db):
    from wagtail.models import Page, Site

    root = Page.get_first_root_node()
    home = HomePageFactory(parent=root, title="Accueil")
    Site.objects.update_or_create(is_default_site=True, defaults={"hostname": "localhost", "root_page": home})
    Page.objects.filter(depth=2).exclude(id=home.id).delete()
    menu = MenuPageFactory(parent=home)
    ProductPageFactory(
        parent=menu, title="Regina", sizes=[("Petite (26 cm)", "10.50"), ("Grande (36 cm)", "16.50")]
    )
    ProductPageFactory(parent=menu, title="Tiramisu", category=Category.DESSERT, sizes=[("Pot", "4.90")])
    return home


def test_customer_goes_from_the_home_page_to_a_pizza_and_its_price(live_server, storefront, browser_page):
    page = browser_page
    page.goto(live_server.url + "/")

    page.get_by_role("link", name="La carte").click()

    page.wait_for_url("**/carte/")
    card = page.locator(".product-card", has_text="Regina")
    assert card.locator("h3").inner_text() == "Regina"
    assert "10,50\u00a0€" in card.inner_text()
    page.get_by_role("link", name="Regina").first.click()
    page.wait_for_url("**/carte/regina/")
    assert page.locator("h1").inner_text() == "Regina"
    assert "16,50\u00a0€" in page.locator(".price-table").inner_text()
    page.go_back()
    page.wait_for_url("**/carte/")
    assert page.locator("h1").inner_text() == "La carte"
