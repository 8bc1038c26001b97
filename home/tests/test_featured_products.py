"""The home page's featured products: read once, with their cards, and only the live ones shown."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from menu.tests.factories import ProductPageFactory

pytestmark = pytest.mark.django_db


def feature(home, products):
    home.body = [("featured_products", {"heading": "À la une", "products": products})]
    home.save_revision().publish()


def card_titles(response):
    return [product.title for product in response.context["products"]]


def test_the_chosen_products_are_shown_in_the_editors_order(client, home_page, menu_page):
    reine = ProductPageFactory(parent=menu_page, title="Reine")
    margherita = ProductPageFactory(parent=menu_page, title="Margherita")
    feature(home_page, [margherita, reine])

    response = client.get("/")

    assert card_titles(response) == ["Margherita", "Reine"]
    assert response.content.decode().count('class="card product-card') == 2


def test_a_product_taken_off_the_site_is_not_shown(client, home_page, menu_page):
    reine = ProductPageFactory(parent=menu_page, title="Reine")
    margherita = ProductPageFactory(parent=menu_page, title="Margherita")
    feature(home_page, [margherita, reine])
    reine.unpublish()

    assert card_titles(client.get("/")) == ["Margherita"]


def test_a_product_chosen_twice_is_shown_twice(client, home_page, menu_page):
    margherita = ProductPageFactory(parent=menu_page, title="Margherita")
    feature(home_page, [margherita, margherita])

    response = client.get("/")

    assert card_titles(response) == ["Margherita", "Margherita"]
    first, second = response.context["products"]
    assert first is not second


def test_the_products_are_read_once_with_their_cards(home_page, menu_page):
    products = [ProductPageFactory(parent=menu_page, title=f"Pizza {index}") for index in range(3)]
    feature(home_page, products)
    home = type(home_page).objects.get(id=home_page.id)

    with CaptureQueriesContext(connection) as queries:
        chosen = home.body[0].value["products"]
        [list(product.sizes.all()) for product in chosen]  # what a card shows (no ingredient)

    tables = [query["sql"].split(" FROM ")[1].split()[0] for query in queries.captured_queries]
    assert tables == ['"menu_productpage"', '"menu_productsize"']
