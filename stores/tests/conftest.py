"""Stores and ingredients the stock tests share."""

import pytest

from menu.tests.factories import IngredientFactory

from .factories import StorePageFactory


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
