"""Stores and ingredients the stock tests share."""

import pytest

from accounts.tests.factories import UserFactory
from menu.tests.factories import IngredientFactory
from ocpizza import roles
from stores.models import StoreRole

from .factories import StoreMembershipFactory, StorePageFactory


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
