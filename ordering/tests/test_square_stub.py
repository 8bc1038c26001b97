"""The local stub of Square's API answers the real `squareup` SDK as Square's sandbox does."""

import datetime

import httpx
import pytest
from square import Square
from square.core.api_error import ApiError
from square.environment import SquareEnvironment
from square.utils.webhooks_helper import verify_signature

NO_RETRY = {"max_retries": 0}


def client(stub, token=None, timeout=2.0):
    return Square(
        base_url=stub.url,
        environment=SquareEnvironment.SANDBOX,
        token=token or stub.access_token,
        timeout=timeout,
    )


def create(stub, key="key-1", source="cnon:card-nonce-ok", amount=1250, **kwargs):
    return client(stub, **kwargs).payments.create(
        source_id=source,
        idempotency_key=key,
        amount_money={"amount": amount, "currency": "EUR"},
        reference_id="VAI-1125-001",
        autocomplete=True,
        request_options=NO_RETRY,
    )


def test_a_charge_enters_the_ledger_and_a_replay_returns_it(square_stub):
    first = create(square_stub)
    again = create(square_stub)

    assert (first.payment.status, first.payment.amount_money.amount, first.payment.reference_id) == (
        "COMPLETED",
        1250,
        "VAI-1125-001",
    )
    assert again.payment.id == first.payment.id
    assert list(square_stub.payments) == [first.payment.id]
    assert square_stub.calls("payments.create") == 2


def test_the_same_key_with_another_body_is_refused(square_stub):
    create(square_stub)
    with pytest.raises(ApiError) as error:
        create(square_stub, amount=999)

    assert (error.value.status_code, error.value.errors[0].code) == (400, "IDEMPOTENCY_KEY_REUSED")


@pytest.mark.parametrize(
    ("token", "code"),
    [
        ("cnon:card-nonce-declined", "GENERIC_DECLINE"),
        ("cnon:card-nonce-rejected-cvv", "CVV_FAILURE"),
        ("cnon:stub-decline-INSUFFICIENT_FUNDS", "INSUFFICIENT_FUNDS"),
        ("cnon:card-nonce-requires-verification", "CARD_DECLINED_VERIFICATION_REQUIRED"),
    ],
)
def test_declining_tokens_decline_with_a_failed_payment(square_stub, token, code):
    with pytest.raises(ApiError) as error:
        create(square_stub, source=token)

    assert (error.value.status_code, error.value.errors[0].category, error.value.errors[0].code) == (
        400,
        "PAYMENT_METHOD_ERROR",
        code,
    )
    assert [p["status"] for p in square_stub.payments.values()] == ["FAILED"]
    assert error.value.body["payment"]["status"] == "FAILED"


def test_a_scripted_failure_moves_nothing(square_stub):
    square_stub.fail_next("payments.create", 503)
    with pytest.raises(ApiError) as error:
        create(square_stub)

    assert (error.value.status_code, error.value.errors[0].category) == (503, "API_ERROR")
    assert square_stub.payments == {}
    assert create(square_stub).payment.status == "COMPLETED"


def test_a_delayed_answer_still_records_the_charge(square_stub):
    square_stub.delay_next("payments.create", 1.0)
    with pytest.raises(httpx.TimeoutException):
        create(square_stub, timeout=0.2)

    assert len(square_stub.charges()) == 1
    assert create(square_stub).payment.id == square_stub.charges()[0]["id"]


def test_a_wrong_token_is_unauthorized(square_stub):
    with pytest.raises(ApiError) as error:
        client(square_stub, token="wrong").payments.get("nothing", request_options=NO_RETRY)

    assert (error.value.status_code, error.value.errors[0].code) == (401, "UNAUTHORIZED")


def test_payments_are_listed_page_by_page_within_the_window(square_stub):
    square_stub.page_size = 2
    base = datetime.datetime(2026, 11, 20, 12, tzinfo=datetime.UTC)
    for hour in range(5):
        square_stub.add_payment(amount=100 + hour, created_at=base + datetime.timedelta(hours=hour))
    square_stub.add_payment(amount=999, created_at=base - datetime.timedelta(days=1))
    square_stub.add_payment(amount=998, created_at=base, location_id="ELSEWHERE")

    pager = client(square_stub).payments.list(
        begin_time="2026-11-20T12:00:00Z",
        end_time="2026-11-21T00:00:00Z",
        location_id=square_stub.location_id,
        request_options=NO_RETRY,
    )

    assert sorted(p.amount_money.amount for p in pager) == [100, 101, 102, 103, 104]
    assert square_stub.calls("payments.list") == 3


def test_refunds_give_back_at_most_what_remains(square_stub):
    payment = create(square_stub).payment
    refunds = client(square_stub).refunds

    refund = refunds.refund_payment(
        idempotency_key="r-1",
        payment_id=payment.id,
        amount_money={"amount": 1000, "currency": "EUR"},
        request_options=NO_RETRY,
    ).refund
    with pytest.raises(ApiError) as error:
        refunds.refund_payment(
            idempotency_key="r-2",
            payment_id=payment.id,
            amount_money={"amount": 251, "currency": "EUR"},
            request_options=NO_RETRY,
        )

    assert (refund.status, refund.amount_money.amount, refund.payment_id) == ("COMPLETED", 1000, payment.id)
    assert error.value.errors[0].code == "REFUND_AMOUNT_INVALID"
    fetched = client(square_stub).payments.get(payment.id, request_options=NO_RETRY).payment
    assert (fetched.refunded_money.amount, fetched.refund_ids) == (1000, [refund.id])
    assert refunds.get(refund.id, request_options=NO_RETRY).refund.status == "COMPLETED"


def test_webhook_bodies_are_signed_as_square_signs_them(square_stub):
    payment = square_stub.add_payment(amount=1800)
    body = square_stub.webhook_body("payment.updated", payment["id"])

    assert verify_signature(
        request_body=body.decode(),
        signature_header=square_stub.sign(body),
        signature_key=square_stub.signature_key,
        notification_url=square_stub.webhook_url,
    )
