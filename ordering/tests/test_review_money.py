"""Money faults found in review (issue #10), each pinned by a test: Square driven through the
local stub of its API (`square_stub`)."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ordering.models import Payment
from ordering.payments import ProviderUnavailable
from ordering.payments.square import SquareProvider
from ordering.services import cancel_order, expire_unpaid_orders, pay_order, reconcile_payments

from .factories import NOW, new_key, place

D = Decimal
OK = "cnon:card-nonce-ok"
LATER = NOW + datetime.timedelta(minutes=20)


@pytest.fixture
def square(square_stub, shop):
    shop.store.payment_location_id = square_stub.location_id
    shop.store.save()
    square_stub.now = NOW
    return square_stub


def pending_charge_without_answer(stub, shop, settings):
    """An order whose charge was sent but never answered (every try timed out)."""
    settings.SQUARE_TIMEOUT = 0.3
    stub.delay_next("payments.create", 0.8, times=3)
    order = place(shop, payment_method="card_online")
    payment = pay_order(order, source_token=OK, idempotency_key=new_key(), now=NOW)
    assert (payment.status, payment.provider_reference) == ("pending", "")
    return order, payment


# Refused credentials while listing -------------------------------------------------------------


def test_a_listing_square_refuses_raises_provider_unavailable_not_the_sdk_error(square_stub, settings):
    settings.SQUARE_ACCESS_TOKEN = "EAAA-revoked-token"

    with pytest.raises(ProviderUnavailable) as unavailable:
        SquareProvider().list_payments(begin=NOW - datetime.timedelta(days=1), end=NOW)

    assert unavailable.value.outcome_unknown is False
    assert unavailable.value.raw["errors"][0]["code"] == "UNAUTHORIZED"


def test_the_reconciliation_command_says_square_refused_the_credentials(square, settings):
    settings.SQUARE_ACCESS_TOKEN = "EAAA-revoked-token"

    with pytest.raises(CommandError) as refused:
        call_command("reconcile_payments", "--days", "2")

    assert str(refused.value) == (
        "The payment provider refused the request (AUTHENTICATION_ERROR UNAUTHORIZED): "
        "check its credentials (SQUARE_ACCESS_TOKEN, SQUARE_ENVIRONMENT)."
    )


def test_expiring_unpaid_orders_survives_square_refusing_the_credentials(square, shop, settings):
    order, payment = pending_charge_without_answer(square, shop, settings)
    settings.SQUARE_ACCESS_TOKEN = "EAAA-revoked-token"

    assert expire_unpaid_orders(now=LATER) == 0

    order.refresh_from_db()
    payment.refresh_from_db()
    assert (order.status, payment.status) == ("pending_payment", "pending")


# A refund Square never answered ------------------------------------------------------------------


def test_a_refund_square_never_answered_is_sent_again_by_the_reconciliation_once(square, shop):
    order = place(shop, payment_method="card_online")
    pay_order(order, source_token=OK, idempotency_key=new_key(), now=NOW)
    square.fail_next("refunds.refund_payment", 503, times=3)  # answered without processing

    cancel_order(order, by_customer=True, now=NOW)

    refund = Payment.objects.get(kind="refund")
    assert (refund.status, refund.provider_reference, refund.amount) == ("pending", "", D("18.00"))
    assert square.refunds == {}  # the customer has not had the money back

    run = reconcile_payments(days=7, now=NOW + datetime.timedelta(hours=1))

    [at_square] = square.refunds.values()
    refund.refresh_from_db()
    assert (refund.status, refund.provider_reference) == ("succeeded", at_square["id"])
    assert at_square["amount_money"] == {"amount": 1800, "currency": "EUR"}
    assert [(f["problem"], f["action"]) for f in run.findings] == [("refund_pending", "repaired")]
    order.refresh_from_db()
    assert order.payment_state == "refunded"

    again = reconcile_payments(days=7, now=NOW + datetime.timedelta(hours=2))

    assert (again.repaired, len(square.refunds)) == (0, 1)


def test_a_refund_whose_answer_was_lost_is_matched_not_sent_twice(square, shop, settings):
    order = place(shop, payment_method="card_online")
    pay_order(order, source_token=OK, idempotency_key=new_key(), now=NOW)
    settings.SQUARE_TIMEOUT = 0.3
    square.delay_next("refunds.refund_payment", 0.8, times=3)  # made at Square, no answer came

    cancel_order(order, by_customer=True, now=NOW)
    assert Payment.objects.get(kind="refund").status == "pending"

    reconcile_payments(days=7, now=NOW + datetime.timedelta(hours=1))

    [at_square] = square.refunds.values()
    assert Payment.objects.get(kind="refund").provider_reference == at_square["id"]
    assert Payment.objects.get(kind="refund").status == "succeeded"


# An error after a try that may have reached Square ---------------------------------------------


def test_a_refusal_after_a_try_that_may_have_charged_leaves_the_charge_pending_not_failed(
    square, shop, settings
):
    settings.SQUARE_TIMEOUT = 0.3
    square.delay_next("payments.create", 0.8)  # taken at Square, the answer never came
    square.fail_next("payments.create", 409, category="INVALID_REQUEST_ERROR", code="CONFLICT")
    order = place(shop, payment_method="card_online")

    payment = pay_order(order, source_token=OK, idempotency_key=new_key(), now=NOW)

    assert len(square.charges()) == 1
    assert payment.status == "pending"  # not "failed": the customer must not pay a second time
    order.refresh_from_db()
    assert (order.status, order.payment_state) == ("pending_payment", "pending")

    reconcile_payments(days=1, now=NOW + datetime.timedelta(minutes=2))

    payment.refresh_from_db()
    order.refresh_from_db()
    assert (payment.status, order.status) == ("succeeded", "received")


def test_a_refund_refused_after_a_try_that_may_have_refunded_stays_pending(square, shop, settings):
    order = place(shop, payment_method="card_online")
    pay_order(order, source_token=OK, idempotency_key=new_key(), now=NOW)
    settings.SQUARE_TIMEOUT = 0.3
    square.delay_next("refunds.refund_payment", 0.8)  # made at Square, the answer never came
    square.fail_next("refunds.refund_payment", 409, category="INVALID_REQUEST_ERROR", code="CONFLICT")

    cancel_order(order, by_customer=True, now=NOW)

    assert len(square.refunds) == 1
    refund = Payment.objects.get(kind="refund")
    assert refund.status == "pending"  # not "failed", which would let it be refunded again
    order.refresh_from_db()
    assert order.status == "cancelled"
