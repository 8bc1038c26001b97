"""Promotion rules as the checkout applies them: discount lines, VAT, stored on the order."""

from decimal import Decimal

import pytest

from menu import promotions
from menu.promotions import PromotionRule
from ordering.pricing import quote

from .factories import NOW, line, place

D = Decimal

FREE_DESSERT = PromotionRule(
    promotion_id=7,
    title="2 pizzas achetées, le dessert offert",
    kind="free_product",
    min_quantity=2,
    condition_category="pizza",
    target_category="dessert",
)
WELCOME = PromotionRule(
    promotion_id=8, title="Bienvenue : 10 % offerts", kind="percent_off", code="BIENVENUE", percent=D("10")
)


@pytest.fixture
def rules(monkeypatch):
    """The promotions on offer: sources plugged into the registry for this test only."""
    monkeypatch.setattr(promotions, "_sources", [])
    promotions.register_rule_source(lambda now: [FREE_DESSERT, WELCOME])


def test_the_free_dessert_is_a_discount_line(shop, rules):
    result = quote(shop.store, [line(shop.small, 2), line(shop.dessert_size, 1)], now=NOW)

    assert [(d.label, d.amount, d.vat_rate, d.promotion_id) for d in result.discounts] == [
        ("2 pizzas achetées, le dessert offert", D("4.90"), D("10.00"), 7)
    ]
    assert (result.subtotal, result.discount_total, result.total) == (D("22.90"), D("4.90"), D("18.00"))
    assert [(v.rate, v.total) for v in result.vat] == [(D("10.00"), D("18.00"))]


def test_a_hint_says_the_dessert_is_free(shop, rules):
    result = quote(shop.store, [line(shop.small, 2)], now=NOW)

    assert result.discounts == []
    assert result.hints == ["Votre dessert est offert : ajoutez-en un."]


def test_a_code_applies_only_when_typed(shop, rules):
    lines = [line(shop.small, 2)]

    assert quote(shop.store, lines, now=NOW).total == D("18.00")
    typed = quote(shop.store, lines, code=" bienvenue ", now=NOW)
    assert (typed.discount_total, typed.total, typed.code_error) == (D("1.80"), D("16.20"), "")
    assert quote(shop.store, lines, code="FAUX", now=NOW).code_error == "Code promotionnel inconnu ou expiré."


def test_the_order_keeps_its_discounts_and_code(shop, rules):
    order = place(shop, [line(shop.small, 2), line(shop.dessert_size, 1)], code="bienvenue")

    assert list(order.discounts.values_list("label", "amount", "vat_rate", "promotion_id")) == [
        ("2 pizzas achetées, le dessert offert", D("4.90"), D("10.00"), 7),
        ("Bienvenue : 10 % offerts", D("1.80"), D("10.00"), 8),
    ]
    assert (order.subtotal, order.discount_total, order.total) == (D("22.90"), D("6.70"), D("16.20"))
    assert order.promotion_code == "BIENVENUE"
    assert [(v.rate, v.total) for v in order.vat_breakdown()] == [(D("10.00"), D("16.20"))]
