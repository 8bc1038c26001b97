"""The offline simulator answers through the same interface as the Square provider, with Square's
codes and the same French reasons."""

import datetime
import json
from decimal import Decimal

import pytest

from ordering.payments import OnDeliveryProvider, PaymentDeclined, SimulatorProvider, SquareProvider
from ordering.payments.simulator import sandbox_cards, token_for

D = Decimal
OK = "cnon:card-nonce-ok"


def charge(source=OK, amount=None, key="order-1-pay", **kwargs):
    return SimulatorProvider().charge(
        amount=amount or D("18.40"), source_token=source, idempotency_key=key, reference="VAI-1", **kwargs
    )


def test_a_charge_carries_the_amount_and_the_order_number():
    result = charge(location_id="L-VAISE")

    assert (result.status, result.amount, result.order_reference, result.location_id) == (
        "succeeded",
        D("18.40"),
        "VAI-1",
        "L-VAISE",
    )
    assert result.reference.startswith("sim-pay-1840-")


@pytest.mark.parametrize("source", ["cnon:card-nonce-declined", "cnon:card-nonce-rejected-cvv", "nonsense"])
def test_the_simulator_and_square_give_the_same_reason_for_the_same_token(square_stub, source):
    with pytest.raises(PaymentDeclined) as simulated:
        charge(source=source)
    with pytest.raises(PaymentDeclined) as square:
        SquareProvider().charge(
            amount=D("18.40"), source_token=source, idempotency_key="k", reference="VAI-1"
        )

    assert (simulated.value.code, str(simulated.value)) == (square.value.code, str(square.value))


def test_a_card_that_needs_3d_secure_is_declined_without_verification_and_taken_with_it():
    with pytest.raises(PaymentDeclined) as declined:
        charge(source="cnon:card-nonce-requires-verification")

    assert declined.value.code == "CARD_DECLINED_VERIFICATION_REQUIRED"
    assert declined.value.reference.startswith("sim-fail-1840-")
    assert charge(source="cnon:card-nonce-requires-verification", verification_token="verf:sim").status == (
        "succeeded"
    )


def test_fetching_tells_what_the_simulator_answered():
    taken = charge()
    with pytest.raises(PaymentDeclined) as declined:
        charge(source="cnon:card-nonce-declined", key="other")
    provider = SimulatorProvider()

    assert (
        provider.fetch_payment(taken.reference).status,
        provider.fetch_payment(taken.reference).amount,
    ) == (
        "succeeded",
        D("18.40"),
    )
    assert provider.fetch_payment(declined.value.reference).status == "failed"
    assert provider.fetch_payment("PAY-FROM-SQUARE") is None
    refund = provider.refund(payment_reference=taken.reference, amount=D("4.40"), idempotency_key="r-1")
    assert (refund.status, refund.amount, refund.payment_reference) == (
        "succeeded",
        D("4.40"),
        taken.reference,
    )
    assert provider.fetch_refund(refund.reference).amount == D("4.40")
    assert provider.fetch_refund(taken.reference) is None
    assert (
        provider.list_payments(
            begin=datetime.datetime.now(datetime.UTC), end=datetime.datetime.now(datetime.UTC)
        )
        == []
    )


def test_a_refund_above_the_charge_or_of_an_unknown_payment_is_refused():
    taken = charge()

    with pytest.raises(PaymentDeclined) as too_much:
        SimulatorProvider().refund(payment_reference=taken.reference, amount=D("18.41"), idempotency_key="r")
    with pytest.raises(PaymentDeclined) as unknown:
        SimulatorProvider().refund(payment_reference="sim-pay-nope", amount=D("1"), idempotency_key="r")

    assert (too_much.value.code, unknown.value.code) == ("REFUND_AMOUNT_INVALID", "NOT_FOUND")


def test_the_simulator_reads_square_s_webhook_payloads():
    body = json.dumps(
        {"type": "refund.updated", "event_id": "evt-1", "data": {"type": "refund", "id": "sim-ref-100-x"}}
    ).encode()

    event = SimulatorProvider().parse_webhook(body)

    assert (event.event_id, event.object_kind, event.object_id) == ("evt-1", "refund", "sim-ref-100-x")
    assert SimulatorProvider().parse_webhook(b'{"type": "order.updated"}') is None


@pytest.mark.parametrize(
    ("typed", "token"),
    [
        ({"number": "4111 1111 1111 1111"}, "cnon:card-nonce-ok"),
        ({"number": "4111111111111111", "cvv": "911"}, "cnon:card-nonce-rejected-cvv"),
        ({"number": "4111111111111111", "postal_code": "99999"}, "cnon:card-nonce-rejected-postalcode"),
        ({"number": "5105 1051 0510 5100", "expiry": "01 / 40"}, "cnon:card-nonce-rejected-expiration"),
        ({"number": "4000 0000 0000 0002"}, "cnon:card-nonce-declined"),
        ({"number": "4811 1100 0000 0008"}, "cnon:card-nonce-requires-verification"),
        ({"number": "4800 0000 0000 0004"}, "cnon:card-nonce-ok"),
        ({"number": "4970 1000 0000 0000"}, "cnon:simulator-invalid-card"),
    ],
)
def test_typed_cards_give_square_s_sandbox_tokens(typed, token):
    assert token_for(**typed) == token


def test_the_card_form_lists_the_test_cards_and_what_each_gives():
    form = SimulatorProvider().card_form(location_id="L-VAISE")

    assert form["kind"] == "simulator"
    cards = {(c["number"], c["cvv"], c["postal_code"], c["expiry"]): c for c in form["cards"]}
    ok = cards[("4111 1111 1111 1111", "111", "69002", "12/30")]
    assert (ok["token"], ok["code"], ok["verification"]) == ("cnon:card-nonce-ok", "", "none")
    challenge = cards[("4310 0000 0020 1019", "111", "69002", "12/30")]
    assert (challenge["verification"], challenge["challenge_code"], challenge["token"]) == (
        "challenge",
        "123456",
        "cnon:card-nonce-ok",
    )
    assert cards[("4111 1111 1111 1111", "911", "69002", "12/30")]["code"] == "CVV_FAILURE"
    assert (
        cards[("4811 1100 0000 0008", "111", "69002", "12/30")]["code"]
        == "CARD_DECLINED_VERIFICATION_REQUIRED"
    )
    assert all(
        c["token"] == token_for(c["number"], cvv=c["cvv"], expiry=c["expiry"], postal_code=c["postal_code"])
        for c in sandbox_cards()
    )


def test_payments_on_delivery_answer_the_same_interface_with_nothing_to_fetch():
    provider = OnDeliveryProvider()
    now = datetime.datetime.now(datetime.UTC)

    result = provider.charge(amount=D("18.40"), idempotency_key="k", reference="VAI-1", verification_token="")

    assert (result.status, result.amount, result.reference, result.order_reference) == (
        "succeeded",
        D("18.40"),
        "",
        "VAI-1",
    )
    assert (provider.fetch_payment("x"), provider.fetch_refund("x"), provider.parse_webhook(b"{}")) == (
        None,
        None,
        None,
    )
    assert provider.list_payments(begin=now, end=now) == []
    assert provider.card_form() == {}
