"""Races for the stock, for real: separate processes, each with its own PostgreSQL connection.

Every process connects before the start barrier, so they all hit the database at the same moment
rather than one after another as their connections open. Run on PostgreSQL only (row locks).
"""

import multiprocessing
import os

import pytest
from django.db import connection, connections, transaction
from django.db.models import Sum

from menu.tests.factories import IngredientFactory, product_with_recipe
from stores.exceptions import StockError
from stores.models import StockLevel, StockMovement
from stores.services import (
    consume_reservation,
    count_inventory,
    last_movement_id,
    release_ingredients,
    reserve_ingredients,
)

from .factories import StorePageFactory, stock

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.usefixtures("restore_migrated_rows"),
    pytest.mark.skipif(
        connection.vendor != "postgresql" and not os.environ.get("CI"),
        reason="needs PostgreSQL's row locks (set DATABASE_URL)",
    ),
    # serialized_rollback: a transactional test empties the tables when it ends; this restores the
    # rows migrations create (root page, locale, allergens) for the transactional tests that follow.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    # Python 3.12 warns that forking a process with threads may deadlock the child on a lock some
    # other thread held. Our children only open their own database connection and use the
    # multiprocessing barrier and queue; a stuck child would fail the race on its timeouts
    # (60 s barrier, 120 s results), never hang the run.
    pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning"),
]

FORK = multiprocessing.get_context("fork")


def race(*jobs):
    """Run each job (a function taking no argument) in its own process, all released together.

    Returns what each job returned, in order: its own value, "refused" for a StockError, or the
    repr of any other error (a deadlock, a lost connection), which the tests then reject.
    """
    connections.close_all()  # children must not share the parent's socket
    barrier = FORK.Barrier(len(jobs))
    results = FORK.Queue()

    def run(number, job):
        try:
            connection.ensure_connection()  # connected before the start, not during it
            barrier.wait(timeout=60)
            with transaction.atomic():
                outcome = job()
        except StockError:
            outcome = "refused"
        except Exception as error:
            outcome = repr(error)
        finally:
            connections.close_all()
        results.put((number, outcome))

    processes = [FORK.Process(target=run, args=(number, job)) for number, job in enumerate(jobs)]
    for process in processes:
        process.start()
    outcomes = dict(results.get(timeout=120) for _process in processes)
    for process in processes:
        process.join(timeout=60)
    return [outcomes[number] for number in range(len(jobs))]


def assert_ledger_balances(store):
    for level in StockLevel.objects.filter(store=store):
        totals = StockMovement.objects.filter(store=store, ingredient=level.ingredient).aggregate(
            on_hand=Sum("on_hand_change"), reserved=Sum("reserved_change")
        )
        assert (level.on_hand, level.reserved) == (totals["on_hand"], totals["reserved"])


@pytest.fixture
def shop(home_page, store_index, menu_page):
    if connection.vendor != "postgresql":
        pytest.fail("CI must run the race tests on PostgreSQL")
    dough = IngredientFactory(name="Pâte")
    cheese = IngredientFactory(name="Mozzarella")
    store = StorePageFactory(parent=store_index, slug="vaise")
    # Two ingredients per portion, so each reservation locks two rows: a bad lock order would deadlock.
    size = product_with_recipe(menu_page, title="Margherita", recipe={cheese: 100, dough: 200}).sizes.get()
    return store, size, cheese, dough


def level(store, ingredient):
    found = StockLevel.objects.get(store=store, ingredient=ingredient)
    return found.on_hand, found.reserved


def test_24_processes_racing_for_the_last_5_portions_exactly_5_win(shop):
    store, size, cheese, dough = shop
    stock(store, {cheese: 100 * 5, dough: 200 * 5 + 150})

    def customer(number):
        return lambda: (
            reserve_ingredients(store=store, lines=[(size, 1, [])], order_reference=f"R-{number}") and "won"
        )

    outcomes = race(*[customer(number) for number in range(24)])

    assert sorted(outcomes) == ["refused"] * 19 + ["won"] * 5
    assert level(store, cheese) == (500, 500)
    assert level(store, dough) == (1150, 1000)
    assert StockMovement.objects.filter(kind="reservation", ingredient=cheese).count() == 5
    assert_ledger_balances(store)


