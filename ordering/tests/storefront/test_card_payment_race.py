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


def test_the_same_checkout_post_sent_twice_at_once_gives_one_order_and_one_charge(
    client, vaise, margherita, extra_cheese
):
    if connection.vendor != "postgresql":
        pytest.fail("CI must run the race tests on PostgreSQL")
    fill_cart(client, vaise, (size_of(margherita, "Grande"), 2, [extra_cheese]))
    data = checkout_data(client)
    browsers = [same_browser(client), same_browser(client)]

    outcomes = race(
        *[
            lambda browser=browser: (lambda r: (r.status_code, r["Location"]))(
                browser.post(CHECKOUT, data, HTTP_ACCEPT_LANGUAGE="fr")
            )
            for browser in browsers
        ]
    )

    order = Order.objects.get()
    assert outcomes == [(302, f"/commandes/{order.number}/{order.secret}/")] * 2
    assert order.status == "received"
    assert [(p.kind, p.status, p.amount) for p in Payment.objects.all()] == [
        ("charge", "succeeded", Decimal("33.00"))
    ]
