"""The Square provider drives the real `squareup` SDK against the local stub of Square's API."""

import datetime
import socket
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from ordering.models import Order
from ordering.payments import (
    PaymentDeclined,
    ProviderUnavailable,
    SquareProvider,
    check_payment_provider,
    get_provider,
)
from ordering.payments.square import from_cents, to_cents
from ordering.services import pay_order

from .factories import NOW, new_key, place

D = Decimal
OK = "cnon:card-nonce-ok"
UTC = datetime.UTC


TWELVE_FIFTY = Decimal("12.50")


def charge(amount=TWELVE_FIFTY, source="cnon:card-nonce-ok", key="order-VAI-1-pay", **kwargs):
    return SquareProvider().charge(
        amount=amount, source_token=source, idempotency_key=key, reference="VAI-1125-001", **kwargs
    )


def sent(stub, operation):
    """The JSON bodies the stub received for `operation`."""
    return [body for op, _method, _path, body in stub.requests if op == operation]


# Charging --------------------------------------------------------------------------------------


def test_a_charge_sends_integer_cents_in_euros_with_the_order_number(square_stub):
    result = charge(location_id="STUB-LOCATION", note="Commande VAI-1125-001")

    payment = square_stub.charges()[0]
    assert (result.reference, result.status, result.amount) == (payment["id"], "succeeded", D("12.50"))
    assert (result.order_reference, result.location_id) == ("VAI-1125-001", "STUB-LOCATION")
    assert result.raw["amount_money"] == {"amount": 1250, "currency": "EUR"}
    assert sent(square_stub, "payments.create") == [
        {
            "source_id": OK,
            "idempotency_key": "order-VAI-1-pay",
            "amount_money": {"amount": 1250, "currency": "EUR"},
            "autocomplete": True,
            "reference_id": "VAI-1125-001",
            "location_id": "STUB-LOCATION",
            "note": "Commande VAI-1125-001",
        }
    ]


def test_a_verification_token_goes_with_the_charge_when_the_browser_has_one(square_stub):
    result = charge(source="cnon:card-nonce-requires-verification", verification_token="verf:stub-3ds-ok")

    assert result.status == "succeeded"
    assert sent(square_stub, "payments.create")[0]["verification_token"] == "verf:stub-3ds-ok"


def test_the_same_key_twice_is_one_charge(square_stub):
    first = charge()
    again = charge()

    assert again.reference == first.reference
    assert len(square_stub.charges()) == 1


def test_keys_longer_than_square_takes_are_shortened_the_same_way_every_time(square_stub):
    long_key = "a" * 60 + "-pay"  # a checkout key may have 60 characters; Square takes 45 at most
    first = charge(key=long_key)
    again = charge(key=long_key)
    other = charge(key="b" * 60 + "-pay")
    refund = SquareProvider().refund(
        payment_reference=first.reference,
        amount=D("1.00"),
        idempotency_key="admin-refund-" + "c" * 40 + "-1234567",
    )

    sent_keys = [body["idempotency_key"] for body in sent(square_stub, "payments.create")]
    assert (first.status, refund.status) == ("succeeded", "succeeded")
    assert again.reference == first.reference and other.reference != first.reference
    assert len(square_stub.charges()) == 2
    assert sent_keys[0] == sent_keys[1] != sent_keys[2]
    assert max(len(key) for key in sent_keys) <= 45
    assert len(sent(square_stub, "refunds.refund_payment")[0]["idempotency_key"]) <= 45
    assert charge(key="order-VAI-1-pay").reference  # a short key goes as it is
    assert sent(square_stub, "payments.create")[-1]["idempotency_key"] == "order-VAI-1-pay"


