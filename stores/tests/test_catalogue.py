"""The catalogue read once per content generation (menu/catalogue.py): a page drawn again reads
only what a sale can change, and every change of content is read at once."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from wagtail.models import Site

from home.models import BrandSettings
from menu.tests.factories import product_with_recipe
from stores.availability import stock_and_withdrawals
from stores.models import ProductWithdrawal, StockLevel
from stores.services import record_waste

from .pages import card_of, store_menu, tables_touched

# What a drawing keeps ends with its minute: both drawings of a test in the same one.
pytestmark = pytest.mark.usefixtures("within_one_minute")


def drawn(client, url):
    """(response, tables read) of one request: every table its queries name after FROM or JOIN."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 200
    return response, tables_touched(queries.captured_queries)


@pytest.fixture
def shop(shop, bellecour):
    """The shop of stores/tests/conftest.py, a second store, and the brand's settings: they exist
    on a running site; a first page would create them (an edit, which starts a new generation)."""
    BrandSettings.for_site(Site.objects.get(is_default_site=True))
    return shop


def test_a_store_menu_drawn_again_reads_only_the_stock(menu_page, shop):
    # A query string passes the page cache by: every request draws the page (as for a visitor
    # with a cart, or a store's menu after a sale).
    first, read_first = drawn(Client(), store_menu(menu_page) + "?vu=1")
    again, read_again = drawn(Client(), store_menu(menu_page) + "?vu=2")

    assert first["X-Page-Cache"] == again["X-Page-Cache"] == "bypass"
    catalogue_tables = {"menu_productsize", "menu_recipeline", "menu_productextra", "stores_storepage"}
    assert catalogue_tables <= set(read_first)
    assert not catalogue_tables & set(read_again)
    # The stock levels with the withdrawals (one union), every table named: no restriction read.
    assert read_again == ["stores_stocklevel", "stores_productwithdrawal"]
    html = again.content.decode()
    assert "Grande — 13,00\u00a0€" in card_of(html, "margherita")
    assert f'class="tag" href="{store_menu(menu_page)}" aria-current="page">OC Pizza Vaise</a>' in html


def stock_levels(store, ingredient_ids=None):
    """What the two reads the union replaced gave: the free levels..."""
    levels = StockLevel.objects.filter(store=store)
    if ingredient_ids is not None:
        levels = levels.filter(ingredient_id__in=ingredient_ids)
    return {row.ingredient_id: max(row.on_hand - row.reserved, 0) for row in levels}


def withdrawn_products(store):
    """...and the open withdrawals."""
    return set(ProductWithdrawal.objects.active().filter(store=store).values_list("product_id", flat=True))


def test_the_stock_and_the_withdrawals_are_read_in_one_query(menu_page, shop, vaise, bellecour, dough):
    focaccia = menu_page.get_children().get(slug="focaccia").specific
    ProductWithdrawal.objects.create(store=vaise, product=shop, reason="Four en panne")
    ProductWithdrawal.objects.create(store=vaise, product=focaccia, restored_at=timezone.now())  # closed
    ProductWithdrawal.objects.create(store=bellecour, product=focaccia)  # another store's
    StockLevel.objects.filter(store=vaise, ingredient=dough).update(reserved=Decimal("800"))

    with CaptureQueriesContext(connection) as queries:
        free, withdrawn = stock_and_withdrawals(vaise)

    assert len(queries.captured_queries) == 1
    assert (free, withdrawn) == (stock_levels(vaise), withdrawn_products(vaise))
    assert withdrawn == {shop.pk}
    assert free[dough.pk] == Decimal("4200")
    # Only the levels asked for (a cart's check), and none when none are asked: the withdrawals still.
    assert stock_and_withdrawals(vaise, [dough.pk]) == ({dough.pk: 4200}, {shop.pk})
    assert stock_and_withdrawals(vaise, {dough.pk}) == (stock_levels(vaise, [dough.pk]), {shop.pk})
    assert stock_and_withdrawals(vaise, []) == ({}, {shop.pk})


def test_the_chain_menu_drawn_again_reads_no_product(menu_page, shop):
    drawn(Client(), menu_page.url + "?vu=1")

    again, read = drawn(Client(), menu_page.url + "?vu=2")

    assert not {"menu_productsize", "stores_storepage", "wagtailimages_rendition"} & set(read)
    assert len(read) <= 5
    assert "Margherita" in card_of(again.content.decode(), "margherita")


