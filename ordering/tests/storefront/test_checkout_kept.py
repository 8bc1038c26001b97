"""The checkout page reads the cart's store (with its hours and closures) and the menu's prices once
per content generation (`ordering.cart.Cart.store`, `ordering.pricing`, `menu.catalogue`); an
order placed keeps them under the database's token, which every committed change replaces
whatever Redis did (`menu.catalogue.use_database_token`)."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from wagtail.models import Site

from home.models import BrandSettings
from home.tests.factories import PromotionFactory
from ocpizza.pagecache import generation_key
from ordering.models import Order
from stores.models import StoreClosure, StoreOrderingSettings
from stores.tests.pages import tables_touched

from .conftest import size_of
from .test_checkout import CHECKOUT, bench_order, fill_cart

# What a drawing keeps ends with its minute: both drawings of a test in the same one.
pytestmark = pytest.mark.usefixtures("within_one_minute")

STORE_TABLES = {"stores_storepage", "stores_openinghours", "stores_storeclosure"}
PRICE_TABLES = {"menu_productsize", "menu_recipeline"}


@pytest.fixture(autouse=True)
def brand_settings(db):
    """The brand's settings exist on a running site; a first page would create them (an edit,
    which starts a new generation)."""
    BrandSettings.for_site(Site.objects.get(is_default_site=True))


def shown(client):
    """(response, tables read) of the checkout page."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(CHECKOUT, HTTP_ACCEPT_LANGUAGE="fr")
    return response, tables_touched(queries.captured_queries)


def placed(client, store, product, number):
    """(response, tables read) of the bench's order: one pizza, pickup as soon as possible."""
    fill_cart(client, store, (size_of(product, "Grande"), 1, []))
    with CaptureQueriesContext(connection) as queries:
        response = bench_order(client, store, number)
    return response, tables_touched(queries.captured_queries)


def test_the_checkout_page_shown_again_reads_neither_the_store_nor_the_prices(client, vaise, margherita):
    fill_cart(client, vaise, (size_of(margherita, "Grande"), 1, []))
    first, read_first = shown(client)
    again, read_again = shown(client)

    assert first.status_code == again.status_code == 200
    assert set(read_first) >= STORE_TABLES | PRICE_TABLES
    assert not (STORE_TABLES | PRICE_TABLES) & set(read_again)
    assert "Margherita" in again.content.decode()


def test_a_price_published_after_the_page_was_shown_is_shown_at_once(client, vaise, margherita):
    grande = size_of(margherita, "Grande")
    fill_cart(client, vaise, (grande, 1, []))
    assert shown(client)[0].status_code == 200

    grande.price = Decimal("15.50")
    grande.save()
    page, _ = shown(client)

    assert "15,50\u00a0€" in page.content.decode()


def pages_token_lost(change):
    """Make `change` (saved as an editor saves, signals and all) as if Redis had refused the pages'
    new generation, written by another process: the pages' token is put back as it was. The
    database's token is replaced all the same, in the change's transaction."""
    key = generation_key()
    before = cache.get(key)
    assert before is not None  # a page was shown: the pages keep values under it
    change()
    cache.set(key, before, timeout=None)


def test_a_second_order_reads_neither_the_store_nor_the_prices(client, vaise, margherita):
    first, read_first = placed(client, vaise, margherita, 1)
    second, read_second = placed(client, vaise, margherita, 2)

    assert first.status_code == second.status_code == 302
    assert set(read_first) >= STORE_TABLES | PRICE_TABLES | {"menu_contenttoken"}
    assert not (STORE_TABLES | PRICE_TABLES) & set(read_second)
    assert "menu_contenttoken" in read_second  # the token, read first
    assert "home_promotion" not in read_second  # the promotions too; the clock applied to them
    assert (
        Order.objects.get(idempotency_key__endswith="0002").lines.get().unit_price
        == size_of(margherita, "Grande").price
    )


def test_a_price_saved_while_redis_refused_the_pages_token_is_the_next_order_s(client, vaise, margherita):
    grande = size_of(margherita, "Grande")
    assert placed(client, vaise, margherita, 1)[0].status_code == 302
    fill_cart(client, vaise, (grande, 1, []))
    page, _ = shown(client)  # the page keeps the store and the prices of this generation
    assert page.status_code == 200
    assert "Grande" in page.content.decode()

    def new_price():
        grande.price = Decimal("15.50")
        grande.save()

    pages_token_lost(new_price)
    kept_page, _ = shown(client)
    again, read = placed(client, vaise, margherita, 2)

    assert "15,50\u00a0€" not in kept_page.content.decode()  # the page: up to its minute, as before
    assert again.status_code == 302
    assert set(read) >= PRICE_TABLES
    assert Order.objects.get(idempotency_key__endswith="0002").lines.get().unit_price == Decimal("15.50")


