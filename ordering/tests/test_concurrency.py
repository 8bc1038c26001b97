"""Orders placed at the same moment, for real: threads, each with its own PostgreSQL connection.

Run on PostgreSQL only (row locks); skipped on SQLite, as the stock races are.
"""

import os
import threading

import pytest
from django.db import connection, connections

from ordering.exceptions import OrderError
from ordering.models import Order, OrderLine, OrderNumberCounter, Payment
from ordering.services import pay_order
from stores.models import StockLevel, StockMovement

from .factories import NOW, configure, line, make_shop, new_key, place

OK = "cnon:card-nonce-ok"

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.usefixtures("restore_migrated_rows"),
    pytest.mark.skipif(
        connection.vendor != "postgresql" and not os.environ.get("CI"),
        reason="needs PostgreSQL's row locks (set DATABASE_URL)",
    ),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def race(*jobs):
    """Run each job in its own thread, all released together; returns what each returned, or
    "refused: <message>" for an OrderError, or the repr of any other error."""
    barrier = threading.Barrier(len(jobs))
    outcomes = [None] * len(jobs)

    def run(number, job):
        try:
            connection.ensure_connection()
            barrier.wait(timeout=60)
            outcomes[number] = job()
        except OrderError as error:
            outcomes[number] = f"refused: {error}"
        except Exception as error:  # a deadlock, an integrity error: the test fails on it
            outcomes[number] = repr(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(number, job)) for number, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


@pytest.fixture
def race_shop(home_page, store_index, menu_page):
    if connection.vendor != "postgresql":
        pytest.fail("CI must run the race tests on PostgreSQL")
    return make_shop(store_index, menu_page)


def test_a_form_submitted_six_times_at_once_gives_one_order(race_shop):
    shop = race_shop
    key = new_key()

    outcomes = race(*[lambda: place(shop, [line(shop.small, 2)], idempotency_key=key).pk for _n in range(6)])

    order = Order.objects.get()
    assert outcomes == [order.pk] * 6
    assert OrderLine.objects.count() == 1
    assert StockLevel.objects.get(store=shop.store, ingredient=shop.cheese).reserved == 200
    assert StockMovement.objects.filter(kind="reservation", ingredient=shop.cheese).count() == 1


def test_in_production_a_form_submitted_six_times_at_once_queues_one_confirmation(
    race_shop, queue_tasks_in_database
):
    """The confirmation's task row is written in each attempt's transaction (an outbox): the
    attempts rolled back take theirs with them."""
    from django_tasks_db.models import DBTaskResult

    shop = race_shop
    queue_tasks_in_database()  # after the shop's stock
    key = new_key()

    outcomes = race(*[lambda: place(shop, [line(shop.small, 2)], idempotency_key=key).pk for _n in range(6)])

    order = Order.objects.get()
    assert outcomes == [order.pk] * 6
    assert list(DBTaskResult.objects.values_list("task_path", "args_kwargs")) == [
        ("ordering.tasks.send_placed_order_confirmation", {"args": [key], "kwargs": {}})
    ]


# The day's first order makes the counter, then takes its number as `take_order_number`; the next
# ones read the prefix and take the lock in one statement (`take_store_order_number`).
DAY_STARTED = pytest.mark.parametrize("counter", ["none yet", "the day's"])


def start_the_day(counter):
    if counter == "the day's":
        OrderNumberCounter.objects.create(prefix="VAI", day="1125")


@DAY_STARTED
def test_orders_racing_for_the_last_places_of_a_slot_never_overfill_it(race_shop, counter):
    shop = race_shop
    configure(shop.store, slot_capacity=2)
    start_the_day(counter)
    slot = NOW.replace(hour=19)

    outcomes = race(*[lambda: place(shop, slot=slot).number for _n in range(6)])

    refused = [outcome for outcome in outcomes if str(outcome).startswith("refused")]
    assert refused == ["refused: Ce créneau est complet : choisissez-en un autre."] * 4
    assert Order.objects.filter(slot_start=slot).count() == 2


@DAY_STARTED
def test_orders_placed_at_once_get_distinct_numbers(race_shop, counter):
    shop = race_shop
    configure(shop.store, slot_capacity=20)
    start_the_day(counter)

    outcomes = race(*[lambda: place(shop).number for _n in range(8)])

    assert sorted(outcomes) == [f"VAI-1125-{n:03d}" for n in range(1, 9)]


def test_first_orders_of_stores_without_settings_racing_get_their_own_prefixes(race_shop, store_index):
    from stores.models import StoreOrderingSettings
    from stores.tests.factories import StorePageFactory, stock

    shop = race_shop
    stores = [
        StorePageFactory(parent=store_index, slug=f"lyon-{n}", title=f"Lyon {n}", delivery_postcodes="")
        for n in range(1, 4)
    ]
    for store in stores:
        stock(store, {shop.cheese: 5000, shop.dough: 10000, shop.basil: 500})
    jobs = [store for store in stores for _twice in range(2)]

    outcomes = race(
        *[lambda store=store: place(shop, [line(shop.small, 1)], store=store).number for store in jobs]
    )

    prefixes = dict(
        StoreOrderingSettings.objects.filter(store__in=stores).values_list("store_id", "order_prefix")
    )
    assert len(prefixes) == 3 and len(set(prefixes.values())) == 3
    assert set(prefixes.values()) <= {"LYO", "LYN", "LON", "LAA", "LAB"}
    for store in stores:
        numbers = sorted(Order.objects.filter(store=store).values_list("number", flat=True))
        prefix = prefixes[store.pk]
        assert numbers == [f"{prefix}-1125-001", f"{prefix}-1125-002"], outcomes


def test_the_same_payment_sent_twice_at_once_charges_once_at_square(race_shop, square_stub):
    shop = race_shop
    order = place(shop, payment_method="card_online")
    key = new_key()
    square_stub.delay_next("payments.create", 1.0)  # the second arrives while Square answers the first

    outcomes = race(
        *[lambda: pay_order(order, source_token=OK, idempotency_key=key, now=NOW).pk for _n in range(2)]
    )

    payment = Payment.objects.get()
    assert outcomes == [payment.pk, payment.pk]
    assert square_stub.calls("payments.create") == 1
    assert len(square_stub.charges()) == 1
    assert (payment.status, payment.provider_reference) == ("succeeded", square_stub.charges()[0]["id"])
    assert Order.objects.get().status == "received"


def test_two_payments_of_one_order_at_once_never_charge_twice(race_shop, square_stub):
    shop = race_shop
    order = place(shop, payment_method="card_online")
    square_stub.delay_next("payments.create", 1.0)  # the second arrives while Square answers the first

    outcomes = race(
        *[
            lambda: pay_order(order, source_token=OK, idempotency_key=new_key(), now=NOW).status
            for _n in range(2)
        ]
    )

    # The second waits for the first's lock, then finds its charge committed, pending.
    assert sorted(outcomes) == [
        "refused: Votre paiement est en cours de confirmation par la banque : "
        "réessayez dans quelques minutes.",
        "succeeded",
    ]
    assert len(square_stub.charges()) == 1
    assert Payment.objects.count() == 1
