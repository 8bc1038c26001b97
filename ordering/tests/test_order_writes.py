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
from ordering.models import Order, OrderEvent, OrderLine
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


def test_a_placed_order_is_announced_to_the_boards_and_the_tracking(shop, django_capture_on_commit_callbacks):
    """The store's boards' version is replaced, and the order's tracking entry added after the
    commit, as `Order.objects.create` and its `post_save` receivers (ordering/apps.py) do."""
    assert cache.get(boards.board_version_key(shop.store.id)) is None

    with django_capture_on_commit_callbacks(execute=True):
        order = place(shop)

    assert cache.get(boards.board_version_key(shop.store.id)) is not None
    assert cache.get(tracking.tracking_key(order.number)) == tracking.entry(order.version, order.secret)


def test_nothing_is_written_to_redis_before_the_commit(shop, django_capture_on_commit_callbacks):
    """Orders of a store wait for each other from the counter's UPDATE (the lock) to the commit,
    and under load a round trip to Redis is one of an order's longest waits: the boards' version
    and the store's pages' stock token are replaced after the commit only, and the tracking entry
    added then."""
    from ocpizza.pagecache import stock_key

    keys = {"boards": boards.board_version_key(shop.store.id), "stock": stock_key(shop.store.id)}
    seen = {}

    def watch(execute, sql, params, many, context):
        if sql.startswith('UPDATE "ordering_ordernumbercounter"'):
            seen["at the lock"] = {name: cache.get(key) for name, key in keys.items()}
        result = execute(sql, params, many, context)
        seen["at the last statement"] = {name: cache.get(key) for name, key in keys.items()}
        return result

    cache.set(keys["boards"], "old version", timeout=None)
    cache.set(keys["stock"], "old token", timeout=None)
    before = {name: cache.get(key) for name, key in keys.items()}
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with connection.execute_wrapper(watch):
            order = place(shop)
        assert cache.get(tracking.tracking_key(order.number)) is None  # not before the commit
    after = {name: cache.get(key) for name, key in keys.items()}

    assert seen["at the lock"] == seen["at the last statement"] == before
    assert all(after[name] not in (None, before[name]) for name in keys)
    # The boards' version, the stock token, the tracking entry and the confirmation e-mail.
    assert len(callbacks) == 4
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
    ledger = connection.ops.quote_name(StockMovement._meta.db_table)
    (written,) = [sql for sql in statements if ledger in sql]  # only written, never read
    assert f"INSERT INTO {ledger}" in written and f"FROM {ledger}" not in written
    assert dict(
        StockMovement.objects.filter(order_reference=order.number).values_list(
            "ingredient__name", "reserved_change"
        )
    ) == {"Pâte": 400, "Mozzarella": 200, "Basilic": 4}


def test_an_order_is_written_with_its_reservation_in_one_statement_after_its_levels_are_locked(shop):
    """Under the placing lock: the levels are locked and the reservation checked first, then the
    order, its lines, its event, its movements and the levels they change are one statement on
    PostgreSQL (one round trip fewer while the lock is held)."""
    from stores.models import StockLevel

    place(shop)  # the day's counter made
    with CaptureQueriesContext(connection) as queries:
        order = place(shop)

    qn = connection.ops.quote_name
    orders, levels, ledger = (qn(m._meta.db_table) for m in (Order, StockLevel, StockMovement))
    statements = [query["sql"] for query in queries.captured_queries]
    locked = next(i for i, sql in enumerate(statements) if f"FROM {levels} l WHERE" in sql)
    written = [i for i, sql in enumerate(statements) if f"INSERT INTO {orders}" in sql]
    assert len(written) == 1 and written[0] > locked
    if connection.vendor == "postgresql":
        sql = statements[written[0]]
        assert f"INSERT INTO {ledger}" in sql and f"UPDATE {levels}" in sql
        assert [s for s in statements if ledger in s or f"UPDATE {levels}" in s] == [sql]
    assert (
        StockLevel.objects.values_list("reserved", flat=True).get(store=shop.store, ingredient=shop.cheese)
        == 400
    )
    assert dict(
        StockMovement.objects.filter(order_reference=order.number).values_list(
            "ingredient__name", "reserved_after"
        )
    ) == {"Pâte": 800, "Mozzarella": 400, "Basilic": 8}


