"""Orders paid, refunded and kept in step with Square: the services and the webhook drive the real
`squareup` SDK against the local stub of Square's API (`square_stub`)."""

import datetime
import logging
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from square import Square
from square.environment import SquareEnvironment

from accounts.tests.factories import UserFactory
from ordering.exceptions import PaymentError
from ordering.models import Order, Payment, PaymentReconciliation, Refund, WebhookDelivery
from ordering.services import (
    cancel_order,
    change_order,
    expire_unpaid_orders,
    pay_order,
    reconcile_payments,
    refund_order,
)

from .factories import NOW, line, new_key, place

D = Decimal
OK = "cnon:card-nonce-ok"
WEBHOOK = "/paiements/square/webhook/"
LATER = NOW + datetime.timedelta(minutes=20)  # past the 15 minutes an order waits for its payment


@pytest.fixture
def square(square_stub, shop):
    """The stub, with the shop's store at the stub's Square location and the stub's clock at NOW."""
    shop.store.payment_location_id = square_stub.location_id
    shop.store.save()
    square_stub.now = NOW
    return square_stub


def card_order(shop):
    return place(shop, payment_method="card_online")  # 18.00 €


def paid(shop):
    order = card_order(shop)
    pay_order(order, source_token=OK, idempotency_key=new_key(), now=NOW)
    return order


def time_out_every_attempt(stub, settings):
    """Every request of the next charge reaches Square (the charge is taken) but no answer comes
    back in time, retries included."""
    settings.SQUARE_TIMEOUT = 0.3
    stub.delay_next("payments.create", 0.8, times=3)


def post_webhook(client, stub, body, *, signature=None):
    headers = {"x-square-hmacsha256-signature": signature if signature is not None else stub.sign(body)}
    return client.post(WEBHOOK, data=body, content_type="application/json", headers=headers)


def dashboard_refund(stub, payment_id, cents):
    """A refund made outside the site (Square's dashboard), through the same API."""
    client = Square(base_url=stub.url, environment=SquareEnvironment.SANDBOX, token=stub.access_token)
    return client.refunds.refund_payment(
        idempotency_key=new_key(), payment_id=payment_id, amount_money={"amount": cents, "currency": "EUR"}
    ).refund


# Paying ----------------------------------------------------------------------------------------


def test_an_order_paid_with_square_is_received_with_the_payment_recorded(square, shop):
    order = card_order(shop)

    payment = pay_order(order, source_token=OK, idempotency_key=new_key(), now=NOW)

    charge = square.charges()[0]
    assert (payment.status, payment.provider, payment.amount, payment.provider_reference) == (
        "succeeded",
        "square",
        D("18.00"),
        charge["id"],
    )
    assert charge["amount_money"] == {"amount": 1800, "currency": "EUR"}
    assert (charge["reference_id"], charge["location_id"]) == (order.number, square.location_id)
    assert payment.raw_response["id"] == charge["id"]
    assert Order.objects.get().status == "received"


def test_a_declined_card_then_a_good_one_makes_one_charge(square, shop):
    order = card_order(shop)

    declined = pay_order(order, source_token="cnon:card-nonce-declined", idempotency_key=new_key(), now=NOW)
    accepted = pay_order(order, source_token=OK, idempotency_key=new_key(), now=NOW)

    assert (declined.status, declined.error) == ("failed", "Votre banque a refusé le paiement.")
    assert declined.raw_response["errors"][0]["code"] == "GENERIC_DECLINE"
    assert accepted.status == "succeeded"
    assert len(square.charges("COMPLETED")) == 1
    assert Order.objects.get().status == "received"


def test_a_time_out_after_the_charge_is_retried_with_the_same_key_one_charge(square, shop, settings):
    settings.SQUARE_TIMEOUT = 0.3
    square.delay_next("payments.create", 0.8)
    order = card_order(shop)

    payment = pay_order(order, source_token=OK, idempotency_key=new_key(), now=NOW)

    assert square.calls("payments.create") == 2
    assert len(square.charges()) == 1
    assert (payment.status, payment.provider_reference) == ("succeeded", square.charges()[0]["id"])
    assert Order.objects.get().status == "received"


