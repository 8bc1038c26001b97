"""Prices are the server's: lines, extras, VAT per rate, delivery fee, minimum, availability."""

from decimal import Decimal

import pytest

from menu.tests.factories import ProductPageFactory
from ordering.exceptions import OrderError
from ordering.pricing import MAX_QUANTITY, CartLine, quote, vat_lines
from stores.services import withdraw_product

from .factories import NOW, configure, line, make_shop

D = Decimal


def test_a_line_is_priced_from_its_size_and_extras(shop):
    result = quote(shop.store, [line(shop.small, 2, shop.extra, shop.no_basil)], now=NOW)

    [priced] = result.lines
    assert (priced.unit_price, priced.quantity, priced.total) == (D("10.50"), 2, D("21.00"))
    assert priced.extras == [shop.extra, shop.no_basil]
    assert (priced.product, priced.size, priced.category) == (shop.pizza, shop.small, "pizza")
    assert (priced.available, priced.problem) == (True, "")
    assert (result.subtotal, result.discount_total, result.delivery_fee, result.total) == (
        D("21.00"),
        D("0.00"),
        D("0.00"),
        D("21.00"),
    )
    assert result.problems == []
    assert result.orderable


def test_vat_is_totalled_per_rate_on_the_receipt(shop):
    result = quote(shop.store, [line(shop.large, 1), line(shop.beer_size, 3)], fulfilment="delivery", now=NOW)

    # Pizza 12.00 at 10 %, beers 12.00 at 20 %, delivery 2.50 at 10 %.
    assert result.total == D("26.50")
    assert [(v.rate, v.base, v.vat, v.total) for v in result.vat] == [
        (D("10.00"), D("13.18"), D("1.32"), D("14.50")),
        (D("20.00"), D("10.00"), D("2.00"), D("12.00")),
    ]
    assert sum(v.total for v in result.vat) == result.total


def test_vat_lines_round_each_rate_once():
    lines = vat_lines([(D("10.00"), D("0.05"))] * 3 + [(D("5.50"), D("100.00"))])

    assert [(v.rate, v.vat, v.base) for v in lines] == [
        (D("5.50"), D("5.21"), D("94.79")),
        (D("10.00"), D("0.01"), D("0.14")),
    ]


def test_delivery_adds_the_fee_and_checks_the_minimum(shop):
    result = quote(shop.store, [line(shop.small, 1)], fulfilment="delivery", now=NOW)

    assert result.delivery_fee == D("2.50")
    assert result.total == D("11.50")
    assert result.minimum_order == D("15.00")
    assert result.problems == ["Le minimum de commande en livraison est de 15,00\xa0€ (il manque 6,00\xa0€)."]
    assert not result.orderable


def test_delivery_is_free_from_the_stores_threshold(shop):
    configure(shop.store, free_delivery_from=D("20.00"))

    assert quote(shop.store, [line(shop.small, 2)], fulfilment="delivery", now=NOW).delivery_fee == D("2.50")
    assert quote(shop.store, [line(shop.small, 3)], fulfilment="delivery", now=NOW).delivery_fee == D("0.00")


def test_pickup_has_no_fee_and_no_minimum(shop):
    result = quote(shop.store, [line(shop.small, 1)], now=NOW)

    assert (result.delivery_fee, result.minimum_order, result.problems) == (D("0.00"), None, [])


def test_a_store_that_does_not_deliver_says_so(home_page, store_index, menu_page):
    shop = make_shop(store_index, menu_page, postcodes="")

    result = quote(shop.store, [line(shop.small, 2)], fulfilment="delivery", now=NOW)

    assert "Cette pizzeria ne livre pas : choisissez le retrait sur place." in result.problems


def test_an_empty_cart_cannot_be_ordered(shop):
    result = quote(shop.store, [], now=NOW)

    assert result.problems == ["Votre panier est vide."]
    assert result.total == D("0.00")


def test_an_extra_of_another_product_is_refused(shop):
    with pytest.raises(OrderError, match="Cette option n'existe pas pour Bière blonde."):
        quote(shop.store, [line(shop.beer_size, 1, shop.extra)], now=NOW)


@pytest.mark.parametrize(
    "bad_line",
    [
        CartLine(size_id=999_999, quantity=1),
        CartLine(size_id="1", quantity=1),
        CartLine(size_id=-1, quantity=1),
    ],
)
def test_an_unknown_size_is_refused(shop, bad_line):
    with pytest.raises(OrderError):
        quote(shop.store, [bad_line], now=NOW)


def test_an_unknown_extra_is_refused(shop):
    with pytest.raises(OrderError, match="Cette option n'existe pas pour Margherita."):
        quote(shop.store, [CartLine(size_id=shop.small.id, quantity=1, extra_ids=(999_999,))], now=NOW)


@pytest.mark.parametrize("quantity", [0, -1, MAX_QUANTITY + 1, "2", 1.5, True])
def test_a_tampered_quantity_is_refused(shop, quantity):
    with pytest.raises(OrderError, match="La quantité doit être un nombre entier entre 1 et 50."):
        quote(shop.store, [CartLine(size_id=shop.small.id, quantity=quantity)], now=NOW)


def test_a_line_the_store_cannot_make_is_priced_but_flagged(shop):
    withdraw_product(store=shop.store, product=shop.beer, user=None)

    result = quote(shop.store, [line(shop.small, 1), line(shop.beer_size, 1)], now=NOW)

    assert [(pl.available, pl.problem) for pl in result.lines] == [
        (True, ""),
        (False, "Bière blonde n'est pas disponible pour le moment dans cette pizzeria."),
    ]
    assert result.subtotal == D("13.00")
    assert result.problems == ["Bière blonde n'est pas disponible pour le moment dans cette pizzeria."]


def test_lines_share_the_same_stock(shop):
    # 20 beers in stock: 15 + 15 cannot both be served.
    result = quote(shop.store, [line(shop.beer_size, 15), line(shop.beer_size, 15)], now=NOW)

    assert [pl.available for pl in result.lines] == [True, False]
    assert result.lines[1].problem == "Bière blonde (33 cl) : il n'en reste que 5."


def test_an_unpublished_product_is_flagged(shop):
    shop.beer.unpublish()

    result = quote(shop.store, [line(shop.beer_size, 1)], now=NOW)

    assert result.problems == ["Bière blonde n'est plus disponible."]


def test_a_product_without_recipe_is_always_available(shop, menu_page):
    sauce = ProductPageFactory(parent=menu_page, title="Sauce piquante", sizes=[("Pot", "0.50")])

    result = quote(shop.store, [line(sauce.sizes.get(), 40)], now=NOW)

    assert result.lines[0].available
    assert result.total == D("20.00")


def test_a_store_that_takes_no_orders_says_so(shop):
    configure(shop.store, accepts_orders=False)

    result = quote(shop.store, [line(shop.small, 1)], now=NOW)

    assert result.problems == ["Cette pizzeria ne prend pas de commande en ligne pour le moment."]


def test_quote_costs_the_same_queries_whatever_the_number_of_lines(shop, django_assert_max_num_queries):
    few = [line(shop.small, 1, shop.extra)]
    many = [line(shop.small, 1, shop.extra), line(shop.large, 2, shop.no_basil), line(shop.beer_size, 1)]
    many += [line(shop.dessert_size, 1), line(shop.large, 1, shop.extra, shop.no_basil)]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as baseline:
        quote(shop.store, few, fulfilment="delivery", now=NOW)
    with django_assert_max_num_queries(len(baseline.captured_queries)):
        quote(shop.store, many, fulfilment="delivery", now=NOW)