def test_reserving_again_for_an_order_that_holds_ingredients_is_still_refused(shop):
    """Outside placing (`new_order` left off), an order holds one reservation at a time."""
    from stores.exceptions import StockError

    order = place(shop)

    with pytest.raises(
        StockError, match=f"Les ingrédients de la commande {order.number} sont déjà réservés."
    ):
        reserve_ingredients(store=shop.store, lines=[(shop.small, 1, ())], order_reference=order.number)


def _lines_of(order, shop, count):
    return [
        OrderLine(
            order=order,
            product=shop.pizza,
            size=shop.small,
            product_name="Margherita",
            size_name="Petite",
            category="pizza",
            extras=[],
            quantity=n + 1,
            unit_price=Decimal("9.00"),
            vat_rate=Decimal("10.00"),
            total=Decimal("9.00") * (n + 1),
            sort_order=n,
        )
        for n in range(count)
    ]


def _new_order(shop, number):
    """A copy of a placed order's row, not saved, under another number and key."""
    model = place(shop)
    fields = {f.attname: getattr(model, f.attname) for f in Order._meta.concrete_fields if not f.primary_key}
    return Order(**{**fields, "number": number, "idempotency_key": f"key-{number}", "secret": f"s-{number}"})


def test_a_row_and_its_children_are_written_in_one_statement_on_postgresql(shop):
    order = _new_order(shop, "VAI-1125-900")
    lines = _lines_of(order, shop, 3)
    event = OrderEvent(order=order, from_status="", to_status="received", created_at=NOW, note="« né »")

    with CaptureQueriesContext(connection) as queries:
        written = rows.insert_with_children(order, lines, [], [event])

    # One statement on PostgreSQL; elsewhere the order, then each list.
    inserts = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(inserts) == (1 if connection.vendor == "postgresql" else 3)
    assert written is order and order.pk is not None and not order._state.adding
    assert [line.order_id for line in lines] == [order.pk] * 3
    assert event.order_id == order.pk
    assert all(line.order is order for line in lines) and event.order is order  # kept, not read again
    stored = Order.objects.get(number="VAI-1125-900")
    assert stored.pk == order.pk
    assert [(line.pk, line.quantity, line.total) for line in stored.lines.order_by("sort_order")] == [
        (lines[0].pk, 1, Decimal("9.00")),
        (lines[1].pk, 2, Decimal("18.00")),
        (lines[2].pk, 3, Decimal("27.00")),
    ]
    assert list(stored.events.values_list("pk", "note")) == [(event.pk, "« né »")]


def test_children_written_with_their_row_send_signals_only_for_the_models_asked(
    shop, django_capture_on_commit_callbacks
):
    order = _new_order(shop, "VAI-1125-901")
    lines = _lines_of(order, shop, 2)
    event = OrderEvent(order=order, from_status="", to_status="received", created_at=NOW)
    heard = []

    def before(sender, instance, **kwargs):
        heard.append(("pre_save", sender.__name__, instance.pk))

    def after(sender, instance, created, **kwargs):
        heard.append(("post_save", sender.__name__, instance.pk, created))

    for model in (Order, OrderLine, OrderEvent):
        pre_save.connect(before, sender=model, dispatch_uid=f"test_family_before_{model.__name__}")
        post_save.connect(after, sender=model, dispatch_uid=f"test_family_after_{model.__name__}")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            rows.insert_with_children(order, lines, [event], signals=(Order, OrderEvent))
    finally:
        for model in (Order, OrderLine, OrderEvent):
            pre_save.disconnect(dispatch_uid=f"test_family_before_{model.__name__}", sender=model)
            post_save.disconnect(dispatch_uid=f"test_family_after_{model.__name__}", sender=model)

    if connection.vendor == "postgresql":  # one statement: every pre_save before it
        assert heard == [
            ("pre_save", "Order", None),
            ("pre_save", "OrderEvent", None),
            ("post_save", "Order", order.pk, True),
            ("post_save", "OrderEvent", event.pk, True),
        ]
    else:  # one statement per model, each with its signals
        assert heard == [
            ("pre_save", "Order", None),
            ("post_save", "Order", order.pk, True),
            ("pre_save", "OrderEvent", None),
            ("post_save", "OrderEvent", event.pk, True),
        ]
    # The order's own receivers (ordering/apps.py) ran: its tracking entry is added on commit.
    assert cache.get(tracking.tracking_key(order.number)) == tracking.entry(order.version, order.secret)