def test_a_prefix_saved_while_redis_refused_the_pages_token_numbers_the_next_order(client, vaise, margherita):
    first, _ = placed(client, vaise, margherita, 1)
    assert first.status_code == 302
    fill_cart(client, vaise, (size_of(margherita, "Grande"), 1, []))
    assert shown(client)[0].status_code == 200  # the page keeps the store and its settings

    def new_prefix():
        ordering = StoreOrderingSettings.objects.get(store=vaise)
        ordering.order_prefix = "VZZ"
        ordering.save()

    pages_token_lost(new_prefix)
    again, _ = placed(client, vaise, margherita, 2)

    assert again.status_code == 302
    numbers = list(Order.objects.order_by("id").values_list("number", flat=True))
    assert numbers[0].startswith("VAI-")
    assert numbers[1].startswith("VZZ-")


def test_a_promotion_starts_and_ends_on_time_though_the_promotions_are_kept(client, vaise, margherita):
    """No edit between the orders: the promotions read by the first are kept, and the clock alone
    starts the offer for the second and ends it for the third."""
    start = timezone.now().replace(second=0, microsecond=0)
    PromotionFactory(
        title="Dix pour cent",
        rule_kind="percent_off",
        target_category="basket",
        percent=Decimal("10.00"),
        starts_at=start + datetime.timedelta(seconds=20),
        ends_at=start + datetime.timedelta(seconds=40),
    )
    with time_machine.travel(start + datetime.timedelta(seconds=10), tick=False) as clock:
        before, _ = placed(client, vaise, margherita, 1)
        clock.shift(20)
        during, read_during = placed(client, vaise, margherita, 2)
        clock.shift(20)
        after, read_after = placed(client, vaise, margherita, 3)

    assert before.status_code == during.status_code == after.status_code == 302
    assert "home_promotion" not in set(read_during) | set(read_after)  # kept since the first order
    discounts = dict(Order.objects.values_list("idempotency_key", "discount_total"))
    price = size_of(margherita, "Grande").price
    assert discounts == {
        "bench-idempotency-0001": Decimal("0.00"),
        "bench-idempotency-0002": (price / 10).quantize(Decimal("0.01")),
        "bench-idempotency-0003": Decimal("0.00"),
    }


def test_a_store_that_stopped_taking_orders_refuses_the_next_one_whatever_was_kept(client, vaise, margherita):
    assert placed(client, vaise, margherita, 1)[0].status_code == 302
    fill_cart(client, vaise, (size_of(margherita, "Grande"), 1, []))
    assert shown(client)[0].status_code == 200  # the page keeps the store and its settings

    def stop_orders():
        ordering = StoreOrderingSettings.objects.get(store=vaise)
        ordering.accepts_orders = False
        ordering.save()

    pages_token_lost(stop_orders)
    refused, _ = placed(client, vaise, margherita, 2)

    assert refused.status_code == 409
    assert "ne prend pas de commande" in refused.content.decode()
    assert Order.objects.count() == 1


def test_a_closure_added_after_an_order_refuses_the_next_one(client, vaise, margherita):
    assert placed(client, vaise, margherita, 1)[0].status_code == 302

    today = timezone.localdate()
    StoreClosure.objects.create(store=vaise, starts_on=today, ends_on=today, message="Inventaire")
    refused, _ = placed(client, vaise, margherita, 2)

    assert refused.status_code == 400  # "as soon as possible" is no longer offered: closed today
    assert Order.objects.count() == 1


def test_a_store_unpublished_after_the_page_was_shown_empties_the_checkout(client, vaise, margherita):
    fill_cart(client, vaise, (size_of(margherita, "Grande"), 1, []))
    assert shown(client)[0].status_code == 200

    vaise.unpublish()
    response, _ = shown(client)

    assert response.status_code == 302
    assert response["Location"] == "/panier/"


def test_with_the_page_cache_off_the_page_reads_its_store_each_time(client, vaise, margherita, settings):
    settings.PAGE_CACHE_SECONDS = 0
    fill_cart(client, vaise, (size_of(margherita, "Grande"), 1, []))
    assert shown(client)[0].status_code == 200

    again, read = shown(client)

    assert again.status_code == 200
    assert set(read) >= STORE_TABLES | PRICE_TABLES
