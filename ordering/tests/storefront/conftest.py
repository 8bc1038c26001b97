"""The storefront's tests share a small chain: two stores, a menu with pizzas, an extra, a dessert.

Orders are placed through the real services (`ordering.services.place_order`), as the checkout
does; nothing of our own is mocked.
"""

from decimal import Decimal

import pytest

from accounts.tests.factories import UserFactory
from menu.models import Category
from menu.tests.factories import IngredientFactory, ProductExtraFactory, product_with_recipe
from stores.tests.factories import StorePageFactory, stock

# Open all day: the views work at the real time (the services take `now`, the views do not).
ALL_DAY = [(day, "00:00", "23:59") for day in range(7)]


def ordering_settings(store, **overrides):
    from stores.models import StoreOrderingSettings

    values = {
        "order_prefix": store.slug[:3].upper(),
        "minimum_order": Decimal("15.00"),
        "delivery_fee": Decimal("2.50"),
        "lead_time_minutes": 20,
        "delivery_minutes": 20,
        "slot_capacity": 6,
        "accepted_payments": ["cash", "card_terminal", "meal_voucher"],
        "online_payment": True,
        "accepts_orders": True,
    }
    values.update(overrides)
    return StoreOrderingSettings.objects.update_or_create(store=store, defaults=values)[0]


@pytest.fixture
def dough(db):
    return IngredientFactory(name="Pâte")


@pytest.fixture
def cheese(db):
    return IngredientFactory(name="Mozzarella")


@pytest.fixture
def cream(db):
    return IngredientFactory(name="Tiramisu maison", unit="piece")


@pytest.fixture
def vaise(store_index, dough, cheese, cream):
    store = StorePageFactory(
        parent=store_index,
        title="OC Pizza Vaise",
        slug="vaise",
        postcode="69009",
        delivery_postcodes="69009",
        hours=ALL_DAY,
    )
    ordering_settings(store)
    stock(store, {dough: 100_000, cheese: 100_000, cream: 100})
    return store


@pytest.fixture
def bellecour(store_index, dough, cream):
    """A store out of mozzarella: no margherita there."""
    store = StorePageFactory(
        parent=store_index,
        title="OC Pizza Bellecour",
        slug="bellecour",
        delivery_postcodes="69002",
        hours=ALL_DAY,
    )
    ordering_settings(store)
    stock(store, {dough: 100_000, cream: 100})
    return store


@pytest.fixture
def margherita(menu_page, dough, cheese):
    return product_with_recipe(
        menu_page,
        title="Margherita",
        recipe={dough: 200, cheese: 100},
        sizes=(("Moyenne", "12.50", "1.00"), ("Grande", "15.00", "1.40")),
    )


@pytest.fixture
def marinara(menu_page, dough):
    return product_with_recipe(
        menu_page, title="Marinara", recipe={dough: 200}, sizes=(("Moyenne", "10.00", "1.00"),)
    )


@pytest.fixture
def extra_cheese(margherita, cheese):
    return ProductExtraFactory(
        product=margherita, ingredient=cheese, name="Supplément mozzarella", price=Decimal("1.50")
    )


@pytest.fixture
def tiramisu(menu_page, cream):
    return product_with_recipe(
        menu_page,
        title="Tiramisu",
        recipe={cream: 1},
        sizes=(("Part", "5.00", "1.00"),),
        category=Category.DESSERT,
    )


@pytest.fixture
def customer(db):
    return UserFactory(email="claire@example.fr", first_name="Claire", last_name="Martin")


def size_of(product, name=None):
    sizes = list(product.sizes.all())
    return next(size for size in sizes if name is None or size.name == name)
