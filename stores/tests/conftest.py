"""Stores and ingredients the stock tests share."""

import pytest

from accounts.tests.factories import UserFactory
from menu.tests.factories import IngredientFactory, product_with_recipe
from ocpizza import roles
from stores.models import StoreRole

from .factories import StoreMembershipFactory, StorePageFactory, stock


@pytest.fixture
def vaise(store_index):
    return StorePageFactory(parent=store_index, title="OC Pizza Vaise", slug="vaise")


@pytest.fixture
def bellecour(store_index):
    return StorePageFactory(parent=store_index, title="OC Pizza Bellecour", slug="bellecour")


@pytest.fixture
def store(vaise):
    return vaise


@pytest.fixture
def dough(db):
    return IngredientFactory(name="Pâte")


@pytest.fixture
def cheese(db):
    return IngredientFactory(name="Mozzarella")


@pytest.fixture
def onion(db):
    return IngredientFactory(name="Oignons")


@pytest.fixture
def manager(bellecour):
    user = UserFactory(email="romain@oc-pizza.fr", groups=[roles.STORE_MANAGERS])
    StoreMembershipFactory(user=user, store=bellecour, role=StoreRole.MANAGER)
    return user


@pytest.fixture
def head_office(db):
    return UserFactory(email="henri@oc-pizza.fr", groups=[roles.HEAD_OFFICE])


@pytest.fixture
def marketing(db):
    return UserFactory(email="margaux@oc-pizza.fr", groups=[roles.MARKETING])


@pytest.fixture
def shop(menu_page, vaise, dough, cheese):
    """Vaise's menu: a Margherita (two sizes, dough and mozzarella) and a Focaccia, with stock."""
    margherita = product_with_recipe(
        menu_page,
        title="Margherita",
        recipe={dough: 200, cheese: 100},
        sizes=(("Petite", "9.00", "1.00"), ("Grande", "13.00", "1.50")),
    )
    product_with_recipe(menu_page, title="Focaccia", recipe={dough: 200})
    stock(vaise, {dough: 5000, cheese: 1000})
    return margherita
