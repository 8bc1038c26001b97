"""What placing an order writes under the store's placing lock, and how: `menu.rows.insert` (the
order, its lines, its event, the ledger's movements) and a reservation made for a new order."""

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.db.models.signals import post_save, pre_save
from django.test.utils import CaptureQueriesContext

from menu import rows
from ordering import boards, tracking
from ordering.models import OrderEvent, OrderLine
from stores.models import StockMovement
from stores.services import reserve_ingredients

from .factories import NOW, place


def test_rows_are_inserted_in_one_statement_and_each_gets_its_own_key(shop, django_assert_num_queries):
    order = place(shop)
    events = [
        OrderEvent(order=order, from_status="received", to_status=status, created_at=NOW, note=note)
        for status, note in (("preparing", "four"), ("ready", "prêt « vite »"), ("cancelled", ""))
    ]

    with django_assert_num_queries(1):
        inserted = rows.insert(events)

    assert inserted == events
    assert all(not event._state.adding and event._state.db == "default" for event in events)
    stored = {
        event.pk: event for event in OrderEvent.objects.filter(order=order).exclude(to_status="received")
    }
    assert [(stored[e.pk].to_status, stored[e.pk].note, stored[e.pk].created_at) for e in events] == [
        ("preparing", "four", NOW),
        ("ready", "prêt « vite »", NOW),
        ("cancelled", "", NOW),
    ]


def test_inserted_values_read_back_as_the_orm_wrote_them(shop):
    order = place(shop)
    written = OrderLine(
        order=order,
        product=shop.pizza,
        size=shop.large,
        product_name="Margherita",
        size_name="Grande",
        category="pizza",
        extras=[{"id": shop.extra.id, "name": "Supplément mozzarella", "kind": "add", "price": "1.50"}],
        quantity=2,
        unit_price=Decimal("13.50"),
        vat_rate=Decimal("10.00"),
        total=Decimal("27.00"),
        sort_order=7,
    )
    by_orm = OrderLine.objects.create(
        **{f.name: getattr(written, f.name) for f in OrderLine._meta.fields[1:]}
    )

    rows.insert([written])

    mine, theirs = OrderLine.objects.get(pk=written.pk), OrderLine.objects.get(pk=by_orm.pk)
    fields = [f.attname for f in OrderLine._meta.concrete_fields if not f.primary_key]
    assert [getattr(mine, name) for name in fields] == [getattr(theirs, name) for name in fields]
    assert (type(mine.unit_price), mine.unit_price, mine.extras[0]["price"]) == (
        Decimal,
        Decimal("13.50"),
        "1.50",
    )


def test_signals_are_sent_as_save_sends_them_only_when_asked(shop):
    order = place(shop)
    heard = []

    def before(sender, instance, **kwargs):
        heard.append(("pre_save", instance.pk, kwargs["update_fields"]))

    def after(sender, instance, created, **kwargs):
        heard.append(("post_save", instance.pk, created))

    pre_save.connect(before, sender=OrderEvent, dispatch_uid="test_insert_before")
    post_save.connect(after, sender=OrderEvent, dispatch_uid="test_insert_after")
    try:
        (quiet,) = rows.insert([OrderEvent(order=order, to_status="preparing", created_at=NOW)])
        assert heard == []
        (loud,) = rows.insert([OrderEvent(order=order, to_status="ready", created_at=NOW)], signals=True)
    finally:
        pre_save.disconnect(dispatch_uid="test_insert_before", sender=OrderEvent)
        post_save.disconnect(dispatch_uid="test_insert_after", sender=OrderEvent)

    assert heard == [("pre_save", None, None), ("post_save", loud.pk, True)]
    assert quiet.pk != loud.pk


def test_a_placed_order_is_announced_to_the_boards_and_the_tracking(shop):
    """The order's own insert sends `post_save`, whose receivers (ordering/apps.py) write the
    store's boards' version and the order's tracking entry, as `Order.objects.create` did."""
    assert cache.get(boards.board_version_key(shop.store.id)) is None

    order = place(shop)

    assert cache.get(boards.board_version_key(shop.store.id)) is not None
    assert cache.get(tracking.tracking_key(order.number)) == tracking.entry(order.version, order.secret)