def test_a_charge_whose_answer_never_came_stays_pending_then_the_webhook_settles_it(
    square, shop, settings, client
):
    time_out_every_attempt(square, settings)
    order = card_order(shop)

    payment = pay_order(order, source_token=OK, idempotency_key=new_key(), now=NOW)

    assert (payment.status, payment.provider_reference) == ("pending", "")
    assert len(square.charges()) == 1  # taken once, whatever the retries
    order.refresh_from_db()
    assert (order.status, order.payment_state) == ("pending_payment", "pending")
    assert order.events.last().note == "Paiement en cours de confirmation"

    charge = square.charges()[0]
    response = post_webhook(client, square, square.webhook_body("payment.updated", charge["id"]))

    assert response.status_code == 200
    payment.refresh_from_db()
    assert (payment.status, payment.provider_reference) == ("succeeded", charge["id"])
    order.refresh_from_db()
    assert (order.status, order.payment_state, order.events.last().note) == (
        "received",
        "paid",
        "Payée en ligne",
    )
    assert len(square.charges()) == 1 and Payment.objects.count() == 1


def test_a_charge_whose_answer_never_came_is_settled_by_the_reconciliation(square, shop, settings):
    time_out_every_attempt(square, settings)
    order = card_order(shop)
    pay_order(order, source_token=OK, idempotency_key=new_key(), now=NOW)

    run = reconcile_payments(days=1, now=NOW + datetime.timedelta(minutes=2))

    charge = square.charges()[0]
    assert [(f["order"], f["payment"], f["problem"], f["action"]) for f in run.findings] == [
        (order.number, charge["id"], "charge_pending", "repaired")
    ]
    assert (run.checked, run.repaired) == (1, 1)
    assert Order.objects.get().status == "received"
    assert list(Payment.objects.values_list("status", "provider_reference")) == [("succeeded", charge["id"])]


def test_expiry_settles_a_pending_charge_that_went_through_instead_of_cancelling(square, shop, settings):
    time_out_every_attempt(square, settings)
    order = card_order(shop)
    pay_order(order, source_token=OK, idempotency_key=new_key(), now=NOW)

    assert expire_unpaid_orders(now=LATER) == 0

    assert Order.objects.get().status == "received"
    assert len(square.charges()) == 1 and not square.refunds


def test_expiry_fails_a_pending_charge_square_never_took_and_expires_the_order(square, shop, settings):
    settings.SQUARE_TIMEOUT = 0.3
    square.fail_next("payments.create", 503, times=3)  # never processed: nothing taken
    order = card_order(shop)
    payment = pay_order(order, source_token=OK, idempotency_key=new_key(), now=NOW)
    assert payment.status == "pending"  # a 5xx may have reached Square: unknown

    assert expire_unpaid_orders(now=LATER) == 1

    payment.refresh_from_db()
    assert (payment.status, payment.error) == ("failed", "Aucun paiement trouvé chez le prestataire.")
    assert Order.objects.get().status == "cancelled"
    assert square.charges(None) == []


def test_refused_credentials_fail_the_payment_and_leave_the_order_payable(square, shop):
    square.fail_next("payments.create", 401)
    order = card_order(shop)

    with pytest.raises(PaymentError, match="momentanément indisponible"):
        pay_order(order, source_token=OK, idempotency_key=new_key(), now=NOW)

    assert list(Payment.objects.values_list("status", flat=True)) == ["failed"]
    assert pay_order(order, source_token=OK, idempotency_key=new_key(), now=NOW).status == "succeeded"


# Refunds ---------------------------------------------------------------------------------------


def test_a_manager_refunds_part_of_a_square_payment(square, shop):
    order = paid(shop)
    manager = UserFactory()

    [refund] = refund_order(
        order, amount=D("6.50"), reason="Pizza oubliée", user=manager, idempotency_key=new_key(), now=NOW
    )

    [at_square] = square.refunds.values()
    assert (refund.status, refund.provider_reference, refund.amount) == (
        "succeeded",
        at_square["id"],
        D("6.50"),
    )
    assert (at_square["amount_money"], at_square["reason"]) == (
        {"amount": 650, "currency": "EUR"},
        "Pizza oubliée",
    )
    assert Order.objects.get().get_payment_state_display() == "Partiellement remboursée"


