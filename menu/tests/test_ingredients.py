"""An ingredient's unit gives every recipe quantity and stock level its meaning."""

import pytest
from django.urls import reverse

from accounts.tests.factories import PASSWORD, UserFactory
from menu.models import Allergen, Ingredient
from ocpizza import roles
from stores.services import restock
from stores.tests.factories import StorePageFactory

from .factories import IngredientFactory, product_with_recipe


@pytest.fixture
def marketing_client(client, db):
    client.login(username=UserFactory(groups=[roles.MARKETING]).email, password=PASSWORD)
    return client


def change_unit(client, ingredient, unit):
    url = reverse("wagtailsnippets_menu_ingredient:edit", args=[ingredient.pk])
    gluten = Allergen.objects.get(code=Allergen.Code.GLUTEN)
    return client.post(url, {"name": ingredient.name, "unit": unit, "allergens": [gluten.pk]})


def test_unit_of_an_ingredient_used_in_a_recipe_cannot_change(marketing_client, menu_page):
    cheese = IngredientFactory(name="Mozzarella", unit=Ingredient.Unit.GRAM)
    product_with_recipe(menu_page, title="Margherita", recipe={cheese: 100})

    response = change_unit(marketing_client, cheese, Ingredient.Unit.PIECE)

    assert response.status_code == 200
    assert "Impossible de changer l&#x27;unité" in response.content.decode()
    cheese.refresh_from_db()
    assert cheese.unit == Ingredient.Unit.GRAM
    assert not cheese.allergens.exists()


def test_unit_of_an_ingredient_in_stock_cannot_change(marketing_client, store_index):
    cheese = IngredientFactory(name="Mozzarella", unit=Ingredient.Unit.GRAM)
    restock(store=StorePageFactory(parent=store_index), lines=[(cheese, 1000)], user=None)

    response = change_unit(marketing_client, cheese, Ingredient.Unit.MILLILITRE)

    assert response.status_code == 200
    assert "Impossible de changer l&#x27;unité" in response.content.decode()
    cheese.refresh_from_db()
    assert cheese.unit == Ingredient.Unit.GRAM


def test_unit_of_an_unused_ingredient_can_change(marketing_client, home_page):
    oil = IngredientFactory(name="Huile pimentée", unit=Ingredient.Unit.GRAM)

    response = change_unit(marketing_client, oil, Ingredient.Unit.MILLILITRE)

    assert response.status_code == 302
    oil.refresh_from_db()
    assert oil.unit == Ingredient.Unit.MILLILITRE
