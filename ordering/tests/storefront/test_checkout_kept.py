"""The checkout reads the cart's store with its hours and closures once per content generation
(`ordering.cart.Cart.store`, `menu.catalogue`): an order placed after another reads none of them,
and any edit of the store shows on the next order."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ordering.models import Order
from stores.models import StoreClosure
from stores.tests.pages import tables_read

from .conftest import size_of
from .test_checkout import CHECKOUT, bench_order, fill_cart

STORE_TABLES = {"stores_storepage", "stores_openinghours", "stores_storeclosure"}


def placed(client, store, product, number):
    """(response, tables read) of the bench's order: one pizza, pickup as soon as possible."""
    fill_cart(client, store, (size_of(product, "Grande"), 1, []))
    with CaptureQueriesContext(connection) as queries:
        response = bench_order(client, store, number)
    return response, tables_read(queries.captured_queries)


def test_an_order_after_another_reads_neither_its_store_nor_its_hours(client, vaise, margherita):
    first, read_first = placed(client, vaise, margherita, 1)
    again, read_again = placed(client, vaise, margherita, 2)

    assert first.status_code == again.status_code == 302
    assert again["Location"].startswith("/commandes/")
    assert set(read_first) >= STORE_TABLES
    assert not STORE_TABLES & set(read_again)
    assert Order.objects.count() == 2


def test_a_closure_added_after_an_order_refuses_the_next_one(client, vaise, margherita):
    assert placed(client, vaise, margherita, 1)[0].status_code == 302

    today = timezone.localdate()
    StoreClosure.objects.create(store=vaise, starts_on=today, ends_on=today, message="Inventaire")
    refused, _ = placed(client, vaise, margherita, 2)

    assert refused.status_code == 400  # "as soon as possible" is no longer offered: closed today
    assert Order.objects.count() == 1


def test_a_store_unpublished_after_an_order_empties_the_next_checkout(client, vaise, margherita):
    assert placed(client, vaise, margherita, 1)[0].status_code == 302
    fill_cart(client, vaise, (size_of(margherita, "Grande"), 1, []))

    vaise.unpublish()
    response = client.get(CHECKOUT)

    assert response.status_code == 302
    assert response["Location"] == "/panier/"
    assert Order.objects.count() == 1


def test_with_the_page_cache_off_each_order_reads_its_store(client, vaise, margherita, settings):
    settings.PAGE_CACHE_SECONDS = 0
    placed(client, vaise, margherita, 1)

    again, read = placed(client, vaise, margherita, 2)

    assert again.status_code == 302
    assert set(read) >= STORE_TABLES
