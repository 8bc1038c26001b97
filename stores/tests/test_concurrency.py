"""Customers racing for the last portions, for real: threads with their own PostgreSQL connections."""

import os
import threading

import pytest
from django.db import close_old_connections, connection, connections, transaction

from menu.tests.factories import IngredientFactory, product_with_recipe
from stores.exceptions import StockError
from stores.models import StockLevel, StockMovement
from stores.services import reserve_ingredients

from .factories import StorePageFactory, stock

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.usefixtures("restore_migrated_rows"),
    pytest.mark.skipif(
        connection.vendor != "postgresql" and not os.environ.get("CI"),
        reason="needs PostgreSQL's row locks (set DATABASE_URL)",
    ),
]

RACERS = 8
PORTIONS = 3


# serialized_rollback: a transactional test empties the tables when it ends; this restores the
# rows migrations create (root page, locale, allergens) for the transactional tests that follow.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_racing_customers_never_take_more_than_the_last_portions(home_page, store_index, menu_page):
    if connection.vendor != "postgresql":
        pytest.fail("CI must run the race test on PostgreSQL")
    dough = IngredientFactory(name="Pâte")
    cheese = IngredientFactory(name="Mozzarella")
    store = StorePageFactory(parent=store_index, slug="vaise")
    # Two ingredients per portion, so each reservation locks two rows: a bad lock order would deadlock.
    size = product_with_recipe(menu_page, title="Margherita", recipe={cheese: 100, dough: 200}).sizes.get()
    stock(store, {cheese: 100 * PORTIONS, dough: 200 * PORTIONS + 150})
    start = threading.Barrier(RACERS)
    outcomes = []

    def customer(number):
        try:
            start.wait()
            with transaction.atomic():
                reserve_ingredients(store=store, lines=[(size, 1, [])], order_reference=f"R-{number}")
            outcomes.append("won")
        except StockError:
            outcomes.append("refused")
        except Exception as error:  # a deadlock or any other database error fails the test below
            outcomes.append(repr(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=customer, args=(n,)) for n in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    close_old_connections()

    assert sorted(outcomes) == ["refused"] * (RACERS - PORTIONS) + ["won"] * PORTIONS
    assert StockLevel.objects.get(store=store, ingredient=cheese).quantity == 0
    assert StockLevel.objects.get(store=store, ingredient=dough).quantity == 150
    assert StockMovement.objects.filter(kind="sale", ingredient=cheese).count() == PORTIONS