def test_a_failed_insert_marks_the_transaction_for_rollback(shop):
    """As `save()` does: a block that caught the error cannot commit half of its writes."""
    order = place(shop)

    with transaction.atomic():
        with pytest.raises(IntegrityError):
            rows.insert([OrderEvent(order=order, to_status=None, created_at=NOW)])
        assert transaction.get_rollback() is True


def test_without_returning_rows_save_and_bulk_create_write_them(shop, monkeypatch):
    """SQLite before 3.35 cannot return new keys: the rows are written by the ORM instead."""
    order = place(shop)
    monkeypatch.setattr(type(connection.features), "can_return_rows_from_bulk_insert", False)
    heard = []

    def after(sender, instance, created, **kwargs):
        heard.append((instance.note, created))

    post_save.connect(after, sender=OrderEvent, dispatch_uid="test_insert_fallback")
    try:
        (loud,) = rows.insert(
            [OrderEvent(order=order, to_status="ready", created_at=NOW, note="a")], signals=True
        )
        rows.insert([OrderEvent(order=order, to_status="ready", created_at=NOW, note=n) for n in "bc"])
    finally:
        post_save.disconnect(dispatch_uid="test_insert_fallback", sender=OrderEvent)

    assert loud.pk is not None
    assert heard == [("a", True)]
    assert sorted(
        OrderEvent.objects.filter(order=order, to_status="ready").values_list("note", flat=True)
    ) == [
        "a",
        "b",
        "c",
    ]


def test_what_insert_cannot_write_is_refused_before_any_statement(shop):
    order = place(shop)
    saved = OrderEvent.objects.get(order=order)
    count = OrderEvent.objects.count()

    with CaptureQueriesContext(connection) as queries:
        with pytest.raises(ValueError, match="only new OrderEvent instances"):
            rows.insert([OrderEvent(order=order, to_status="ready", created_at=NOW), saved])
        with pytest.raises(ValueError, match="only new OrderEvent instances"):
            rows.insert([OrderEvent(order=order, to_status="ready", created_at=NOW), order])
        with pytest.raises(ValueError, match=r"OrderEvent.note is an expression"):
            rows.insert([OrderEvent(order=order, to_status="ready", created_at=NOW, note=F("to_status"))])

    assert queries.captured_queries == []
    assert OrderEvent.objects.count() == count
    assert rows.insert([]) == []


def test_a_new_orders_reservation_takes_no_savepoint_nor_reads_what_it_holds(shop):
    """The reservation of an order being placed runs in the order's transaction as it is: the
    order's own savepoint (the test's transaction is around it) is the only one, and the ledger
    is only written, never read."""
    place(shop)  # the day's first order creates the day's counter (a savepoint of its own)
    with CaptureQueriesContext(connection) as queries:
        order = place(shop)

    statements = [query["sql"] for query in queries.captured_queries]
    assert sum(sql.startswith("SAVEPOINT") for sql in statements) == 1
    ledger = StockMovement._meta.db_table
    assert [sql.split()[0] for sql in statements if ledger in sql] == ["INSERT"]
    assert dict(
        StockMovement.objects.filter(order_reference=order.number).values_list(
            "ingredient__name", "reserved_change"
        )
    ) == {"Pâte": 400, "Mozzarella": 200, "Basilic": 4}


def test_reserving_again_for_an_order_that_holds_ingredients_is_still_refused(shop):
    """Outside placing (`new_order` left off), an order holds one reservation at a time."""
    from stores.exceptions import StockError

    order = place(shop)

    with pytest.raises(
        StockError, match=f"Les ingrédients de la commande {order.number} sont déjà réservés."
    ):
        reserve_ingredients(store=shop.store, lines=[(shop.small, 1, ())], order_reference=order.number)