def test_a_refund_square_refuses_raises_a_readable_error_and_stays_failed(square, shop):
    order = paid(shop)
    square.fail_next(
        "refunds.refund_payment", 400, code="PAYMENT_NOT_REFUNDABLE", category="INVALID_REQUEST_ERROR"
    )

    with pytest.raises(PaymentError) as refused:
        refund_order(order, reason="Retard", user=None, idempotency_key=new_key(), now=NOW)

    assert str(refused.value) == (
        "Le remboursement a été refusé par le prestataire de paiement : "
        "Ce paiement ne peut pas être remboursé."
    )
    assert list(Refund.objects.values_list("status", "amount")) == [("failed", D("18.00"))]
    assert Order.objects.get().payment_state == "paid"


def test_a_pending_refund_is_confirmed_by_its_webhook(square, shop, client):
    square.refund_status = "PENDING"
    order = paid(shop)

    [refund] = refund_order(order, reason="Commande en double", user=None, idempotency_key=new_key(), now=NOW)
    assert (refund.status, Order.objects.get().payment_state) == ("pending", "paid")

    square.set_refund_status(refund.provider_reference, "COMPLETED")
    response = post_webhook(client, square, square.webhook_body("refund.updated", refund.provider_reference))

    assert response.status_code == 200
    refund.refresh_from_db()
    assert refund.status == "succeeded"
    order = Order.objects.get()
    assert (order.get_payment_state_display(), order.events.last().note) == (
        "Remboursée",
        "Remboursement de 18,00\u00a0€ confirmé",
    )


# The webhook -----------------------------------------------------------------------------------


def test_a_webhook_with_a_bad_or_missing_signature_is_refused_and_logged(square, shop, client, caplog):
    order = card_order(shop)
    charge = square.add_payment(amount=1800, reference_id=order.number)
    body = square.webhook_body("payment.updated", charge["id"])

    with caplog.at_level(logging.WARNING, logger="ordering.views.webhooks"):
        bad = post_webhook(client, square, body, signature=square.sign(body + b" "))
        missing = client.post(WEBHOOK, data=body, content_type="application/json")
        tampered = post_webhook(
            client, square, body.replace(b"payment.updated", b"payment.created"), signature=square.sign(body)
        )

    assert (bad.status_code, missing.status_code, tampered.status_code) == (403, 403, 403)
    ours = [r.getMessage() for r in caplog.records if r.name == "ordering.views.webhooks"]
    assert [message.split(":")[0] for message in ours] == ["Payment webhook refused"] * 3
    assert Order.objects.get().status == "pending_payment"
    assert (Payment.objects.count(), WebhookDelivery.objects.count()) == (0, 0)


def test_the_webhook_answers_post_only(square, client):
    assert client.get(WEBHOOK).status_code == 405
    assert reverse("ordering:square_webhook") == WEBHOOK


def test_a_webhook_records_a_payment_taken_without_our_answer(square, shop, client):
    order = card_order(shop)
    charge = square.add_payment(amount=1800, reference_id=order.number)

    response = post_webhook(client, square, square.webhook_body("payment.created", charge["id"]))

    assert response.status_code == 200
    payment = Payment.objects.get()
    assert (payment.status, payment.amount, payment.provider_reference) == (
        "succeeded",
        D("18.00"),
        charge["id"],
    )
    assert Order.objects.get().status == "received"


def test_a_replayed_webhook_changes_nothing(square, shop, client):
    order = card_order(shop)
    charge = square.add_payment(amount=1800, reference_id=order.number)
    body = square.webhook_body("payment.updated", charge["id"], event_id="evt-1")
    assert post_webhook(client, square, body).status_code == 200
    events, version, fetches = order.events.count(), Order.objects.get().version, square.calls("payments.get")

    again = post_webhook(client, square, body)

    assert again.status_code == 200
    assert square.calls("payments.get") == fetches  # not even fetched again
    assert (Order.objects.get().version, order.events.count()) == (version, events)
    assert (Payment.objects.count(), WebhookDelivery.objects.count()) == (1, 1)


def test_a_webhook_about_another_shops_payment_is_ignored(square, shop, client):
    card_order(shop)
    theirs = square.add_payment(amount=2500, reference_id="ELSEWHERE-42")

    response = post_webhook(client, square, square.webhook_body("payment.updated", theirs["id"]))
    missing = post_webhook(client, square, square.webhook_body("payment.updated", "PAY-NOT-AT-SQUARE"))
    other = post_webhook(client, square, square.webhook_body("customer.created", "CUS-1"))

    assert (response.status_code, missing.status_code, other.status_code) == (200, 200, 200)
    assert Payment.objects.count() == 0
    assert Order.objects.get().status == "pending_payment"