def test_a_child_refused_by_the_database_writes_nothing_of_its_family(shop):
    order = _new_order(shop, "VAI-1125-902")
    lines = _lines_of(order, shop, 1)
    bad = OrderEvent(order=order, from_status="", to_status=None, created_at=NOW)  # NOT NULL

    with transaction.atomic():
        with pytest.raises(IntegrityError):
            rows.insert_with_children(order, lines, [bad])
        # A caller that caught the error cannot commit the order without its event.
        assert transaction.get_rollback() is True


def test_what_a_family_cannot_be_written_with_is_refused_before_any_statement(shop):
    order = _new_order(shop, "VAI-1125-903")
    other = _new_order(shop, "VAI-1125-904")
    saved_event = OrderEvent.objects.filter(order__number="VAI-1125-001").get()
    movement = StockMovement(store=shop.store, ingredient=shop.cheese, kind="delivery", created_at=NOW)

    with CaptureQueriesContext(connection) as queries:
        with pytest.raises(ValueError, match="StockMovement needs one key to Order"):
            rows.insert_with_children(order, [movement])
        with pytest.raises(ValueError, match="only new OrderEvent instances"):
            rows.insert_with_children(order, [saved_event])
        with pytest.raises(ValueError, match="OrderEvent.order is not the row written with it"):
            rows.insert_with_children(order, [OrderEvent(order=other, to_status="received", created_at=NOW)])

    assert queries.captured_queries == []
    assert order.pk is None
    assert not Order.objects.filter(number__in=["VAI-1125-903", "VAI-1125-904"]).exists()


def test_an_update_rides_with_an_insert_in_one_round_trip_on_postgresql(shop):
    from stores.models import StockLevel
    from stores.services import _levels_update

    level = StockLevel.objects.get(store=shop.store, ingredient=shop.cheese)
    level.on_hand, level.reserved = 4321, 17
    movement = StockMovement(
        store=shop.store,
        ingredient=shop.cheese,
        kind="delivery",
        on_hand_change=1,
        reserved_change=0,
        on_hand_after=4321,
        reserved_after=17,
        created_at=NOW,
    )

    with CaptureQueriesContext(connection) as queries:
        rows.insert([movement], update=_levels_update([level]))

    assert len(queries.captured_queries) == (1 if connection.vendor == "postgresql" else 2)
    assert movement.pk is not None
    assert StockLevel.objects.values_list("on_hand", "reserved").get(pk=level.pk) == (4321, 17)
    assert StockMovement.objects.get(pk=movement.pk).on_hand_after == 4321


def test_other_rows_and_an_update_ride_with_a_family_in_one_round_trip_on_postgresql(shop):
    from stores.models import StockLevel
    from stores.services import _levels_update

    order = _new_order(shop, "VAI-1125-905")
    lines = _lines_of(order, shop, 2)
    event = OrderEvent(order=order, from_status="", to_status="received", created_at=NOW)
    level = StockLevel.objects.get(store=shop.store, ingredient=shop.cheese)
    level.on_hand, level.reserved = 4321, 17
    movements = [
        StockMovement(
            store=shop.store,
            ingredient=shop.cheese,
            kind="reservation",
            on_hand_change=0,
            reserved_change=n,
            on_hand_after=4321,
            reserved_after=17,
            order_reference="VAI-1125-905",
            created_at=NOW,
        )
        for n in (1, 2)
    ]

    with CaptureQueriesContext(connection) as queries:
        rows.insert_with_children(
            order, lines, [event], others=[movements, []], update=_levels_update([level])
        )

    # One statement on PostgreSQL; elsewhere the UPDATE, then the order and each list.
    statements = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) == (1 if connection.vendor == "postgresql" else 5)
    assert order.pk is not None and [line.order_id for line in lines] == [order.pk] * 2
    assert event.order_id == order.pk
    assert all(m.pk is not None and not m._state.adding for m in movements)
    assert list(
        StockMovement.objects.filter(order_reference="VAI-1125-905")
        .order_by("pk")
        .values_list("pk", "reserved_change")
    ) == [(movements[0].pk, 1), (movements[1].pk, 2)]
    assert StockLevel.objects.values_list("on_hand", "reserved").get(pk=level.pk) == (4321, 17)
    assert Order.objects.get(pk=order.pk).lines.count() == 2


def test_other_rows_a_family_cannot_be_written_with_are_refused_before_any_statement(shop):
    order = _new_order(shop, "VAI-1125-906")
    saved = StockMovement.objects.first()

    with (
        CaptureQueriesContext(connection) as queries,
        pytest.raises(ValueError, match="only new StockMovement instances"),
    ):
        rows.insert_with_children(order, others=[[saved]])

    assert queries.captured_queries == []
    assert order.pk is None
