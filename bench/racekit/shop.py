"""The race's store, built with the project's own factories and services, and its outcome.

Imports Django: called inside a test (its database) or as `python -m bench.racekit.shop build|verify`
by bench/race.py, whose load process never imports Django.
"""

import json
import sys
from decimal import Decimal

# Per pizza: 200 g of dough. The store's stock is exactly `pizzas` times that, and nothing else
# limits the orders (no minimum, a huge slot capacity, open all day, every area postcode served).
DOUGH_PER_PIZZA = 200
ALL_DAY = [(day, "00:00", "23:59") for day in range(7)]
POSTCODE = "69009"


def build_race_store(pizzas):
    """A site with one store selling one pizza, whose stock allows exactly `pizzas` of it.

    Returns what the customers need: the store's page path and ids, as plain JSON-able values.
    """
    from wagtail.models import Page, Site

    from home.tests.factories import HomePageFactory
    from menu.tests.factories import IngredientFactory, MenuPageFactory, product_with_recipe
    from stores.models import StoreOrderingSettings
    from stores.tests.factories import StoreIndexPageFactory, StorePageFactory, stock

    root = Page.get_first_root_node()
    home = HomePageFactory(parent=root)
    Site.objects.update_or_create(
        is_default_site=True, defaults={"hostname": "localhost", "port": 80, "root_page": home}
    )
    Page.objects.filter(depth=2).exclude(id=home.id).delete()
    menu = MenuPageFactory(parent=home)
    stores = StoreIndexPageFactory(parent=home)
    dough = IngredientFactory(name="Pâte")
    store = StorePageFactory(
        parent=stores,
        title="OC Pizza Vaise",
        slug="vaise",
        postcode=POSTCODE,
        delivery_postcodes=POSTCODE,
        hours=ALL_DAY,
    )
    StoreOrderingSettings.objects.update_or_create(
        store=store,
        defaults={
            "order_prefix": "VAI",
            "minimum_order": Decimal("0.00"),
            "delivery_fee": Decimal("2.50"),
            "lead_time_minutes": 20,
            "delivery_minutes": 20,
            "slot_capacity": 10_000,
            "accepted_payments": ["cash"],
            "online_payment": False,
            "accepts_orders": True,
        },
    )
    pizza = product_with_recipe(
        menu, title="Margherita", recipe={dough: DOUGH_PER_PIZZA}, sizes=(("Grande", "12.00", "1.00"),)
    )
    stock(store, {dough: DOUGH_PER_PIZZA * pizzas})
    return {
        "store_id": store.id,
        "store_menu_path": f"{menu.url}pizzeria/{store.slug}/",
        "size_id": pizza.sizes.get().id,
        "ingredient_id": dough.id,
        "postcode": POSTCODE,
    }


def race_outcome(store_id):
    """The orders the store took, their confirmations queued and the store's stock levels, read
    from the database."""
    from collections import Counter

    from django_tasks_db.models import DBTaskResult

    from ordering.models import Order
    from stores.models import StockLevel

    levels = {
        str(level.ingredient_id): {"on_hand": level.on_hand, "reserved": level.reserved}
        for level in StockLevel.objects.filter(store_id=store_id).order_by("ingredient_id")
    }
    # Free = on hand - reserved: what can still be sold. Negative anywhere would be an oversale.
    negative = sum(
        1
        for level in StockLevel.objects.all()
        if level.on_hand < 0 or level.reserved < 0 or level.on_hand - level.reserved < 0
    )
    orders = Order.objects.filter(store_id=store_id)
    keys = set(orders.values_list("idempotency_key", flat=True))
    queued = DBTaskResult.objects.filter(task_path="ordering.tasks.send_placed_order_confirmation")
    # Confirmations queued (production's outbox), all of them: one per order of this store and
    # none for a refused attempt (its row rolled back with it; the race's database is its own).
    per_order = Counter(row.args_kwargs["args"][0] for row in queued)
    return {
        "orders": orders.count(),
        "confirmations_queued": sum(per_order.values()),
        "orders_confirmed_once": sum(per_order[key] == 1 for key in keys),
        "pizzas": sum(
            line.quantity for order in orders.prefetch_related("lines") for line in order.lines.all()
        ),
        "levels": levels,
        "negative_levels": negative,
        "fulfilments": sorted(orders.values_list("fulfilment", flat=True)),
    }


def main(argv):
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ocpizza.settings")
    django.setup()
    command = argv[1]
    if command == "build":
        result = build_race_store(int(argv[2]))
    elif command == "verify":
        result = race_outcome(int(argv[2]))
    else:
        raise SystemExit(f"unknown command {command!r}: build PIZZAS | verify STORE_ID")
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv)
