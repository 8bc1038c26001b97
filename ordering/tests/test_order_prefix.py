"""Two stores never number their orders with the same prefix, whether their settings were saved
or not."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from ordering.models import Order, OrderNumberCounter
from stores.models import StoreOrderingSettings, StorePage
from stores.services import free_order_prefix, saved_ordering_settings
from stores.tests.factories import StorePageFactory

from .factories import line, place, stock


def new_store(shop, store_index, slug):
    """A store selling the shop's menu whose ordering settings were never saved."""
    store = StorePageFactory(parent=store_index, slug=slug, title=slug, delivery_postcodes="69009")
    stock(store, {shop.cheese: 5000, shop.dough: 10000, shop.basil: 500})
    assert not StoreOrderingSettings.objects.filter(store=store).exists()
    return store


def test_two_stores_without_saved_settings_number_their_orders_apart(shop, store_index):
    lyon3 = new_store(shop, store_index, "lyon-3")
    lyon8 = new_store(shop, store_index, "lyon-8")

    first = place(shop, [line(shop.small, 1)], store=lyon3)
    second = place(shop, [line(shop.small, 1)], store=lyon8)

    assert first.number == "LYO-1125-001"
    assert second.number == "LYN-1125-001"
    saved = dict(StoreOrderingSettings.objects.values_list("store_id", "order_prefix"))
    assert (saved[lyon3.pk], saved[lyon8.pk]) == ("LYO", "LYN")
    assert place(shop, [line(shop.small, 1)], store=lyon3).number == "LYO-1125-002"


def test_a_prefix_another_store_saved_is_not_taken_again(shop, store_index):
    vaise_nord = new_store(shop, store_index, "vaise-nord")

    order = place(shop, [line(shop.small, 1)], store=vaise_nord)

    assert shop.store.ordering_settings.order_prefix == "VAI"
    assert order.number == "VAS-1125-001"
    assert Order.objects.filter(number__startswith="VAI-").count() == 0
    assert saved_ordering_settings(vaise_nord).order_prefix == "VAS"  # created once, then kept
    assert StoreOrderingSettings.objects.filter(store=vaise_nord).count() == 1


def test_settings_a_refused_order_made_are_not_left_on_the_store_it_was_given(shop, store_index):
    """The store an order is placed at may be shared by the process's requests (`menu.catalogue`):
    the settings row made for a refused order, rolled back with it, is not cached on that store."""
    lyon9 = new_store(shop, store_index, "lyon-9")

    with pytest.raises(RuntimeError), transaction.atomic():
        created = saved_ordering_settings(lyon9)
        assert created.store is lyon9  # the row knows its store, without a query
        raise RuntimeError("the order is refused")

    assert not StoreOrderingSettings.objects.filter(store=lyon9).exists()
    assert not type(lyon9).ordering_settings.is_cached(lyon9)


def test_the_allocator_tries_the_name_then_its_letters_then_any_letters(shop, store_index):
    assert free_order_prefix("lyon-3") == "LYO"
    for slug, prefix in [("a", "LYO"), ("b", "LYN"), ("c", "LON")]:
        store = StorePageFactory(parent=store_index, slug=slug)
        StoreOrderingSettings.objects.create(store=store, order_prefix=prefix)

    assert free_order_prefix("lyon-3") == "LAA"
    mine = StoreOrderingSettings.objects.get(order_prefix="LYO").store_id
    assert free_order_prefix("lyon-3", store_id=mine) == "LYO"  # a store's own prefix is free to it


def test_the_saved_settings_are_read_from_the_database_whatever_the_store_holds(
    shop, store_index, django_assert_num_queries
):
    """Placing an order takes its prefix (the key of the lock that serialises a store's orders)
    from the database, in one query, even from a store read with older settings."""
    read = StorePage.objects.select_related("ordering_settings").get(pk=shop.store.pk)
    StoreOrderingSettings.objects.filter(store=shop.store).update(order_prefix="VAX", slot_capacity=9)
    unsaved = new_store(shop, store_index, "lyon-7")

    with django_assert_num_queries(1):
        fresh = saved_ordering_settings(read)
    created = saved_ordering_settings(unsaved)

    assert (read.ordering_settings.order_prefix, fresh.order_prefix, fresh.slot_capacity) == ("VAI", "VAX", 9)
    assert {
        field.attname: getattr(fresh, field.attname) for field in StoreOrderingSettings._meta.concrete_fields
    } == {
        field.attname: getattr(StoreOrderingSettings.objects.get(store=shop.store), field.attname)
        for field in StoreOrderingSettings._meta.concrete_fields
    }
    assert (created.pk, created.order_prefix) == (StoreOrderingSettings.objects.get(store=unsaved).pk, "LYO")
    assert place(shop, [line(shop.small, 1)]).number == "VAX-1125-001"


def settings_reads(queries):
    table = StoreOrderingSettings._meta.db_table
    return [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT") and table in q["sql"]]


@pytest.mark.postgres
def test_the_statement_taking_the_lock_reads_the_prefix_whatever_the_store_holds(shop):
    """The prefix is the key of the placing lock: a store read before head office changed it still
    numbers (and locks) with the new one, read by the statement that takes the lock, with no
    statement of its own for the settings."""
    assert place(shop, [line(shop.small, 1)]).number == "VAI-1125-001"  # the day's counter exists
    read = StorePage.objects.select_related("ordering_settings").get(pk=shop.store.pk)
    StoreOrderingSettings.objects.filter(store=shop.store).update(order_prefix="VAX")
    OrderNumberCounter.objects.create(prefix="VAX", day="1125", last=4)

    with CaptureQueriesContext(connection) as queries:
        order = place(shop, [line(shop.small, 1)], store=read)

    assert read.ordering_settings.order_prefix == "VAI"  # what the store held
    assert order.number == "VAX-1125-005"
    assert settings_reads(queries) == []
    counters = dict(OrderNumberCounter.objects.filter(day="1125").values_list("prefix", "last"))
    assert counters == {"VAI": 1, "VAX": 5}


def counter_statements(queries):
    table = OrderNumberCounter._meta.db_table
    return [q["sql"].split()[0] for q in queries.captured_queries if table in q["sql"]]


@pytest.mark.postgres
def test_the_day_s_first_order_makes_its_counter_then_the_next_ones_take_it_in_one_statement(
    shop, store_index
):
    """No counter yet for the day (here, no saved settings either): the settings are saved and the
    counter made; the next order of the day takes its number in the one locking statement."""
    lyon5 = new_store(shop, store_index, "lyon-5")

    with CaptureQueriesContext(connection) as first_queries:
        first = place(shop, [line(shop.small, 1)], store=lyon5)
    read = StorePage.objects.select_related("ordering_settings").get(pk=lyon5.pk)  # as the checkout reads it
    with CaptureQueriesContext(connection) as second_queries:
        second = place(shop, [line(shop.small, 1)], store=read)

    assert (first.number, second.number) == ("LYO-1125-001", "LYO-1125-002")
    # The one statement found no counter; then `take_order_number`: its UPDATE found none either,
    # `get_or_create` made it, its UPDATE took the number.
    assert counter_statements(first_queries) == ["UPDATE", "UPDATE", "SELECT", "INSERT", "UPDATE"]
    assert counter_statements(second_queries) == ["UPDATE"]
    assert settings_reads(second_queries) == []