@pytest.mark.parametrize(
    ("source", "code", "message"),
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
        (
            "cnon:card-nonce-already-used",
            "CARD_TOKEN_USED",
            "Ce paiement a déjà été utilisé : saisissez votre carte à nouveau.",
        ),
        (
            "cnon:card-nonce-requires-verification",
            "CARD_DECLINED_VERIFICATION_REQUIRED",
            "Votre banque demande une vérification : réessayez.",
        ),
        (
            "cnon:stub-decline-INSUFFICIENT_FUNDS",
            "INSUFFICIENT_FUNDS",
            "Le solde de la carte est insuffisant.",
        ),
        ("cnon:stub-decline-CARD_EXPIRED", "CARD_EXPIRED", "La carte a expiré."),
        (
            "cnon:stub-decline-TRANSACTION_LIMIT",
            "TRANSACTION_LIMIT",
            "Ce montant dépasse le plafond de la carte.",
        ),
        ("cnon:stub-decline-SOMETHING_NEW", "SOMETHING_NEW", "La carte n'est pas valable."),
    ],
)
def test_a_declined_card_gives_square_s_code_and_a_french_reason(square_stub, source, code, message):
    with pytest.raises(PaymentDeclined) as declined:
        charge(source=source)

    failed = square_stub.charges("FAILED")[0]
    assert (declined.value.code, str(declined.value), declined.value.reference) == (
        code,
        message,
        failed["id"],
    )
    assert declined.value.raw["errors"][0]["category"] == "PAYMENT_METHOD_ERROR"
    assert square_stub.calls("payments.create") == 1  # a decline is an answer: never retried


@pytest.mark.parametrize("status", [400, 402])
def test_a_decline_is_known_by_its_category_whatever_the_http_status(square_stub, status):
    square_stub.decline_status = status
    with pytest.raises(PaymentDeclined) as declined:
        charge(source="cnon:card-nonce-rejected-cvv")

    assert declined.value.code == "CVV_FAILURE"


def test_an_unusable_card_token_is_a_decline(square_stub):
    with pytest.raises(PaymentDeclined) as declined:
        charge(source="not-a-token")

    assert (declined.value.code, str(declined.value)) == ("INVALID_CARD_DATA", "La carte n'est pas valable.")


def test_amounts_with_a_fraction_of_a_cent_never_reach_square(square_stub):
    with pytest.raises(ValueError, match="whole number of cents"):
        charge(amount=D("12.345"))
    with pytest.raises(TypeError, match="Decimal"):
        charge(amount=12.5)
    with pytest.raises(ValueError, match="positive"):
        charge(amount=D("0.00"))

    assert square_stub.requests == []


# Time-outs, Square's failures, refused credentials ----------------------------------------------


def test_a_time_out_after_the_charge_was_taken_retries_and_gets_the_same_payment(square_stub, settings):
    settings.SQUARE_TIMEOUT = 0.3
    square_stub.delay_next("payments.create", 1.5)

    result = charge()

    assert square_stub.calls("payments.create") == 2
    assert [p["id"] for p in square_stub.charges()] == [result.reference]
    assert {body["idempotency_key"] for body in sent(square_stub, "payments.create")} == {"order-VAI-1-pay"}


def test_time_outs_on_every_try_leave_the_outcome_unknown_with_one_charge_at_most(square_stub, settings):
    settings.SQUARE_TIMEOUT = 0.2
    square_stub.delay_next("payments.create", 1.0, times=3)

    with pytest.raises(ProviderUnavailable) as unavailable:
        charge()

    assert unavailable.value.outcome_unknown is True
    assert "en cours de confirmation" in str(unavailable.value)
    assert square_stub.calls("payments.create") == 3
    assert len(square_stub.charges()) == 1  # Square took it once: the webhook or reconciliation tells


def test_a_server_error_then_success_is_one_charge(square_stub):
    square_stub.fail_next("payments.create", 503)

    result = charge()

    assert (square_stub.calls("payments.create"), result.status) == (2, "succeeded")
    assert len(square_stub.charges()) == 1


def test_server_errors_on_every_try_leave_the_outcome_unknown(square_stub):
    square_stub.fail_next("payments.create", 500, times=3)

    with pytest.raises(ProviderUnavailable) as unavailable:
        charge()

    assert (unavailable.value.outcome_unknown, square_stub.calls("payments.create")) == (True, 3)
    assert unavailable.value.raw["errors"][0]["code"] == "INTERNAL_SERVER_ERROR"


