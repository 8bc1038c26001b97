"""Money under real concurrency (review of issue #10): threads, each with its own PostgreSQL
connection, against the local stub of Square's API. PostgreSQL only (row locks)."""

import os
import time
from decimal import Decimal

import pytest
from django.db import connection

from ordering.models import Order, Payment
from ordering.services import cancel_order, change_order, pay_order, refund_order, sync_payment

from .factories import NOW, line, make_shop, new_key, place
from .test_concurrency import race

OK = "cnon:card-nonce-ok"

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.usefixtures("restore_migrated_rows"),
    pytest.mark.skipif(
        connection.vendor != "postgresql" and not os.environ.get("CI"),
        reason="needs PostgreSQL's row locks (set DATABASE_URL)",
    ),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def race_shop(home_page, store_index, menu_page):
    return make_shop(store_index, menu_page)


def test_two_managers_refunding_everything_at_once_refund_it_once(race_shop, square_stub):
    shop = race_shop
    order = place(shop, payment_method="card_online")
    pay_order(order, source_token=OK, idempotency_key=new_key(), now=NOW)
    square_stub.delay_next("refunds.refund_payment", 1.0)  # the second arrives during the first call

    outcomes = race(
        *[
            lambda: len(refund_order(order, reason="Erreur", user=None, idempotency_key=new_key(), now=NOW))
            for _n in range(2)
        ]
    )

    assert sorted(map(str, outcomes)) == ["1", "refused: Cette commande n'a rien à rembourser."]
    [refund] = square_stub.refunds.values()
    assert refund["amount_money"] == {"amount": 1800, "currency": "EUR"}
    assert Order.objects.get().paid_amount() == Decimal("0.00")


def test_a_cancellation_racing_the_charge_of_a_change_never_keeps_money_for_nothing(race_shop, square_stub):
    shop = race_shop
    order = place(shop, [line(shop.small, 1)], payment_method="card_online")  # 9.00
    pay_order(order, source_token=OK, idempotency_key=new_key(), now=NOW)
    square_stub.delay_next("payments.create", 1.0)  # the cancellation arrives during the charge

    outcomes = race(
        lambda: change_order(order, lines=[line(shop.small, 2)], source_token=OK, now=NOW).status,
        lambda: cancel_order(order, by_customer=True, now=NOW).status,
    )

    order = Order.objects.get()
    charged = sum(c["amount_money"]["amount"] for c in square_stub.charges())
    refunded = sum(r["amount_money"]["amount"] for r in square_stub.refunds.values())
    if order.status == "cancelled":  # the cancellation came first: the change was refused
        assert charged - refunded == 0, outcomes
    else:  # the change came first: the cancellation waited for its charge and was refused
        assert (order.status, order.total, charged, refunded) == ("received", Decimal("18.00"), 1800, 0)
        assert outcomes[1].startswith("refused: "), outcomes
    assert not Payment.objects.filter(status="pending").exists()


def test_a_webhook_arriving_before_squares_answer_to_a_change_charge_lets_the_change_apply(
    race_shop, square_stub
):
    shop = race_shop
    order = place(shop, [line(shop.small, 1)], payment_method="card_online")  # 9.00
    pay_order(order, source_token=OK, idempotency_key=new_key(), now=NOW)
    square_stub.delay_next("payments.create", 1.5)  # Square's webhook comes before its answer

    def webhook():
        time.sleep(0.7)
        sync_payment("square", "payment", square_stub.charges()[-1]["id"], now=NOW)
        return "synced"

    outcomes = race(
        lambda: change_order(order, lines=[line(shop.small, 2)], source_token=OK, now=NOW).total, webhook
    )

    assert outcomes == [Decimal("18.00"), "synced"]
    order = Order.objects.get()
    assert (order.total, order.paid_amount()) == (Decimal("18.00"), Decimal("18.00"))
    assert [c["amount_money"]["amount"] for c in square_stub.charges()] == [900, 900]
    assert square_stub.refunds == {}  # the difference is not given back
