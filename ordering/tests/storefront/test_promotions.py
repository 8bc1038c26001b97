"""The demo's "2 pizzas achetées, le dessert offert" as the storefront shows it: a hint, then a
discount line in the cart, the checkout and the order."""

import pytest

from home.demo import FREE_DESSERT_RULE
from home.tests.factories import PromotionFactory
from ordering.models import Order

from .conftest import size_of
from .test_checkout import checkout_post, fill_cart

FR = {"HTTP_ACCEPT_LANGUAGE": "fr"}


@pytest.fixture
def free_dessert(db):
    return PromotionFactory(title="2 pizzas achetées, le dessert offert", **FREE_DESSERT_RULE)


def test_the_cart_hints_then_applies_the_free_dessert(client, free_dessert, vaise, margherita, tiramisu):
    fill_cart(client, vaise, (size_of(margherita), 2, []))

    html = client.get("/panier/", **FR).content.decode()
    assert '<ul class="hints"><li>Votre dessert est offert : ajoutez-en un.</li></ul>' in html

    fill_cart(client, vaise, (size_of(tiramisu), 1, []))
    html = client.get("/panier/", **FR).content.decode()

    assert (
        '<tr class="discount"><th scope="row" colspan="2">2 pizzas achetées, le dessert offert</th>'
        '<td class="amount">−5,00\u00a0€</td></tr>'
    ) in html
    assert '<td class="amount" data-cart-total>25,00\u00a0€</td>' in html


def test_the_order_keeps_the_discount_line(client, free_dessert, vaise, margherita, tiramisu):
    fill_cart(client, vaise, (size_of(margherita), 2, []), (size_of(tiramisu), 1, []))

    response, _data = checkout_post(client)

    order = Order.objects.get()
    assert response.status_code == 302
    assert (order.subtotal, order.discount_total, order.total) == (30, 5, 25)
    html = client.get(response["Location"], **FR).content.decode()
    discount = '<th scope="row">2 pizzas achetées, le dessert offert</th><td class="amount">−5,00\u00a0€</td>'
    assert discount in html
    assert '<td class="amount" data-order-total>25,00\u00a0€</td>' in html