def test_a_rate_limit_is_retried_after_the_pause_square_asks(square_stub):
    square_stub.fail_next("payments.create", 429, retry_after="0")

    assert charge().status == "succeeded"
    assert square_stub.calls("payments.create") == 2


def test_a_rate_limit_on_every_try_leaves_the_outcome_unknown(square_stub):
    square_stub.fail_next("payments.create", 429, retry_after="0", times=3)

    with pytest.raises(ProviderUnavailable) as unavailable:
        charge()

    assert unavailable.value.outcome_unknown is True


def test_refused_credentials_are_not_retried_and_move_nothing(square_stub, settings):
    settings.SQUARE_ACCESS_TOKEN = "EAAA-revoked-token"

    with pytest.raises(ProviderUnavailable) as unavailable:
        charge()

    assert unavailable.value.outcome_unknown is False
    assert unavailable.value.raw["errors"][0] == {
        "category": "AUTHENTICATION_ERROR",
        "code": "UNAUTHORIZED",
        "detail": "This request could not be authorized.",
    }
    assert square_stub.payments == {}


@pytest.mark.parametrize(
    ("status", "code"), [(403, "INSUFFICIENT_SCOPES"), (400, "INVALID_LOCATION"), (404, "NOT_FOUND")]
)
def test_other_refusals_are_not_retried_and_move_nothing(square_stub, status, code):
    square_stub.fail_next("payments.create", status, code=code)

    with pytest.raises(ProviderUnavailable) as unavailable:
        charge()

    assert (unavailable.value.outcome_unknown, square_stub.calls("payments.create")) == (False, 1)


def test_square_out_of_reach_moves_nothing(square_stub, settings):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        settings.SQUARE_BASE_URL = f"http://127.0.0.1:{probe.getsockname()[1]}"

    with pytest.raises(ProviderUnavailable) as unavailable:
        charge()

    assert unavailable.value.outcome_unknown is False
    assert "momentanément indisponible" in str(unavailable.value)


# Refunds ---------------------------------------------------------------------------------------


def test_a_refund_gives_back_part_of_a_charge(square_stub):
    payment = charge(amount=D("18.00"))

    refund = SquareProvider().refund(
        payment_reference=payment.reference,
        amount=D("5.50"),
        idempotency_key="refund-1",
        reason="Pizza oubliée",
    )

    assert (refund.status, refund.amount, refund.payment_reference) == (
        "succeeded",
        D("5.50"),
        payment.reference,
    )
    assert sent(square_stub, "refunds.refund_payment") == [
        {
            "idempotency_key": "refund-1",
            "payment_id": payment.reference,
            "amount_money": {"amount": 550, "currency": "EUR"},
            "reason": "Pizza oubliée",
        }
    ]
    fetched = SquareProvider().fetch_payment(payment.reference)
    assert (fetched.refunded_amount, fetched.refund_references) == (D("5.50"), (refund.reference,))


def test_a_refund_square_has_not_settled_yet_is_pending(square_stub):
    square_stub.refund_status = "PENDING"
    payment = charge()

    refund = SquareProvider().refund(
        payment_reference=payment.reference, amount=D("12.50"), idempotency_key="r"
    )

    assert refund.status == "pending"


def test_a_refund_above_what_remains_is_refused_with_a_french_reason(square_stub):
    payment = charge(amount=D("10.00"))
    SquareProvider().refund(payment_reference=payment.reference, amount=D("6.00"), idempotency_key="r-1")

    with pytest.raises(PaymentDeclined) as refused:
        SquareProvider().refund(payment_reference=payment.reference, amount=D("4.01"), idempotency_key="r-2")

    assert (refused.value.code, str(refused.value)) == (
        "REFUND_AMOUNT_INVALID",
        "Ce montant dépasse ce qui reste à rembourser sur ce paiement.",
    )
    assert len(square_stub.refunds) == 1


def test_a_refund_of_an_unknown_payment_is_refused(square_stub):
    with pytest.raises(PaymentDeclined) as refused:
        SquareProvider().refund(payment_reference="NO-SUCH-PAYMENT", amount=D("1.00"), idempotency_key="r")

    assert refused.value.code == "NOT_FOUND"


