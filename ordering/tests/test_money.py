"""Refunds by a manager, payments handed over to staff, the order's payment state, and the
rows a payment leaves for audit (with the offline simulator)."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command

from accounts.tests.factories import UserFactory
from ordering.exceptions import OrderError, PaymentError, TransitionError
from ordering.models import Order, Payment, PaymentReconciliation, Refund
from ordering.services import (
    cancel_order,
    mark_collected,
    mark_ready,
    pay_order,
    record_payment,
    refund_order,
    start_preparing,
)

from .factories import NOW, line, new_key, place

D = Decimal
OK = "cnon:card-nonce-ok"


def paid_order(shop, lines=None):
    order = place(shop, lines or [line(shop.small, 2)], payment_method="card_online")
    pay_order(order, source_token=OK, idempotency_key=new_key(), now=NOW)
    return order


@pytest.fixture
def manager(db):
    return UserFactory()


# Paying online ---------------------------------------------------------------------------------


def test_a_payment_keeps_its_store_location_and_when_it_changed(shop):
    shop.store.payment_location_id = "LOC-VAISE"
    shop.store.save()
    order = place(shop, payment_method="card_online")

    payment = pay_order(order, source_token=OK, idempotency_key=new_key(), now=NOW)

    payment.refresh_from_db()
    assert (payment.status, payment.location_id, payment.updated_at) == ("succeeded", "LOC-VAISE", NOW)
    assert order.payment_state == "paid"
    assert order.get_payment_state_display() == "Payée"


def test_an_order_with_a_declined_card_is_still_unpaid(shop):
    order = place(shop, payment_method="card_online")

    payment = pay_order(order, source_token="cnon:card-nonce-declined", idempotency_key=new_key(), now=NOW)

    assert payment.status == "failed"
    assert payment.provider_reference.startswith("sim-fail-1800-")
    assert payment.raw_response == {
        "errors": [{"category": "PAYMENT_METHOD_ERROR", "code": "GENERIC_DECLINE"}]
    }
    assert Order.objects.get().payment_state == "unpaid"


def test_a_charge_awaiting_the_bank_shows_the_order_as_pending(shop):
    order = place(shop, payment_method="card_online")
    Payment.objects.create(
        order=order,
        kind="charge",
        method="card_online",
        provider="simulator",
        amount=order.total,
        idempotency_key=new_key(),
        created_at=NOW,
    )

    assert (order.payment_state, order.get_payment_state_display()) == (
        "pending",
        "Paiement en cours de confirmation",
    )


# Refunds by a manager --------------------------------------------------------------------------


def test_a_manager_refunds_part_then_the_rest_of_a_paid_order(shop, manager):
    order = paid_order(shop)

    first = refund_order(
        order, amount=D("5.50"), reason="Pizza froide", user=manager, idempotency_key=new_key(), now=NOW
    )

    assert [(r.kind, r.amount, r.status, r.reason, r.created_by) for r in first] == [
        ("refund", D("5.50"), "succeeded", "Pizza froide", manager)
    ]
    assert first[0].provider_reference.startswith("sim-ref-")
    order.refresh_from_db()
    assert (order.charged_amount(), order.refunded_amount(), order.paid_amount()) == (
        D("18.00"),
        D("5.50"),
        D("12.50"),
    )
    assert order.get_payment_state_display() == "Partiellement remboursée"
    assert order.events.last().note == "Remboursement de 5,50\u00a0€ : Pizza froide"
    assert order.events.last().user == manager

    rest = refund_order(order, reason="Geste commercial", user=manager, idempotency_key=new_key(), now=NOW)

    assert [r.amount for r in rest] == [D("12.50")]
    assert (order.payment_state, order.get_payment_state_display()) == ("refunded", "Remboursée")
    assert list(Refund.objects.values_list("amount", flat=True)) == [D("5.50"), D("12.50")]
    assert Order.objects.get().status == "received"  # a refund does not cancel the order


def test_the_same_refund_key_twice_refunds_once(shop, manager):
    order = paid_order(shop)
    key = new_key()

    first = refund_order(order, amount=D("3.00"), reason="Retard", user=manager, idempotency_key=key, now=NOW)
    again = refund_order(order, amount=D("3.00"), reason="Retard", user=manager, idempotency_key=key, now=NOW)

    assert again == first
    assert Refund.objects.count() == 1


@pytest.mark.parametrize(
    ("amount", "reason", "message"),
    [
        (D("18.01"), "Retard", "Vous pouvez rembourser au plus 18,00\u00a0€."),
        (D("0"), "Retard", "Indiquez un montant à rembourser valable."),
        (D("-2"), "Retard", "Indiquez un montant à rembourser valable."),
        (D("1.005"), "Retard", "Indiquez un montant à rembourser valable."),
        (D("2"), "   ", "Indiquez le motif du remboursement."),
    ],
)
def test_a_refund_is_refused_beyond_what_was_paid_or_without_a_reason(shop, manager, amount, reason, message):
    order = paid_order(shop)

    with pytest.raises(OrderError) as refused:
        refund_order(order, amount=amount, reason=reason, user=manager, idempotency_key=new_key(), now=NOW)

    assert str(refused.value) == message
    assert Refund.objects.count() == 0


def test_an_order_fully_refunded_or_never_paid_online_has_nothing_to_refund(shop, manager):
    order = paid_order(shop)
    refund_order(order, reason="Erreur", user=manager, idempotency_key=new_key(), now=NOW)

    with pytest.raises(OrderError, match="Cette commande n'a rien à rembourser."):
        refund_order(order, amount=D("1"), reason="Erreur", user=manager, idempotency_key=new_key(), now=NOW)
    with pytest.raises(OrderError, match="Cette commande n'a rien à rembourser."):
        refund_order(place(shop), reason="Erreur", user=manager, idempotency_key=new_key(), now=NOW)


def test_a_collected_order_may_still_be_refunded(shop, manager):
    order = paid_order(shop)
    start_preparing(order, now=NOW)
    mark_ready(order, now=NOW)
    mark_collected(order, now=NOW)

    refund_order(order, amount=D("9.00"), reason="Une pizza brûlée", user=manager, idempotency_key=new_key())

    assert Order.objects.get().paid_amount() == D("9.00")


def test_a_refund_the_provider_refuses_is_kept_failed_and_reported(shop, manager):
    order = place(shop, payment_method="card_online")
    pay_order(order, source_token=OK, idempotency_key=new_key(), now=NOW)
    # A charge the simulator does not know (not one of its references): it refuses to refund it.
    Payment.objects.filter(kind="charge").update(provider_reference="elsewhere-1")

    with pytest.raises(PaymentError) as refused:
        refund_order(order, reason="Retard", user=manager, idempotency_key=new_key(), now=NOW)

    assert str(refused.value) == (
        "Le remboursement a été refusé par le prestataire de paiement : "
        "Paiement introuvable chez le prestataire."
    )
    assert list(Refund.objects.values_list("status", "amount")) == [("failed", D("18.00"))]
    order.refresh_from_db()
    assert (order.paid_amount(), order.payment_state) == (D("18.00"), "paid")


def test_cancelling_after_a_partial_refund_gives_back_the_rest(shop, manager):
    order = paid_order(shop)
    refund_order(order, amount=D("4.00"), reason="Retard", user=manager, idempotency_key=new_key(), now=NOW)

    cancel_order(order, by_customer=True, now=NOW)

    assert list(Refund.objects.values_list("amount", flat=True)) == [D("4.00"), D("14.00")]
    assert Order.objects.get().payment_state == "refunded"


# Payments handed over --------------------------------------------------------------------------


def test_cash_handed_over_is_recorded_with_the_change(shop, manager):
    order = place(shop)  # 18.00 in cash

    payment = record_payment(order, method="cash", amount_received=D("20.00"), user=manager, now=NOW)

    assert (
        payment.kind,
        payment.method,
        payment.provider,
        payment.amount,
        payment.amount_received,
        payment.change_given,
        payment.status,
        payment.created_by,
    ) == ("charge", "cash", "on_delivery", D("18.00"), D("20.00"), D("2.00"), "succeeded", manager)
    event = order.events.last()
    assert (event.note, event.user, event.to_status) == (
        "Paiement reçu : 18,00\u00a0€ (espèces) – monnaie rendue 2,00\u00a0€",
        manager,
        "received",
    )
    assert order.payment_state == "paid"


def test_meal_vouchers_may_exceed_the_amount_due_without_change(shop, manager):
    order = place(shop, payment_method="meal_voucher")

    payment = record_payment(order, method="meal_voucher", amount_received=D("19.00"), user=manager, now=NOW)

    assert (payment.amount, payment.amount_received, payment.change_given) == (
        D("18.00"),
        D("19.00"),
        D("0.00"),
    )


@pytest.mark.parametrize(
    ("method", "received", "message"),
    [
        ("cash", D("17.99"), "Le montant reçu ne couvre pas les 18,00\u00a0€ dus."),
        ("card_terminal", D("20.00"), "Le montant reçu doit être exactement de 18,00\u00a0€."),
        ("cheque", D("17.00"), "Le montant reçu ne couvre pas les 18,00\u00a0€ dus."),
        ("cash", "abc", "Indiquez le montant reçu."),
        ("card_online", D("18.00"), "Choisissez le moyen de paiement remis."),
    ],
)
def test_a_hand_over_payment_must_cover_the_amount_due(shop, manager, method, received, message):
    order = place(shop)

    with pytest.raises(OrderError) as refused:
        record_payment(order, method=method, amount_received=received, user=manager, now=NOW)

    assert str(refused.value) == message
    assert Payment.objects.count() == 0


def test_an_order_is_paid_by_hand_only_once_and_never_once_cancelled(shop, manager):
    order = place(shop)
    record_payment(order, method="card_terminal", amount_received=D("18.00"), user=manager, now=NOW)
    with pytest.raises(TransitionError, match="Cette commande est déjà payée."):
        record_payment(order, method="cash", amount_received=D("18.00"), user=manager, now=NOW)

    cancelled = place(shop)
    cancel_order(cancelled, by_customer=True, now=NOW)
    with pytest.raises(TransitionError, match="Cette commande est annulée"):
        record_payment(cancelled, method="cash", amount_received=D("18.00"), user=manager, now=NOW)

    online = paid_order(shop)
    with pytest.raises(TransitionError, match="Cette commande est déjà payée."):
        record_payment(online, method="cash", amount_received=D("18.00"), user=manager, now=NOW)
    assert Payment.objects.filter(provider="on_delivery").count() == 1


def test_an_order_waiting_for_its_card_payment_may_be_paid_at_the_counter(shop, manager):
    order = place(shop, payment_method="card_online")

    record_payment(order, method="cash", amount_received=D("18.00"), user=manager, now=NOW)

    order.refresh_from_db()
    assert (order.status, order.expires_at, order.payment_state) == ("received", None, "paid")


# Reconciliation without a card provider --------------------------------------------------------


def test_the_reconciliation_command_has_nothing_to_do_without_card_payments(db, settings, capsys):
    settings.PAYMENT_PROVIDER = "none"

    call_command("reconcile_payments", "--days", "3")

    assert capsys.readouterr().out == (
        "No card payment online (PAYMENT_PROVIDER=none): nothing to reconcile.\n"
    )
    assert PaymentReconciliation.objects.count() == 0


def test_expired_orders_without_a_pending_charge_still_expire(shop):
    order = place(shop, payment_method="card_online")
    pay_order(order, source_token="cnon:card-nonce-declined", idempotency_key=new_key(), now=NOW)

    from ordering.services import expire_unpaid_orders

    assert expire_unpaid_orders(now=NOW + datetime.timedelta(minutes=15)) == 1
    assert Order.objects.get().status == "cancelled"


def test_cancelling_an_order_paid_by_hand_refunds_nothing_through_a_provider(shop, manager):
    order = place(shop)
    record_payment(order, method="cash", amount_received=D("20.00"), user=manager, now=NOW)

    cancel_order(order, reason="Client absent", now=NOW)

    assert Refund.objects.count() == 0
    assert Order.objects.get().status == "cancelled"


def test_the_webhook_is_not_found_without_a_card_provider(db, client, settings):
    settings.PAYMENT_PROVIDER = "none"

    response = client.post("/paiements/square/webhook/", data=b"{}", content_type="application/json")

    assert response.status_code == 404


def test_the_simulator_s_signed_webhook_settles_a_pending_charge(shop, client, settings):
    import hashlib
    import hmac
    import json

    from ordering.payments.simulator import WEBHOOK_KEY, SimulatorProvider

    settings.SQUARE_WEBHOOK_URL = "https://oc-pizza.fr/paiements/square/webhook/"
    order = place(shop, payment_method="card_online")
    reference = (
        SimulatorProvider()
        .charge(amount=D("18.00"), source_token=OK, idempotency_key="sim-webhook-1", reference=order.number)
        .reference
    )
    Payment.objects.create(
        order=order,
        kind="charge",
        method="card_online",
        provider="simulator",
        amount=D("18.00"),
        idempotency_key="sim-webhook-1",
        provider_reference=reference,
        created_at=NOW,
    )
    body = json.dumps(
        {"type": "payment.updated", "event_id": "evt-sim-1", "data": {"type": "payment", "id": reference}}
    ).encode()
    signature = hmac.new(WEBHOOK_KEY, settings.SQUARE_WEBHOOK_URL.encode() + body, hashlib.sha256).hexdigest()

    response = client.post(
        "/paiements/square/webhook/",
        data=body,
        content_type="application/json",
        headers={"X-Simulator-Signature": signature},
    )

    assert response.status_code == 200
    order.refresh_from_db()
    assert (order.status, order.payment_state) == ("received", "paid")
