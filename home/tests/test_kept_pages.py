"""Pages drawn again read only what can change without an edit (menu/catalogue.py): the site, its
pages, the promotions, the stores and the brand's settings are read once per content generation,
and any edit of them shows on the next drawing."""

import datetime
import re

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from wagtail.models import Site

from home.models import BrandSettings
from menu.tests.factories import ProductPageFactory
from stores.tests.factories import StorePageFactory
from stores.tests.pages import tables_touched

from .factories import PromotionFactory, StandardPageFactory

# What a drawing keeps ends with its minute: both drawings of a test in the same one.
pytestmark = pytest.mark.usefixtures("within_one_minute")

NOW = timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0)


def drawn(url, expect=200):
    """(html, tables read) of a request that passes the page cache by (a query string)."""
    with CaptureQueriesContext(connection) as queries:
        response = Client().get(url, HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == expect
    return response.content.decode(), tables_touched(queries.captured_queries)


def promotion_titles(html):
    return re.findall(r'promotion-card">.*?<h3>(.*?)</h3>', html, re.DOTALL)


@pytest.fixture
def home(home_page, menu_page, store_index):
    margherita = ProductPageFactory(parent=menu_page, title="Margherita")
    StorePageFactory(parent=store_index, title="OC Pizza Vaise", slug="vaise")
    PromotionFactory(title="Deuxième pizza à moitié prix")
    home_page.body = [
        ("promotions", {"heading": "Promotions du moment"}),
        ("featured_products", {"heading": "À la une", "products": [margherita]}),
        ("store_finder", {"heading": "Nos pizzerias", "text": ""}),
    ]
    home_page.save_revision().publish()
    # The brand's settings exist on a running site; a first page would create them (an edit).
    BrandSettings.objects.create(site=Site.objects.get(is_default_site=True), tagline="Pizzas de Lyon")
    return home_page


def test_the_home_page_drawn_again_reads_nothing(home):
    first, read_first = drawn("/?vu=1")
    again, read_again = drawn("/?vu=2")

    # The site, its brand settings and its restricted paths are one query (ocpizza/sites.py), named
    # here after its subquery's table.
    assert {"wagtailcore_pageviewrestriction", "home_promotion", "stores_storepage"} <= set(read_first)
    assert read_again == []  # its view restrictions too: none under the site's restricted paths
    assert again.count('class="card product-card') == 1 and "Margherita" in again
    assert promotion_titles(again) == ["Deuxième pizza à moitié prix"]
    assert ">OC Pizza Vaise</a>" in again
    assert "<p>Pizzas de Lyon</p>" in again


def test_a_product_page_drawn_again_reads_nothing(home, menu_page):
    drawn(f"{menu_page.url}margherita/?vu=1")

    html, read = drawn(f"{menu_page.url}margherita/?vu=2")

    assert read == []
    assert "<h1>Margherita</h1>" in html


def test_a_kept_promotion_shows_from_its_start_to_its_end(home):
    # Within one minute (what is kept lasts to the end of its minute at most): the clock decides.
    with time_machine.travel(NOW, tick=False):
        PromotionFactory(
            title="Soirée calzone",
            starts_at=NOW + datetime.timedelta(seconds=20),
            ends_at=NOW + datetime.timedelta(seconds=40),
        )
        before, _ = drawn("/?vu=1")
    with time_machine.travel(NOW + datetime.timedelta(seconds=30), tick=False):
        during, read = drawn("/?vu=2")
    with time_machine.travel(NOW + datetime.timedelta(seconds=50), tick=False):
        after, _ = drawn("/?vu=3")

    assert "home_promotion" not in read  # the promotions were kept: the clock alone decides
    assert promotion_titles(before) == ["Deuxième pizza à moitié prix"]
    assert promotion_titles(during) == ["Soirée calzone", "Deuxième pizza à moitié prix"]
    assert promotion_titles(after) == ["Deuxième pizza à moitié prix"]


def test_an_edited_tagline_shows_on_the_next_page(home):
    drawn("/?vu=1")

    settings = BrandSettings.objects.get()
    settings.tagline = "Les pizzas du Rhône"
    settings.save()
    html, _ = drawn("/?vu=2")

    assert "<p>Les pizzas du Rhône</p>" in html
    assert "Pizzas de Lyon" not in html


def test_a_page_published_in_the_footer_shows_on_the_next_page(home):
    drawn("/?vu=1")

    StandardPageFactory(parent=home, title="Mentions légales", slug="mentions-legales", show_in_footer=True)
    html, _ = drawn("/?vu=2")

    assert '<a href="/mentions-legales/">Mentions légales</a>' in html


def test_an_unpublished_product_is_not_found_at_once(home, menu_page):
    drawn(f"{menu_page.url}margherita/?vu=1")
    drawn(f"{menu_page.url}margherita/?vu=2")

    menu_page.get_children().get(slug="margherita").unpublish()

    drawn(f"{menu_page.url}margherita/?vu=3", expect=404)
    html, _ = drawn("/?vu=3")
    assert "Margherita" not in html


def test_a_store_added_shows_in_the_store_finder_at_once(home, store_index):
    drawn("/?vu=1")

    StorePageFactory(parent=store_index, title="OC Pizza Bellecour", slug="bellecour")
    html, _ = drawn("/?vu=2")

    assert ">OC Pizza Bellecour</a>" in html