def test_a_refund_square_rejects_is_refused(square_stub):
    square_stub.refund_status = "REJECTED"
    payment = charge()

    with pytest.raises(PaymentDeclined) as refused:
        SquareProvider().refund(payment_reference=payment.reference, amount=D("1.00"), idempotency_key="r")

    assert (refused.value.code, refused.value.reference) == ("REJECTED", next(iter(square_stub.refunds)))


def test_a_refund_after_a_time_out_is_given_once(square_stub, settings):
    settings.SQUARE_TIMEOUT = 0.3
    payment = charge()
    square_stub.delay_next("refunds.refund_payment", 1.5)

    refund = SquareProvider().refund(
        payment_reference=payment.reference, amount=D("2.00"), idempotency_key="r"
    )

    assert list(square_stub.refunds) == [refund.reference]


# Reading ---------------------------------------------------------------------------------------


def test_fetching_a_payment_gives_square_s_current_view(square_stub):
    moment = datetime.datetime(2026, 11, 28, 19, 30, tzinfo=UTC)
    taken = square_stub.add_payment(
        amount=2390, reference_id="VAI-1128-007", created_at=moment, status="APPROVED"
    )

    result = SquareProvider().fetch_payment(taken["id"])

    assert (result.reference, result.status, result.amount, result.order_reference) == (
        taken["id"],
        "pending",
        D("23.90"),
        "VAI-1128-007",
    )
    assert (result.created_at, result.refunded_amount, result.location_id) == (
        moment,
        D("0.00"),
        "STUB-LOCATION",
    )


@pytest.mark.parametrize(
    ("square_status", "ours"),
    [("COMPLETED", "succeeded"), ("APPROVED", "pending"), ("CANCELED", "failed"), ("FAILED", "failed")],
)
def test_square_statuses_map_to_ours(square_stub, square_status, ours):
    taken = square_stub.add_payment(amount=100, status=square_status)

    assert SquareProvider().fetch_payment(taken["id"]).status == ours


def test_fetching_what_square_does_not_know_gives_none(square_stub):
    assert SquareProvider().fetch_payment("NO-SUCH-PAYMENT") is None
    assert SquareProvider().fetch_refund("NO-SUCH-REFUND") is None


def test_fetching_a_refund(square_stub):
    payment = charge()
    refund = SquareProvider().refund(
        payment_reference=payment.reference, amount=D("2.50"), idempotency_key="r"
    )
    square_stub.set_refund_status(refund.reference, "FAILED")

    fetched = SquareProvider().fetch_refund(refund.reference)

    assert (fetched.status, fetched.amount, fetched.payment_reference) == (
        "failed",
        D("2.50"),
        payment.reference,
    )


def test_a_fetch_square_cannot_answer_moves_nothing(square_stub):
    square_stub.fail_next("payments.get", 503, times=3)

    with pytest.raises(ProviderUnavailable) as unavailable:
        SquareProvider().fetch_payment("ANY")

    assert unavailable.value.outcome_unknown is False


def test_listing_reads_every_page_of_the_window_at_the_location(square_stub):
    square_stub.page_size = 2
    begin = datetime.datetime(2026, 11, 22, 0, 0, tzinfo=UTC)
    for day in range(5):
        square_stub.add_payment(amount=1000 + day, created_at=begin + datetime.timedelta(days=day, hours=12))
    square_stub.add_payment(amount=1, created_at=begin - datetime.timedelta(hours=1))  # before the window
    square_stub.add_payment(amount=2, created_at=begin + datetime.timedelta(days=7, hours=1))  # after it
    square_stub.add_payment(amount=3, created_at=begin, location_id="OTHER-STORE")

    results = SquareProvider().list_payments(
        begin=begin, end=begin + datetime.timedelta(days=7), location_id="STUB-LOCATION"
    )

    assert [r.amount for r in results] == [D("10.00"), D("10.01"), D("10.02"), D("10.03"), D("10.04")]
    assert square_stub.calls("payments.list") == 3