def test_a_payment_arriving_after_the_order_expired_is_refunded_in_full(square, shop, client):
    order = card_order(shop)
    expire_unpaid_orders(now=LATER)
    charge = square.add_payment(amount=1800, reference_id=order.number)

    response = post_webhook(client, square, square.webhook_body("payment.updated", charge["id"]))

    assert response.status_code == 200
    [refund] = square.refunds.values()
    assert (refund["payment_id"], refund["amount_money"]["amount"]) == (charge["id"], 1800)
    order.refresh_from_db()
    assert (order.status, order.payment_state) == ("cancelled", "refunded")
    assert order.events.last().note == (
        "Paiement reçu après l'annulation : 18,00\u00a0€ remboursés automatiquement"
    )


def test_a_webhook_square_cannot_be_asked_about_is_left_for_its_retry(square, shop, client):
    order = card_order(shop)
    charge = square.add_payment(amount=1800, reference_id=order.number)
    square.fail_next("payments.get", 503, times=3)
    body = square.webhook_body("payment.updated", charge["id"], event_id="evt-2")

    assert post_webhook(client, square, body).status_code == 503
    assert WebhookDelivery.objects.count() == 0
    assert post_webhook(client, square, body).status_code == 200  # Square's retry
    assert Order.objects.get().status == "received"


# Reconciliation --------------------------------------------------------------------------------


def test_the_reconciliation_repairs_what_is_safe_and_reports_the_rest(square, shop):
    unrecorded = card_order(shop)  # charged at Square, never recorded here
    taken = square.add_payment(amount=1800, reference_id=unrecorded.number)
    refunded = paid(shop)  # refunded from Square's dashboard
    refunded_charge = Payment.objects.get(order=refunded)
    at_dashboard = dashboard_refund(square, refunded_charge.provider_reference, 500)
    failed = paid(shop)  # succeeded here, failed at Square
    failed_charge = Payment.objects.get(order=failed)
    square.set_payment_status(failed_charge.provider_reference, "FAILED")
    stranger = square.add_payment(amount=990, reference_id="ELSEWHERE-7")
    all_good = paid(shop)

    run = reconcile_payments(days=7, now=NOW + datetime.timedelta(hours=1))

    assert [(f["order"], f["payment"], f["problem"], f["action"]) for f in run.findings] == [
        (unrecorded.number, taken["id"], "charge_not_recorded", "repaired"),
        (refunded.number, at_dashboard.id, "refund_not_recorded", "repaired"),
        (failed.number, failed_charge.provider_reference, "failed_at_provider", "reported"),
        ("ELSEWHERE-7", stranger["id"], "unknown_order", "reported"),
    ]
    assert run.findings[0]["detail"] == (
        "Paiement encaissé chez le prestataire, absent du site : enregistré. État : réussi, 18,00\u00a0€."
    )
    assert (run.days, run.checked, run.repaired, len(run.reported)) == (7, 5, 2, 2)
    assert Order.objects.get(pk=unrecorded.pk).status == "received"
    assert Order.objects.get(pk=refunded.pk).paid_amount() == D("13.00")
    assert Order.objects.get(pk=all_good.pk).payment_state == "paid"
    assert (len(square.charges(None)), len(square.refunds)) == (5, 1)  # the site moved no money

    second = reconcile_payments(days=7, now=NOW + datetime.timedelta(hours=2))

    assert second.repaired == 0
    assert [f["problem"] for f in second.findings] == ["failed_at_provider", "unknown_order"]
    assert list(PaymentReconciliation.objects.values_list("repaired", flat=True)) == [0, 2]


def test_the_reconciliation_command_reports_and_fails_clearly_when_square_is_unreachable(
    square, shop, capsys
):
    card_order(shop)
    square.add_payment(
        amount=1800, reference_id=Order.objects.get().number, created_at=datetime.datetime.now(datetime.UTC)
    )

    call_command("reconcile_payments", "--days", "2")
    square.fail_next("payments.list", 503, times=3)
    with pytest.raises(CommandError, match="The payment provider could not be reached"):
        call_command("reconcile_payments", "--days", "2")

    assert capsys.readouterr().out == "1 payment(s) checked, 1 repaired, 0 reported for head office.\n"
    assert PaymentReconciliation.objects.count() == 1