def test_a_release_racing_new_orders_never_frees_a_portion_twice(shop):
    store, size, cheese, dough = shop
    stock(store, {cheese: 100 * 3, dough: 200 * 3})
    reserve_ingredients(store=store, lines=[(size, 3, [])], order_reference="HOLD")  # nothing free

    def cancel():
        return release_ingredients(store=store, order_reference="HOLD") and "released"

    def customer(number):
        return lambda: (
            reserve_ingredients(store=store, lines=[(size, 1, [])], order_reference=f"N-{number}") and "won"
        )

    outcomes = race(cancel, *[customer(number) for number in range(10)])

    winners = outcomes[1:].count("won")
    assert outcomes[0] == "released"
    assert sorted(outcomes[1:]) == ["refused"] * (10 - winners) + ["won"] * winners
    assert winners <= 3  # only the released portions, never more
    assert level(store, cheese) == (300, 100 * winners)
    assert_ledger_balances(store)


def test_a_count_entered_while_orders_reserve_keeps_every_reservation(shop):
    store, size, cheese, dough = shop
    stock(store, {cheese: 100 * 5, dough: 200 * 5})
    began = last_movement_id(store)

    def count():
        # The shelf holds what was delivered: the reservations are still on it.
        count_inventory(store=store, counts=[(cheese, 500), (dough, 1000)], user=None, counted_after=began)
        return "counted"

    def customer(number):
        return lambda: (
            reserve_ingredients(store=store, lines=[(size, 1, [])], order_reference=f"C-{number}") and "won"
        )

    outcomes = race(count, *[customer(number) for number in range(8)])

    assert outcomes[0] == "counted"
    assert sorted(outcomes[1:]) == ["refused"] * 3 + ["won"] * 5
    assert level(store, cheese) == (500, 500)
    assert level(store, dough) == (1000, 1000)
    assert_ledger_balances(store)


def test_a_cancellation_racing_the_kitchen_start_takes_effect_once(shop):
    store, size, cheese, dough = shop
    stock(store, {cheese: 1000, dough: 2000})
    references = [f"K-{number}" for number in range(6)]
    for reference in references:
        reserve_ingredients(store=store, lines=[(size, 1, [])], order_reference=reference)

    def start(reference):
        return lambda: consume_reservation(store=store, order_reference=reference) and "consumed"

    def cancel(reference):
        return lambda: release_ingredients(store=store, order_reference=reference) and "released"

    outcomes = race(*[job(reference) for reference in references for job in (start, cancel)])

    for number, reference in enumerate(references):
        pair = outcomes[2 * number : 2 * number + 2]
        assert pair in (["consumed", []], [[], "released"])  # the loser finds nothing left to do
        kinds = set(
            StockMovement.objects.filter(order_reference=reference)
            .exclude(kind="reservation")
            .values_list("kind", flat=True)
        )
        assert len(kinds) == 1  # consumed or released, never both
    consumed = StockMovement.objects.filter(kind="consumption", ingredient=cheese).count()
    # A consumed order gives nothing back: on hand is down by what the kitchen used, nothing held.
    assert level(store, cheese) == (1000 - 100 * consumed, 0)
    assert_ledger_balances(store)


def test_the_same_count_posted_by_four_managers_at_once_while_the_kitchen_starts_an_order_counts_once(shop):
    store, size, cheese, dough = shop
    stock(store, {cheese: 500, dough: 1000})
    reserve_ingredients(store=store, lines=[(size, 1, [])], order_reference="K-1")
    began = last_movement_id(store)

    def manager():
        # The shelf shows 50 g of cheese and 100 g of dough fewer than the books (the order's
        # food is still on it): the kitchen then starts the order, during or after the count.
        count_inventory(store=store, counts=[(cheese, 450), (dough, 900)], user=None, counted_after=began)
        return "counted"

    def kitchen():
        return consume_reservation(store=store, order_reference="K-1") and "consumed"

    outcomes = race(*[manager for _number in range(4)], kitchen)

    assert outcomes == ["counted"] * 4 + ["consumed"]
    assert level(store, cheese) == (350, 0)
    assert level(store, dough) == (700, 0)
    corrections = StockMovement.objects.filter(store=store, kind="correction")
    assert sorted(corrections.values_list("on_hand_change", flat=True)) == [-100, -50]
    assert_ledger_balances(store)
