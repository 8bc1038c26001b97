"""The checkout's card payment under real concurrency: the same POST sent twice at once (a double
click, a retried request) gives one order and one charge. PostgreSQL only (row locks)."""

import os
from copy import deepcopy
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client

from ordering.models import Order, Payment
from ordering.tests.test_concurrency import race

from .conftest import size_of
from .test_checkout import CHECKOUT, fill_cart, hidden

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.usefixtures("restore_migrated_rows"),
    pytest.mark.skipif(
        connection.vendor != "postgresql" and not os.environ.get("CI"),
        reason="needs PostgreSQL's row locks (set DATABASE_URL)",
    ),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def checkout_data(client):
    html = client.get(f"{CHECKOUT}?mode=pickup", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    return {
        "name": "Claire Martin",
        "phone": "06 12 34 56 78",
        "email": "claire@example.fr",
        "fulfilment": "pickup",
        "when": "asap",
        "payment_method": "card_online",
        "idempotency_key": hidden(html, "idempotency_key"),
        "expected_total": hidden(html, "expected_total"),
        "source_token": "cnon:card-nonce-ok",
    }


def same_browser(client):
    """Another client holding the same session cookie: the same visitor's second request."""
    twin = Client()
    twin.cookies = deepcopy(client.cookies)
    return twin


def post_twice_at_once(client, data):
    """The same checkout POST from the same visitor, twice at once: [(status, Location), …]."""
    browsers = [same_browser(client), same_browser(client)]

    def post(browser):
        response = browser.post(CHECKOUT, data, HTTP_ACCEPT_LANGUAGE="fr")
        return response.status_code, response.get("Location")

    return race(*[lambda browser=browser: post(browser) for browser in browsers])


@pytest.fixture
def cart(client, vaise, margherita, extra_cheese):
    if connection.vendor != "postgresql":
        pytest.fail("CI must run the race tests on PostgreSQL")
    fill_cart(client, vaise, (size_of(margherita, "Grande"), 2, [extra_cheese]))
    return client


def test_the_same_checkout_post_sent_twice_at_once_gives_one_order_and_one_charge(cart):
    outcomes = post_twice_at_once(cart, checkout_data(cart))

    order = Order.objects.get()
    assert outcomes == [(302, f"/commandes/{order.number}/{order.secret}/")] * 2
    assert order.status == "received"
    assert [(p.kind, p.status, p.amount) for p in Payment.objects.all()] == [
        ("charge", "succeeded", Decimal("33.00"))
    ]


def test_with_square_the_same_checkout_post_twice_at_once_charges_the_card_once(cart, vaise, square_stub):
    vaise.payment_location_id = "LOC-VAISE"
    vaise.save()

    outcomes = post_twice_at_once(cart, checkout_data(cart))

    order = Order.objects.get()
    assert outcomes == [(302, f"/commandes/{order.number}/{order.secret}/")] * 2
    assert [(c["amount_money"]["amount"], c["reference_id"]) for c in square_stub.charges(None)] == [
        (3300, order.number)
    ]
    assert square_stub.calls("payments.create") == 1
    order.refresh_from_db()
    assert order.status == "received"
    assert [(p.status, p.amount) for p in Payment.objects.all()] == [("succeeded", Decimal("33.00"))]
