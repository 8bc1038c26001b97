"""What the ordering tests share: a store with a small menu in stock, and orders placed the
real way (through `place_order`)."""

import datetime
import itertools
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from menu.models import Category
from menu.tests.factories import IngredientFactory, ProductExtraFactory, product_with_recipe
from ordering.pricing import CartLine
from stores.models import StoreOrderingSettings
from stores.tests.factories import StorePageFactory, stock

# A Wednesday at noon in Lyon; the factory's stores open every day 11:00–23:00.
NOW = timezone.make_aware(datetime.datetime(2026, 11, 25, 12, 0))
_keys = itertools.count(1)


def new_key():
    return f"test-{next(_keys)}-{uuid.uuid4().hex[:12]}"


def configure(store, **values):
    """Give `store` ordering settings: the defaults below, changed by `values`."""
    defaults = {
        "order_prefix": store.slug[:3].upper(),
        "minimum_order": Decimal("15.00"),
        "delivery_fee": Decimal("2.50"),
        "free_delivery_from": None,
        "lead_time_minutes": 20,
        "delivery_minutes": 20,
        "slot_capacity": 6,
        "accepted_payments": ["cash", "card_terminal", "meal_voucher", "cheque"],
        "online_payment": True,
        "accepts_orders": True,
    }
    settings, _created = StoreOrderingSettings.objects.update_or_create(
        store=store, defaults={**defaults, **values}
    )
    store.ordering_settings = settings  # the store's cached copy, as a fresh request would read
    return settings


@dataclass
class Shop:
    store: object
    pizza: object  # Margherita: Petite 9.00, Grande 12.00; supplement mozzarella 1.50
    small: object
    large: object
    extra: object  # supplement mozzarella (add)
    no_basil: object  # removal
    beer: object  # 20 % VAT
    beer_size: object
    dessert: object
    dessert_size: object
    cheese: object
    dough: object
    basil: object
    beer_stock: object
    dessert_stock: object


def make_shop(store_index, menu_page, *, slug="vaise", title="OC Pizza Vaise", postcodes="69009"):
    cheese = IngredientFactory(name="Mozzarella")
    dough = IngredientFactory(name="Pâte")
    basil = IngredientFactory(name="Basilic")
    beer_stock = IngredientFactory(name="Bière 33 cl")
    dessert_stock = IngredientFactory(name="Tiramisu")
    store = StorePageFactory(parent=store_index, slug=slug, title=title, delivery_postcodes=postcodes)
    configure(store)
    pizza = product_with_recipe(
        menu_page,
        title="Margherita",
        recipe={dough: 200, cheese: 100, basil: 2},
        sizes=(("Petite", "9.00", "1.00"), ("Grande", "12.00", "2.00")),
    )
    small, large = pizza.sizes.order_by("sort_order")
    extra = ProductExtraFactory(product=pizza, name="Supplément mozzarella", ingredient=cheese, quantity=50)
    no_basil = ProductExtraFactory(
        product=pizza, name="Sans basilic", kind="remove", ingredient=basil, quantity=0, price=Decimal("0")
    )
    beer = product_with_recipe(
        menu_page,
        title="Bière blonde",
        recipe={beer_stock: 1},
        sizes=(("33 cl", "4.00", "1.00"),),
        category=Category.DRINK,
        vat_rate=Decimal("20.00"),
    )
    dessert = product_with_recipe(
        menu_page,
        title="Tiramisu",
        recipe={dessert_stock: 1},
        sizes=(("Pot", "4.90", "1.00"),),
        category=Category.DESSERT,
    )
    stock(store, {cheese: 5000, dough: 10000, basil: 500, beer_stock: 20, dessert_stock: 20})
    return Shop(
        store=store,
        pizza=pizza,
        small=small,
        large=large,
        extra=extra,
        no_basil=no_basil,
        beer=beer,
        beer_size=beer.sizes.get(),
        dessert=dessert,
        dessert_size=dessert.sizes.get(),
        cheese=cheese,
        dough=dough,
        basil=basil,
        beer_stock=beer_stock,
        dessert_stock=dessert_stock,
    )


def line(size, quantity=1, *extras):
    return CartLine(size_id=size.id, quantity=quantity, extra_ids=tuple(sorted(e.id for e in extras)))


def place(shop, lines=None, **overrides):
    """Place an order at the shop's store: by default two small pizzas for pickup, paid in cash."""
    from ordering.services import Address, Contact, place_order

    arguments = {
        "store": shop.store,
        "lines": lines if lines is not None else [line(shop.small, 2)],
        "fulfilment": "pickup",
        "contact": Contact(name="Camille Martin", phone="06 12 34 56 78", email="camille@example.fr"),
        "payment_method": "cash",
        "idempotency_key": new_key(),
        "now": NOW,
    }
    arguments.update(overrides)
    if arguments["fulfilment"] == "delivery":
        arguments.setdefault(
            "address",
            Address(street_address="12 rue de Bourgogne", postcode="69009", city="Lyon", details="2e étage"),
        )
    return place_order(**arguments)


def place_committed(shop, lines=None, **overrides):
    """`place`, then what the order's commit runs (`on_commit`): placing writes its changes to
    Redis (the boards' version, the store's pages' stock token, the tracking entry) after its
    commit only, which a test's transaction never reaches."""
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        return place(shop, lines, **overrides)