def test_a_sale_that_sells_out_shows_on_the_next_drawing(menu_page, shop, vaise, cheese):
    drawn(Client(), store_menu(menu_page) + "?vu=1")

    record_waste(store=vaise, lines=[(cheese, 950)], user=None)  # 50 g left: no Margherita
    again, _ = drawn(Client(), store_menu(menu_page) + "?vu=2")

    margherita = card_of(again.content.decode(), "margherita")
    assert "is-unavailable" in margherita.split(">")[0]
    assert "Plus de mozzarella" in margherita


def test_a_published_price_is_shown_on_the_next_drawing(menu_page, shop):
    drawn(Client(), store_menu(menu_page) + "?vu=1")

    sizes = list(shop.sizes.all())
    for size in sizes:
        if size.name == "Grande":
            size.price = Decimal("11.50")
    shop.sizes = sizes  # as the page editor's form does: the revision holds the sizes
    shop.save_revision().publish()
    again, _ = drawn(Client(), store_menu(menu_page) + "?vu=2")
    chain, _ = drawn(Client(), menu_page.url + "?vu=2")

    assert "Grande — 11,50\u00a0€" in card_of(again.content.decode(), "margherita")
    assert "13,00" not in card_of(again.content.decode(), "margherita")
    assert "11,50" in card_of(chain.content.decode(), "margherita")


def test_an_unpublished_store_leaves_the_picker_and_its_menu_at_once(client, menu_page, shop, bellecour):
    first, _ = drawn(Client(), store_menu(menu_page) + "?vu=1")
    assert "OC Pizza Bellecour" in first.content.decode()

    bellecour.unpublish()
    again, _ = drawn(Client(), store_menu(menu_page) + "?vu=2")

    assert "OC Pizza Bellecour" not in again.content.decode()
    assert client.get(f"{menu_page.url}pizzeria/bellecour/?vu=2").status_code == 404


def test_a_new_product_is_on_the_next_drawing(menu_page, shop, dough):
    drawn(Client(), store_menu(menu_page) + "?vu=1")

    product_with_recipe(menu_page, title="Calzone", recipe={dough: 250})
    again, _ = drawn(Client(), store_menu(menu_page) + "?vu=2")

    assert "Calzone" in card_of(again.content.decode(), "calzone")


def test_with_the_cache_down_the_catalogue_is_read_for_every_drawing(menu_page, shop, refused_redis):
    drawn(Client(), store_menu(menu_page) + "?vu=1")

    _, read = drawn(Client(), store_menu(menu_page) + "?vu=2")

    assert {"menu_productsize", "menu_recipeline", "stores_storepage"} <= set(read)


def test_with_the_page_cache_off_the_catalogue_is_read_for_every_drawing(menu_page, shop, settings):
    settings.PAGE_CACHE_SECONDS = 0
    drawn(Client(), store_menu(menu_page) + "?vu=1")

    _, read = drawn(Client(), store_menu(menu_page) + "?vu=2")

    assert {"menu_productsize", "menu_recipeline", "stores_storepage"} <= set(read)


def test_renditions_made_again_are_shown_with_their_files(menu_page, shop, settings, tmp_path):
    from ocpizza.demo_images import product_image

    settings.MEDIA_ROOT = tmp_path
    shop.photo = product_image("Margherita", category="pizza")
    shop.save()
    drawn(Client(), store_menu(menu_page) + "?vu=1")  # makes the photo's renditions
    drawn(Client(), store_menu(menu_page) + "?vu=2")  # reads them with the products
    for rendition in shop.photo.renditions.all():  # as wagtail_update_image_renditions --purge-only
        rendition.file.delete(save=False)
        rendition.delete()

    again, _ = drawn(Client(), store_menu(menu_page) + "?vu=3")

    sources = re.findall(r'src="/media/([^"]*)"', card_of(again.content.decode(), "margherita"))
    assert sources and all((tmp_path / source).exists() for source in sources)


def test_a_rendition_made_keeps_the_generation_and_one_deleted_starts_a_new_one(shop, settings, tmp_path):
    from django.core.cache import cache

    from ocpizza.demo_images import product_image
    from ocpizza.pagecache import generation_key

    settings.MEDIA_ROOT = tmp_path
    photo = product_image("Margherita", category="pizza")
    before = cache.get(generation_key())

    rendition = photo.get_rendition("fill-40x30")  # as a page drawn with a new photo makes it
    made = cache.get(generation_key())
    rendition.delete()  # as a purge
    deleted = cache.get(generation_key())

    assert made == before
    assert deleted != made
