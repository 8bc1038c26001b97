"""An ingredient's purchase price: head office types it per kilo, litre or piece; marketing never
sees it."""

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.tests.factories import PASSWORD, UserFactory
from menu.models import Ingredient
from ocpizza import roles

from .factories import IngredientFactory


def edit(client, ingredient, **data):
    url = reverse("wagtailsnippets_menu_ingredient:edit", args=[ingredient.pk])
    return client.post(url, {"name": ingredient.name, "unit": ingredient.unit, **data})


def log_in(client, group):
    client.login(username=UserFactory(groups=[group]).email, password=PASSWORD)


@pytest.fixture
def cheese(db):
    return IngredientFactory(name="Mozzarella", unit=Ingredient.Unit.GRAM)


def test_head_office_sets_the_price_per_kilo(client, cheese):
    log_in(client, roles.HEAD_OFFICE)
    form = client.get(reverse("wagtailsnippets_menu_ingredient:edit", args=[cheese.pk])).content.decode()

    response = edit(client, cheese, purchase_price="8,40")

    assert 'name="purchase_price"' in form
    assert response.status_code == 302
    cheese.refresh_from_db()
    assert cheese.purchase_price == Decimal("8.400")


def test_a_negative_price_is_refused(client, cheese):
    log_in(client, roles.HEAD_OFFICE)

    response = edit(client, cheese, purchase_price="-1")

    assert response.status_code == 200
    cheese.refresh_from_db()
    assert cheese.purchase_price is None


def test_marketing_neither_sees_nor_changes_the_price(client, cheese):
    cheese.purchase_price = Decimal("8.40")
    cheese.save()
    log_in(client, roles.MARKETING)
    form = client.get(reverse("wagtailsnippets_menu_ingredient:edit", args=[cheese.pk])).content.decode()

    response = edit(client, cheese, name="Mozzarella di bufala", purchase_price="0.01")

    assert 'name="purchase_price"' not in form
    assert response.status_code == 302
    cheese.refresh_from_db()
    assert (cheese.name, cheese.purchase_price) == ("Mozzarella di bufala", Decimal("8.400"))


@pytest.mark.parametrize(
    ("unit", "price", "quantity", "cost"),
    [
        (Ingredient.Unit.GRAM, "8.40", 290, "2.44"),  # 2.436 € rounded half up
        (Ingredient.Unit.MILLILITRE, "1.25", 500, "0.63"),  # 0.625 €
        (Ingredient.Unit.PIECE, "0.25", 3, "0.75"),
        (Ingredient.Unit.GRAM, "8.40", -290, "-2.44"),
        (Ingredient.Unit.PIECE, None, 3, None),
    ],
)
def test_the_cost_of_a_quantity_converts_the_price_unit(unit, price, quantity, cost):
    ingredient = Ingredient(name="x", unit=unit, purchase_price=None if price is None else Decimal(price))

    assert ingredient.cost_of(quantity) == (None if cost is None else Decimal(cost))
