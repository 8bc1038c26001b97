"""Card payments online through the provider interface (the offline simulator), refunds, expiry."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from ordering.exceptions import OrderError, PaymentError, TransitionError
from ordering.models import Order, Payment
from ordering.payments import OnDeliveryProvider, PaymentDeclined, SimulatorProvider, get_provider
from ordering.services import cancel_order, change_order, expire_unpaid_orders, pay_order, start_preparing
from stores.models import StockLevel

from .factories import NOW, line, new_key, place

D = Decimal
Status = Order.Status
OK = "cnon:card-nonce-ok"


def reserved(shop, ingredient):
    return StockLevel.objects.get(store=shop.store, ingredient=ingredient).reserved


def paid_order(shop, lines=None):
    order = place(shop, lines or [line(shop.small, 2)], payment_method="card_online")
    pay_order(order, source_token=OK, idempotency_key=new_key(), now=NOW)
    return order


# The provider ----------------------------------------------------------------------------------


def test_the_simulator_accepts_the_sandbox_ok_token():
    result = SimulatorProvider().charge(
        amount=D("12.50"), source_token=OK, idempotency_key="key-123456", reference="VAI-1125-001"
    )

    assert (result.status, result.amount) == ("succeeded", D("12.50"))
    assert result.reference.startswith("sim-pay-")
    # Same key, same answer: a retried call never makes a second payment.
    again = SimulatorProvider().charge(
        amount=D("12.50"), source_token=OK, idempotency_key="key-123456", reference="VAI-1125-001"
    )
    assert again.reference == result.reference


@pytest.mark.parametrize(
    ("token", "code", "message"),
    [
        ("cnon:card-nonce-declined", "GENERIC_DECLINE", "Votre banque a refusé le paiement."),
        ("cnon:card-nonce-rejected-cvv", "CVV_FAILURE", "Le cryptogramme de la carte est incorrect."),
        (
            "cnon:card-nonce-rejected-postalcode",
            "ADDRESS_VERIFICATION_FAILURE",
            "Le code postal de la carte est incorrect.",
        ),
        (
            "cnon:card-nonce-rejected-expiration",
            "INVALID_EXPIRATION",
            "La date d'expiration de la carte est incorrecte.",
        ),
        ("n'importe quoi", "INVALID_CARD_DATA", "La carte n'est pas valable."),
    ],
)
def test_the_simulator_declines_the_declining_tokens(token, code, message):
    with pytest.raises(PaymentDeclined) as declined:
        SimulatorProvider().charge(
            amount=D("10"), source_token=token, idempotency_key="k-12345678", reference="X"
        )

    assert (declined.value.code, str(declined.value)) == (code, message)


def test_the_provider_is_chosen_by_setting(settings):
    settings.PAYMENT_PROVIDER = "simulator"
    assert isinstance(get_provider(), SimulatorProvider)
    assert isinstance(get_provider("on_delivery"), OnDeliveryProvider)

    settings.PAYMENT_PROVIDER = "paypal"
    with pytest.raises(ImproperlyConfigured, match="not a known payment provider"):
        get_provider()


def test_the_simulator_refuses_to_run_in_production_unless_allowed(settings):
    settings.DEBUG = False
    settings.PAYMENT_SIMULATOR_ALLOWED = False
    with pytest.raises(ImproperlyConfigured, match="PAYMENT_SIMULATOR_ALLOWED"):
        get_provider()

    settings.PAYMENT_SIMULATOR_ALLOWED = True
    assert isinstance(get_provider(), SimulatorProvider)
    settings.DEBUG = True
    settings.PAYMENT_SIMULATOR_ALLOWED = False
    assert isinstance(get_provider(), SimulatorProvider)


def test_the_simulator_checks_webhook_signatures():
    import hashlib
    import hmac

    from ordering.payments.simulator import WEBHOOK_KEY

    body = b'{"payment": "sim-pay-1"}'
    url = "https://oc-pizza.fr/paiement/webhook/"
    signature = hmac.new(WEBHOOK_KEY, url.encode() + body, hashlib.sha256).hexdigest()

    assert SimulatorProvider().verify_webhook(
        body=body, headers={"X-Simulator-Signature": signature}, url=url
    )
    assert not SimulatorProvider().verify_webhook(
        body=body + b" ", headers={"X-Simulator-Signature": signature}, url=url
    )


# Paying ----------------------------------------------------------------------------------------


def test_an_order_paid_online_waits_for_its_payment(shop):
    order = place(shop, payment_method="card_online")

    assert order.status == Status.PENDING_PAYMENT
    assert order.expires_at == NOW + datetime.timedelta(minutes=15)
    assert reserved(shop, shop.cheese) == 200  # held while the customer pays


def test_paying_makes_the_order_received(shop):
    order = place(shop, payment_method="card_online")
    key = new_key()

    payment = pay_order(order, source_token=OK, idempotency_key=key, now=NOW)

    assert (payment.status, payment.kind, payment.amount, payment.provider) == (
        "succeeded",
        "charge",
        D("18.00"),
        "simulator",
    )
    assert payment.provider_reference.startswith("sim-pay-")
    order.refresh_from_db()
    assert (order.status, order.expires_at, order.version) == (Status.RECEIVED, None, 2)
    assert list(order.events.values_list("from_status", "to_status", "note")) == [
        ("", "pending_payment", ""),
        ("pending_payment", "received", "Payée en ligne"),
    ]
    # The same key again (a double click): the same payment, nothing new.
    assert pay_order(order, source_token=OK, idempotency_key=key, now=NOW) == payment
    assert Payment.objects.count() == 1


def test_a_declined_card_is_recorded_and_the_order_still_waits(shop):
    order = place(shop, payment_method="card_online")

    payment = pay_order(order, source_token="cnon:card-nonce-declined", idempotency_key=new_key(), now=NOW)

    assert (payment.status, payment.error) == ("failed", "Votre banque a refusé le paiement.")
    order.refresh_from_db()
    assert order.status == Status.PENDING_PAYMENT
    assert order.events.last().note == "Paiement refusé : Votre banque a refusé le paiement."
    # The customer tries another card.
    assert pay_order(order, source_token=OK, idempotency_key=new_key(), now=NOW).status == "succeeded"
    assert Order.objects.get().status == Status.RECEIVED


def test_an_order_cannot_be_paid_twice_or_after_its_deadline(shop):
    order = paid_order(shop)
    with pytest.raises(TransitionError, match="Cette commande est déjà payée."):
        pay_order(order, source_token=OK, idempotency_key=new_key(), now=NOW)

    late = place(shop, payment_method="card_online")
    with pytest.raises(TransitionError, match="Le délai de paiement est dépassé"):
        pay_order(late, source_token=OK, idempotency_key=new_key(), now=NOW + datetime.timedelta(minutes=16))
    assert Payment.objects.filter(order=late).count() == 0


def test_an_order_paid_on_delivery_is_not_paid_online(shop):
    order = place(shop)

    with pytest.raises(TransitionError, match="se règle à la livraison ou au retrait"):
        pay_order(order, source_token=OK, idempotency_key=new_key(), now=NOW)


def test_a_payment_key_of_another_order_is_refused(shop):
    key = new_key()
    pay_order(place(shop, payment_method="card_online"), source_token=OK, idempotency_key=key, now=NOW)

    with pytest.raises(OrderError):
        pay_order(place(shop, payment_method="card_online"), source_token=OK, idempotency_key=key, now=NOW)


# Refunds ---------------------------------------------------------------------------------------


def test_cancelling_a_paid_order_refunds_it(shop):
    order = paid_order(shop)

    cancel_order(order, by_customer=True, now=NOW)

    refund = Payment.objects.get(kind="refund")
    assert (refund.amount, refund.status, refund.refunded_payment.kind) == (D("18.00"), "succeeded", "charge")
    assert refund.provider_reference.startswith("sim-ref-")
    assert order.paid_amount() == D("0.00")
    assert reserved(shop, shop.cheese) == 0


def test_a_lower_total_refunds_the_difference(shop):
    order = paid_order(shop, [line(shop.small, 2)])

    change_order(order, lines=[line(shop.small, 1)], now=NOW)

    assert list(Payment.objects.values_list("kind", "amount", "status")) == [
        ("charge", D("18.00"), "succeeded"),
        ("refund", D("9.00"), "succeeded"),
    ]
    assert Order.objects.get().paid_amount() == D("9.00")


def test_a_higher_total_charges_the_difference_with_a_new_card_token(shop):
    order = paid_order(shop, [line(shop.small, 1)])

    with pytest.raises(PaymentError, match="saisissez votre carte pour régler 9,00"):
        change_order(order, lines=[line(shop.small, 2)], now=NOW)
    assert Order.objects.get().total == D("9.00")  # nothing changed

    change_order(order, lines=[line(shop.small, 2)], source_token=OK, now=NOW)

    assert list(Payment.objects.values_list("kind", "amount")) == [
        ("charge", D("9.00")),
        ("charge", D("9.00")),
    ]
    assert Order.objects.get().paid_amount() == D("18.00")
    # Cancelling now refunds both charges.
    cancel_order(order, by_customer=True, now=NOW)
    assert sorted(Payment.objects.filter(kind="refund").values_list("amount", flat=True)) == [
        D("9.00"),
        D("9.00"),
    ]
    assert Order.objects.get().paid_amount() == D("0.00")


def test_a_declined_difference_changes_nothing(shop):
    order = paid_order(shop, [line(shop.small, 1)])

    with pytest.raises(PaymentError, match="Votre banque a refusé le paiement."):
        change_order(order, lines=[line(shop.small, 2)], source_token="cnon:card-nonce-declined", now=NOW)

    order.refresh_from_db()
    assert (order.total, order.version) == (D("9.00"), 2)
    assert reserved(shop, shop.cheese) == 100


def test_staff_cancelling_a_paid_order_in_the_kitchen_refunds_it(shop):
    order = paid_order(shop)
    start_preparing(order, now=NOW)

    cancel_order(order, reason="Four en panne", now=NOW)

    assert Payment.objects.get(kind="refund").amount == D("18.00")


# Expiry ----------------------------------------------------------------------------------------


def test_unpaid_orders_expire_and_release_their_stock(shop):
    unpaid = place(shop, payment_method="card_online")
    paid = paid_order(shop)
    on_delivery = place(shop)
    recent = place(shop, payment_method="card_online", now=NOW + datetime.timedelta(minutes=10))

    expired = expire_unpaid_orders(now=NOW + datetime.timedelta(minutes=15))

    assert expired == 1
    unpaid.refresh_from_db()
    assert (unpaid.status, unpaid.cancel_reason) == (Status.CANCELLED, "Paiement non reçu à temps")
    assert list(unpaid.events.values_list("to_status", flat=True)) == ["pending_payment", "cancelled"]
    for order in (paid, on_delivery):
        assert Order.objects.get(pk=order.pk).status == Status.RECEIVED
    assert Order.objects.get(pk=recent.pk).status == Status.PENDING_PAYMENT
    assert reserved(shop, shop.cheese) == 600  # paid, on delivery and recent: 3 × 200 g
    # Run again (cron twice, or two servers): nothing more.
    assert expire_unpaid_orders(now=NOW + datetime.timedelta(minutes=15)) == 0
    assert unpaid.events.count() == 2
    assert reserved(shop, shop.cheese) == 600


def test_the_expiry_command_is_safe_to_run_twice(shop, capsys):
    order = place(shop, payment_method="card_online", now=NOW - datetime.timedelta(hours=1))

    call_command("expire_unpaid_orders")
    call_command("expire_unpaid_orders")

    assert capsys.readouterr().out == "1 unpaid order(s) expired.\n0 unpaid order(s) expired.\n"
    assert Order.objects.get(pk=order.pk).status == Status.CANCELLED
    assert reserved(shop, shop.cheese) == 0


def test_no_card_provider_refuses_card_orders_with_a_readable_message(shop, settings):
    from ordering.services import OrderError

    from .factories import place

    settings.PAYMENT_PROVIDER = "none"

    with pytest.raises(OrderError) as refused:
        place(shop, payment_method="card_online")

    assert str(refused.value) == (
        "Le paiement par carte en ligne n'est pas disponible : réglez à la livraison ou au retrait."
    )
    assert place(shop, payment_method="cash").status == "received"


def pending_charge(order):
    """A charge the provider accepted but has not settled yet (a bank asking for confirmation)."""
    return Payment.objects.create(
        order=order,
        kind=Payment.Kind.CHARGE,
        method="card_online",
        provider="simulator",
        amount=order.total,
        status=Payment.Status.PENDING,
        idempotency_key=new_key(),
        provider_reference="sim-pay-pending",
        created_at=NOW,
    )


def test_a_charge_awaiting_the_bank_is_not_charged_again(shop):
    order = place(shop, payment_method="card_online")
    pending_charge(order)

    with pytest.raises(TransitionError, match="Votre paiement est en cours de confirmation"):
        pay_order(order, source_token=OK, idempotency_key=new_key(), now=NOW)

    assert list(order.payments.values_list("status", flat=True)) == ["pending"]
    assert Order.objects.get().status == Status.PENDING_PAYMENT


def test_an_order_whose_charge_awaits_the_bank_is_not_cancelled_unrefunded(shop):
    order = place(shop, payment_method="card_online")
    pending_charge(order)

    with pytest.raises(TransitionError, match="Votre paiement est en cours de confirmation"):
        cancel_order(order, by_customer=True, now=NOW)

    assert Order.objects.get().status == Status.PENDING_PAYMENT
    assert reserved(shop, shop.cheese) == 200