def test_cancelling_a_square_paid_order_refunds_it_at_square(square, shop):
    order = paid(shop)

    cancel_order(order, by_customer=True, now=NOW)

    [refund] = square.refunds.values()
    assert refund["amount_money"] == {"amount": 1800, "currency": "EUR"}
    assert Refund.objects.get().provider_reference == refund["id"]
    assert Order.objects.get().payment_state == "refunded"


# Changes of a card-paid order ------------------------------------------------------------------


def test_a_higher_total_is_charged_at_square_before_the_change_is_applied(square, shop):
    order = place(shop, [line(shop.small, 1)], payment_method="card_online")  # 9.00
    pay_order(order, source_token=OK, idempotency_key=new_key(), now=NOW)

    change_order(order, lines=[line(shop.small, 2)], source_token=OK, now=NOW)

    assert [c["amount_money"]["amount"] for c in square.charges()] == [900, 900]
    order.refresh_from_db()
    assert (order.total, order.paid_amount()) == (D("18.00"), D("18.00"))
    assert order.events.last().note == "Articles modifiés, différence de 9,00\u00a0€ payée"
    difference = Payment.objects.last()
    assert (difference.status, difference.provider_reference) == ("succeeded", square.charges()[1]["id"])


def test_a_declined_difference_is_recorded_and_changes_nothing(square, shop):
    order = place(shop, [line(shop.small, 1)], payment_method="card_online")
    pay_order(order, source_token=OK, idempotency_key=new_key(), now=NOW)

    with pytest.raises(PaymentError, match="Le cryptogramme de la carte est incorrect."):
        change_order(order, lines=[line(shop.small, 2)], source_token="cnon:card-nonce-rejected-cvv", now=NOW)

    assert list(Payment.objects.values_list("amount", "status")) == [
        (D("9.00"), "succeeded"),
        (D("9.00"), "failed"),
    ]
    assert (Order.objects.get().total, Order.objects.get().version) == (D("9.00"), 2)
    # Another card: a new attempt with its own key.
    change_order(order, lines=[line(shop.small, 2)], source_token=OK, now=NOW)
    assert Order.objects.get().paid_amount() == D("18.00")


def test_a_difference_square_never_answered_is_refunded_once_it_went_through(square, shop, settings, client):
    order = place(shop, [line(shop.small, 1)], payment_method="card_online")
    pay_order(order, source_token=OK, idempotency_key=new_key(), now=NOW)
    time_out_every_attempt(square, settings)

    with pytest.raises(PaymentError, match="la commande n'est pas modifiée"):
        change_order(order, lines=[line(shop.small, 2)], source_token=OK, now=NOW)
    assert Order.objects.get().total == D("9.00")

    taken = square.charges()[1]
    assert (
        post_webhook(client, square, square.webhook_body("payment.updated", taken["id"])).status_code == 200
    )

    [refund] = square.refunds.values()
    assert (refund["payment_id"], refund["amount_money"]["amount"]) == (taken["id"], 900)
    order = Order.objects.get()
    assert (order.total, order.paid_amount()) == (D("9.00"), D("9.00"))
    assert order.events.last().note == "Paiement reçu en double : 9,00\u00a0€ remboursés automatiquement"


def test_a_payment_square_settles_later_keeps_the_order_pending_until_completed(square, shop, client):
    order = card_order(shop)
    approved = square.add_payment(amount=1800, reference_id=order.number, status="APPROVED")

    assert (
        post_webhook(client, square, square.webhook_body("payment.created", approved["id"])).status_code
        == 200
    )
    order.refresh_from_db()
    assert (order.status, order.payment_state) == ("pending_payment", "pending")
    assert expire_unpaid_orders(now=LATER) == 0  # money is held: the order does not expire

    square.set_payment_status(approved["id"], "COMPLETED")
    assert (
        post_webhook(client, square, square.webhook_body("payment.updated", approved["id"])).status_code
        == 200
    )

    order.refresh_from_db()
    assert (order.status, order.payment_state) == ("received", "paid")
    assert list(Payment.objects.values_list("status", "provider_reference")) == [
        ("succeeded", approved["id"])
    ]
