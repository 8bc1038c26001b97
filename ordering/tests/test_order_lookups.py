"""The order's hand-written one-row statements: the idempotency lookup and the day's counter."""

import datetime

import pytest
from django.db import transaction
from django.db.transaction import TransactionManagementError

from accounts.tests.factories import UserFactory
from ordering.exceptions import OrderError
from ordering.models import Order, OrderNumberCounter, locked_counter, order_for_key, take_order_number
from stores.models import StockMovement

from .factories import NOW, configure, new_key, place

DAY = datetime.date(2026, 11, 25)


def test_the_key_of_a_placed_order_finds_that_order(shop):
    key = new_key()
    order = place(shop, idempotency_key=key)

    found = order_for_key(key)

    assert (found.pk, found.number, found.idempotency_key) == (order.pk, "VAI-1125-001", key)


@pytest.mark.parametrize("key", ["", None, "never-used", "x" * 300])
def test_an_unknown_or_empty_key_finds_nothing(shop, key):
    place(shop)

    assert order_for_key(key) is None


# Outside any transaction, as a view is; restores the migrations' rows after (see test_concurrency.py).
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_counter_cannot_be_locked_outside_a_transaction():
    with pytest.raises(TransactionManagementError):
        locked_counter("VAI", DAY)

    assert not OrderNumberCounter.objects.exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_number_cannot_be_taken_outside_a_transaction():
    with pytest.raises(TransactionManagementError, match="take_order_number"):
        take_order_number("VAI", DAY)

    assert not OrderNumberCounter.objects.exists()


@pytest.mark.django_db
def test_numbers_go_on_from_the_stored_count_and_write_it_back():
    """The count of a day goes on from the same day of past years (numbers are never given twice);
    another prefix's count is its own; a day without a counter starts one."""
    OrderNumberCounter.objects.create(prefix="VAI", day="1125", last=41)
    OrderNumberCounter.objects.create(prefix="BEL", day="1125", last=7)

    with transaction.atomic():
        numbers = [take_order_number("VAI", DAY), take_order_number("VAI", DAY)]
        first_of_day = take_order_number("VAI", DAY + datetime.timedelta(days=1))
        locked = locked_counter("VAI", DAY)

    assert numbers == ["VAI-1125-042", "VAI-1125-043"]
    assert first_of_day == "VAI-1126-001"
    assert (locked.prefix, locked.day, locked.last) == ("VAI", "1125", 43)
    assert dict(OrderNumberCounter.objects.values_list("prefix", "last").filter(day="1125")) == {
        "VAI": 43,
        "BEL": 7,
    }


@pytest.mark.django_db
def test_without_update_returning_the_number_is_read_back(monkeypatch):
    """SQLite before 3.35 has no UPDATE … RETURNING: the counter is written, then read."""
    from django.db import connection

    monkeypatch.setattr(type(connection.features), "can_return_rows_from_bulk_insert", False)
    OrderNumberCounter.objects.create(prefix="VAI", day="1125", last=41)

    with transaction.atomic():
        numbers = [
            take_order_number("VAI", DAY),
            take_order_number("BEL", DAY),
            take_order_number("VAI", DAY),
        ]

    assert numbers == ["VAI-1125-042", "BEL-1125-001", "VAI-1125-043"]


@pytest.mark.django_db
def test_a_number_taken_by_a_transaction_rolled_back_is_taken_again():
    with pytest.raises(RuntimeError), transaction.atomic():
        assert take_order_number("VAI", DAY) == "VAI-1125-001"
        raise RuntimeError("the order was refused")

    with transaction.atomic():
        assert take_order_number("VAI", DAY) == "VAI-1125-001"


def test_an_order_sent_twice_is_placed_once(shop):
    key = new_key()
    first = place(shop, idempotency_key=key)
    again = place(shop, idempotency_key=key, now=NOW + datetime.timedelta(minutes=1))

    assert again.pk == first.pk
    assert OrderNumberCounter.objects.get(prefix="VAI", day="1125").last == 1
    assert place(shop).number == "VAI-1125-002"


def test_a_key_used_after_it_was_looked_up_gives_its_order_and_gives_the_number_back(shop):
    """Two requests of one form at once both find no order for the key (the checkout looks it up
    before placing, `key_checked`): the second's INSERT fails on the key's unique index, its
    transaction (number, reservation) is rolled back and it gets the first's order."""
    key = new_key()
    first = place(shop, idempotency_key=key)

    again = place(shop, idempotency_key=key, key_checked=True)

    assert again.pk == first.pk
    assert Order.objects.count() == 1
    assert OrderNumberCounter.objects.get(prefix="VAI", day="1125").last == 1
    assert StockMovement.objects.filter(kind="reservation").count() == 3  # the first's 3 ingredients
    assert place(shop).number == "VAI-1125-002"  # the number the second sending took went back


def test_a_form_sent_twice_at_once_gets_its_order_when_the_first_took_the_last_place(shop):
    """The first of two requests of one form took the slot's last place: the second, refused for
    it under the lock, gets the first's order instead of « complet »."""
    configure(shop.store, slot_capacity=1)
    slot = NOW.replace(hour=19)
    key = new_key()
    first = place(shop, idempotency_key=key, slot=slot)

    again = place(shop, idempotency_key=key, slot=slot, key_checked=True)

    assert again.pk == first.pk
    assert Order.objects.count() == 1
    with pytest.raises(OrderError, match="Ce créneau est complet : choisissez-en un autre."):
        place(shop, slot=slot)  # another form is refused as before


def test_a_key_another_customer_used_after_it_was_looked_up_is_refused(shop):
    someone = UserFactory()
    key = new_key()
    place(shop, idempotency_key=key, customer=someone)

    with pytest.raises(OrderError, match="Ce formulaire a déjà servi : rechargez la page."):
        place(shop, idempotency_key=key, key_checked=True)

    assert Order.objects.count() == 1
