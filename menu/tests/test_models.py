from decimal import Decimal

import pytest
from django.db import IntegrityError

from menu.models import Allergen, ProductSize

from .factories import ProductPageFactory


def test_the_fourteen_eu_allergens_exist(db):
    assert Allergen.objects.count() == 14
    assert set(Allergen.Code.values) == set(Allergen.objects.values_list("code", flat=True))


def test_a_size_price_must_be_positive(menu_page):
    product = ProductPageFactory(parent=menu_page)
    with pytest.raises(IntegrityError):
        ProductSize.objects.create(product=product, name="Gratuite", price=Decimal("0.00"))


def test_from_price_is_the_cheapest_size(menu_page):
    product = ProductPageFactory(parent=menu_page, sizes=[("Grande", "15.00"), ("Petite", "9.50")])
    assert product.from_price == Decimal("9.50")