def test_a_listing_retries_a_page_square_failed(square_stub):
    square_stub.page_size = 1
    for _ in range(2):
        square_stub.add_payment(amount=500)
    square_stub.fail_next("payments.list", 500)

    results = SquareProvider().list_payments(
        begin=datetime.datetime.now(UTC) - datetime.timedelta(days=1), end=datetime.datetime.now(UTC)
    )

    assert len(results) == 2


# Webhooks --------------------------------------------------------------------------------------


def test_a_webhook_signed_by_square_is_accepted(square_stub):
    body = square_stub.webhook_body("payment.updated", "PAY-1")

    assert SquareProvider().verify_webhook(
        body=body,
        headers={"X-Square-HmacSha256-Signature": square_stub.sign(body)},
        url=square_stub.webhook_url,
    )


def test_a_webhook_with_a_bad_or_missing_signature_is_refused(square_stub):
    body = square_stub.webhook_body("payment.updated", "PAY-1")
    provider = SquareProvider()
    good = square_stub.sign(body)

    assert not provider.verify_webhook(
        body=body + b" ", headers={"x-square-hmacsha256-signature": good}, url=square_stub.webhook_url
    )
    assert not provider.verify_webhook(body=body, headers={}, url=square_stub.webhook_url)
    assert not provider.verify_webhook(
        body=body, headers={"x-square-hmacsha256-signature": good}, url="https://elsewhere.example/webhook/"
    )
    assert not provider.verify_webhook(
        body=body,
        headers={"x-square-hmacsha256-signature": square_stub.sign(body, "https://x.example/")},
        url="",
    )


def test_a_webhook_is_refused_when_no_signature_key_is_configured(square_stub, settings):
    body = square_stub.webhook_body("payment.updated", "PAY-1")
    provider = SquareProvider()
    settings.SQUARE_WEBHOOK_SIGNATURE_KEY = ""  # (the system check refuses it with DEBUG off)

    assert not provider.verify_webhook(
        body=body,
        headers={"x-square-hmacsha256-signature": square_stub.sign(body)},
        url=square_stub.webhook_url,
    )


@pytest.mark.parametrize(
    ("event_type", "kind"),
    [
        ("payment.created", "payment"),
        ("payment.updated", "payment"),
        ("refund.created", "refund"),
        ("refund.updated", "refund"),
    ],
)
def test_webhook_events_name_the_object_to_fetch(square_stub, event_type, kind):
    body = square_stub.webhook_body(event_type, "OBJ-1", event_id="evt-42")

    event = SquareProvider().parse_webhook(body)

    assert (event.event_id, event.type, event.object_kind, event.object_id) == (
        "evt-42",
        event_type,
        kind,
        "OBJ-1",
    )


@pytest.mark.parametrize(
    "body", [b'{"type": "dispute.created", "event_id": "e", "data": {"id": "D"}}', b"not json", b"[]", b"{}"]
)
def test_other_webhook_bodies_are_ignored(square_stub, body):
    assert SquareProvider().parse_webhook(body) is None


# Cents, the card form, settings ----------------------------------------------------------------


def test_cents_are_exact():
    assert to_cents(D("0.1") + D("0.2")) == 30
    assert to_cents(D("12.340")) == 1234
    assert to_cents(D("1234567.89")) == 123456789
    assert to_cents(7) == 700
    assert from_cents(1234) == D("12.34")
    assert str(from_cents(5)) == "0.05"
    assert all(to_cents(from_cents(cents)) == cents for cents in range(0, 100_000, 7))


@pytest.mark.parametrize(
    ("amount", "error"),
    [
        (0.1 + 0.2, TypeError),
        (12.5, TypeError),
        (D("12.345"), ValueError),
        (D("NaN"), ValueError),
        (True, TypeError),
    ],
)
def test_cents_refuse_floats_and_fractions_of_a_cent(amount, error):
    with pytest.raises(error):
        to_cents(amount)


