"""Migrating the stock ledger back: possible until the first order holds ingredients."""

import pytest
from django.core.management import call_command
from django.db.migrations.exceptions import IrreversibleError

from menu.tests.factories import IngredientFactory, product_with_recipe
from stores.models import StockLevel
from stores.services import reserve_ingredients

from .factories import StorePageFactory, stock

pytestmark = [
    pytest.mark.usefixtures("restore_migrated_rows"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),  # migrate needs no open transaction
]


def test_migrating_back_once_orders_reserved_is_refused_with_the_reason_and_changes_nothing(
    store_index, menu_page
):
    cheese = IngredientFactory(name="Mozzarella")
    store = StorePageFactory(parent=store_index, slug="vaise")
    size = product_with_recipe(menu_page, title="Margherita", recipe={cheese: 100}).sizes.get()
    stock(store, {cheese: 500})
    reserve_ingredients(store=store, lines=[(size, 1, [])], order_reference="A-1")

    try:
        with pytest.raises(IrreversibleError, match="réserv"):
            call_command("migrate", "stores", "0004", verbosity=0)
    finally:
        # The later migrations of every app that depends on stores were unapplied on the way
        # down, before 0005 refused: put them back for the rest of the suite.
        call_command("migrate", verbosity=0)

    level = StockLevel.objects.get(store=store, ingredient=cheese)
    assert (level.on_hand, level.reserved) == (500, 100)