def test_the_card_form_loads_the_sandbox_or_production_script(square_stub, settings):
    assert SquareProvider().card_form(location_id="L-VAISE") == {
        "kind": "square",
        "script_url": "https://sandbox.web.squarecdn.com/v1/square.js",
        "application_id": "sandbox-sq0idb-stub-application",
        "location_id": "L-VAISE",
        "environment": "sandbox",
    }
    settings.SQUARE_ENVIRONMENT = "production"
    settings.SQUARE_APPLICATION_ID = "sq0idp-production-application"
    assert SquareProvider().card_form()["script_url"] == "https://web.squarecdn.com/v1/square.js"


def test_the_configured_provider_is_square(square_stub):
    assert isinstance(get_provider(), SquareProvider)


@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.parametrize(
    ("setting", "value", "complaint"),
    [
        ("SQUARE_ACCESS_TOKEN", "", "SQUARE_ACCESS_TOKEN is empty"),
        ("SQUARE_APPLICATION_ID", "", "SQUARE_APPLICATION_ID is empty"),
        ("SQUARE_ENVIRONMENT", "", "it must be 'sandbox' or 'production'"),
        ("SQUARE_ENVIRONMENT", "test", "it must be 'sandbox' or 'production'"),
        ("SQUARE_APPLICATION_ID", "sq0idp-production-application", "does not belong to the sandbox"),
    ],
)
def test_square_without_its_credentials_refuses_to_start_even_with_debug_on(
    square_stub, settings, debug, setting, value, complaint
):
    settings.DEBUG = debug
    settings.SQUARE_WEBHOOK_URL = "https://oc-pizza.fr/paiements/square/webhook/"
    setattr(settings, setting, value)

    errors = check_payment_provider()

    assert [error.id for error in errors] == ["ordering.E001"]
    assert complaint in errors[0].msg
    with pytest.raises(ImproperlyConfigured, match=complaint):
        get_provider()


def test_square_in_production_needs_the_webhook_key_and_its_exact_https_url(square_stub, settings):
    settings.DEBUG = False
    settings.SQUARE_WEBHOOK_SIGNATURE_KEY = ""
    settings.SQUARE_WEBHOOK_URL = "http://oc-pizza.fr/paiements/square/webhook/"

    messages = [error.msg for error in check_payment_provider()]

    assert len(messages) == 2
    assert "SQUARE_WEBHOOK_SIGNATURE_KEY is empty" in messages[0]
    assert "SQUARE_WEBHOOK_URL must be the exact https://" in messages[1]
    settings.SQUARE_WEBHOOK_SIGNATURE_KEY = "key"
    settings.SQUARE_WEBHOOK_URL = "https://oc-pizza.fr/paiements/square/webhook/"
    assert check_payment_provider() == []


def test_square_configured_passes_the_system_check(square_stub, settings):
    assert settings.DEBUG is False
    assert check_payment_provider() == []


def test_manage_py_refuses_to_start_with_square_half_configured(square_stub, settings):
    settings.SQUARE_ACCESS_TOKEN = ""

    with pytest.raises(SystemCheckError, match="SQUARE_ACCESS_TOKEN is empty"):
        call_command("check")


def test_the_simulator_with_debug_off_refuses_to_start_unless_allowed(settings):
    settings.PAYMENT_PROVIDER = "simulator"
    settings.DEBUG = False
    settings.PAYMENT_SIMULATOR_ALLOWED = False

    assert [error.id for error in check_payment_provider()] == ["ordering.E001"]
    settings.PAYMENT_SIMULATOR_ALLOWED = True
    assert check_payment_provider() == []


# Through the services ---------------------------------------------------------------------------


def test_an_order_paid_through_square_is_received_with_one_charge_of_its_total(shop, square_stub):
    order = place(shop, payment_method="card_online")

    payment = pay_order(order, source_token=OK, idempotency_key=new_key(), now=NOW)

    order.refresh_from_db()
    (charged,) = square_stub.charges()
    assert (payment.provider, payment.provider_reference, payment.amount) == (
        "square",
        charged["id"],
        order.total,
    )
    assert (charged["amount_money"], charged["reference_id"]) == (
        {"amount": to_cents(order.total), "currency": "EUR"},
        order.number,
    )
    assert order.status == Order.Status.RECEIVED
