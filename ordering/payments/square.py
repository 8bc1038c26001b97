"""Card payments online through Square (the `squareup` SDK): charges, refunds, fetching their
current state, listing a location's payments, and checking webhook notifications.

Only this module speaks Square's vocabulary: integer cents (`to_cents` / `from_cents`), Square's
statuses, error categories and codes. Settings: SQUARE_ACCESS_TOKEN, SQUARE_APPLICATION_ID,
SQUARE_ENVIRONMENT ("sandbox" or "production", always passed explicitly to the SDK),
SQUARE_WEBHOOK_SIGNATURE_KEY and SQUARE_WEBHOOK_URL, SQUARE_TIMEOUT and SQUARE_RETRY_DELAY;
SQUARE_BASE_URL (tests only) points the SDK at a local stub of Square's API.

Failures are told apart by Square's error category and code, never by the HTTP status alone:
- PAYMENT_METHOD_ERROR (and a card token Square cannot use) → PaymentDeclined, a French reason;
- API_ERROR (Square's 5xx), RATE_LIMIT_ERROR (429), a time-out or a broken connection → retried
  a bounded number of times with the same idempotency key (Square then answers the first
  request's result: never a second charge), then ProviderUnavailable(outcome_unknown=True) when
  a request may have reached Square;
- anything else (refused credentials, an invalid request) → ProviderUnavailable(outcome_unknown=
  False) for a charge, PaymentDeclined for a refund Square refuses (e.g. REFUND_AMOUNT_INVALID);
  but after a try that may have reached Square (a time-out, a 5xx), such a refusal says nothing
  about the money that try moved: ProviderUnavailable(outcome_unknown=True).
"""

import datetime
import hashlib
import json
import logging
import time
from decimal import Decimal, InvalidOperation

import httpx
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from square import Square
from square.core.api_error import ApiError
from square.environment import SquareEnvironment
from square.utils.webhooks_helper import verify_signature

from .base import (
    FAILED,
    PENDING,
    SUCCEEDED,
    PaymentDeclined,
    PaymentProvider,
    ProviderResult,
    ProviderUnavailable,
    WebhookEvent,
)
from .declines import decline_message, refund_message

logger = logging.getLogger(__name__)

CURRENCY = "EUR"
CENT = Decimal("0.01")
ENVIRONMENTS = {"sandbox": SquareEnvironment.SANDBOX, "production": SquareEnvironment.PRODUCTION}
# The Web Payments SDK's script, by environment (it must match the application id's environment).
SCRIPT_URLS = {
    "sandbox": "https://sandbox.web.squarecdn.com/v1/square.js",
    "production": "https://web.squarecdn.com/v1/square.js",
}
APPLICATION_ID_PREFIXES = {"sandbox": "sandbox-sq0idb-", "production": "sq0idp-"}
PAYMENT_STATUSES = {
    "COMPLETED": SUCCEEDED,
    "APPROVED": PENDING,
    "PENDING": PENDING,
    "CANCELED": FAILED,
    "FAILED": FAILED,
    "REJECTED": FAILED,
}
REFUND_STATUSES = {"COMPLETED": SUCCEEDED, "PENDING": PENDING, "REJECTED": FAILED, "FAILED": FAILED}
# Errors worth another try with the same idempotency key: Square's own failures and its rate limit.
RETRIED_CATEGORIES = {"API_ERROR", "RATE_LIMIT_ERROR"}
DECLINE_CATEGORY = "PAYMENT_METHOD_ERROR"
# Card tokens Square cannot use (INVALID_REQUEST_ERROR): the customer enters the card again.
CARD_TOKEN_CODES = {"CARD_TOKEN_USED", "CARD_TOKEN_EXPIRED", "INVALID_CARD_DATA", "INVALID_CARD"}
RETRIES = 2  # three requests at most
MAX_RETRY_AFTER = 5.0  # seconds: a longer Retry-After is not worth keeping the customer waiting
# Connection failures where the request never left: nothing can have moved.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout)
SIGNATURE_HEADER = "x-square-hmacsha256-signature"
MAX_KEY_LENGTH = 45  # Square's limit on idempotency keys
WEBHOOK_EVENTS = {
    "payment.created": "payment",
    "payment.updated": "payment",
    "refund.created": "refund",
    "refund.updated": "refund",
}


def square_key(idempotency_key):
    """Our idempotency key as Square takes it: at most 45 characters (CreatePayment, RefundPayment).
    A longer key is replaced by a digest of it, the same every time, so a retry still sends the
    same key and two different keys stay different."""
    if len(idempotency_key) <= MAX_KEY_LENGTH:
        return idempotency_key
    return "k-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]


def to_cents(amount):
    """Decimal euros → integer cents, exactly. Refuses floats (0.1 + 0.2 is not 0.30) and amounts
    with a fraction of a cent (12.345), rather than rounding someone's money."""
    if isinstance(amount, bool) or not isinstance(amount, Decimal | int):
        raise TypeError(f"Amounts are Decimal euros, not {type(amount).__name__}: {amount!r}")
    try:
        cents = Decimal(amount) * 100
        exact = cents == cents.to_integral_value()
    except InvalidOperation as error:
        raise ValueError(f"Not an amount: {amount!r}") from error
    if not cents.is_finite() or not exact:
        raise ValueError(f"{amount!r} is not a whole number of cents")
    return int(cents)


def from_cents(cents):
    """Integer cents (Square's unit) → Decimal euros with two decimal places."""
    return (Decimal(int(cents)) / 100).quantize(CENT)


def rfc3339(moment):
    """An aware datetime as Square's RFC 3339 timestamps (UTC)."""
    if moment.tzinfo is None:
        raise ValueError("Square needs aware datetimes")
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def dump(model):
    """A Square SDK object as a JSON-ready dict (kept on our rows for audit)."""
    return model.model_dump(mode="json", by_alias=True, exclude_none=True) if model is not None else {}


def error_body(error):
    """The body of Square's error answer as a dict (a proxy's HTML page becomes {"body": text})."""
    if isinstance(error.body, dict):
        return error.body
    return {"status_code": error.status_code, "body": str(error.body or "")[:2000]}


def main_error(error):
    """(category, code) that decides what an ApiError means. Of several card errors, the most
    precise: Square may send GENERIC_DECLINE beside CVV_FAILURE."""
    errors = error.errors or []
    declines = [e for e in errors if e.category == DECLINE_CATEGORY]
    precise = [e for e in declines if e.code != "GENERIC_DECLINE"]
    chosen = (precise or declines or errors or [None])[0]
    if chosen is None:
        return "API_ERROR", "Unknown"
    return chosen.category or "", chosen.code or ""


def read_webhook_event(body):
    """The WebhookEvent of a Square notification `body` (bytes) about a payment or a refund, or
    None for another event or a body that is not Square's notification JSON. Shared with the
    simulator, which takes notifications of the same shape."""
    try:
        payload = json.loads(body)
        event_type = payload["type"]
        data = payload["data"]
        object_kind = WEBHOOK_EVENTS.get(event_type)
        if object_kind is None or data.get("type", object_kind) != object_kind:
            return None
        return WebhookEvent(
            event_id=str(payload["event_id"]),
            type=event_type,
            object_kind=object_kind,
            object_id=str(data["id"]),
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def configuration_errors():
    """What stops the Square provider from running with these settings (English, for the
    operator); empty when it can run. Credentials are required with DEBUG on too: an empty token
    never means "test cards". With DEBUG off, the webhook's key and URL too."""
    environment = getattr(settings, "SQUARE_ENVIRONMENT", "")
    application_id = getattr(settings, "SQUARE_APPLICATION_ID", "")
    errors = []
    if not getattr(settings, "SQUARE_ACCESS_TOKEN", ""):
        errors.append("SQUARE_ACCESS_TOKEN is empty: set the access token of the Square application.")
    if environment not in ENVIRONMENTS:
        errors.append(f"SQUARE_ENVIRONMENT={environment!r}: it must be 'sandbox' or 'production'.")
    if not application_id:
        errors.append("SQUARE_APPLICATION_ID is empty: the card form cannot load without it.")
    elif environment in ENVIRONMENTS and not application_id.startswith(APPLICATION_ID_PREFIXES[environment]):
        errors.append(
            f"SQUARE_APPLICATION_ID does not belong to the {environment} environment (expected an id "
            f"starting with {APPLICATION_ID_PREFIXES[environment]!r})."
        )
    if not settings.DEBUG:
        if not getattr(settings, "SQUARE_WEBHOOK_SIGNATURE_KEY", ""):
            errors.append(
                "SQUARE_WEBHOOK_SIGNATURE_KEY is empty: webhook notifications could not be checked."
            )
        if not getattr(settings, "SQUARE_WEBHOOK_URL", "").startswith("https://"):
            errors.append(
                "SQUARE_WEBHOOK_URL must be the exact https:// notification URL of the webhook "
                "subscription (Square signs it with the body)."
            )
    return errors


class SquareProvider(PaymentProvider):
    name = "square"
    online = True

    def __init__(self):
        errors = configuration_errors()
        if errors:
            raise ImproperlyConfigured(" ".join(errors))
        self.environment = settings.SQUARE_ENVIRONMENT
        self.client = Square(
            base_url=settings.SQUARE_BASE_URL or None,
            environment=ENVIRONMENTS[self.environment],
            token=settings.SQUARE_ACCESS_TOKEN,
            timeout=float(settings.SQUARE_TIMEOUT),
        )

    # Moving money ------------------------------------------------------------------------------

    def charge(
        self,
        *,
        amount,
        source_token,
        idempotency_key,
        reference,
        location_id="",
        note="",
        verification_token="",
    ):
        cents = self._positive_cents(amount)
        request = {
            "source_id": source_token,
            "idempotency_key": square_key(idempotency_key),
            "amount_money": {"amount": cents, "currency": CURRENCY},
            "autocomplete": True,
            "reference_id": reference,
        }
        if location_id:
            request["location_id"] = location_id
        if note:
            request["note"] = note[:500]
        if verification_token:
            request["verification_token"] = verification_token
        try:
            response = self._request(
                "payments.create",
                lambda client, options: client.payments.create(**request, request_options=options),
            )
        except ApiError as error:
            category, code = main_error(error)
            body = error_body(error)
            if category == DECLINE_CATEGORY or code in CARD_TOKEN_CODES:
                payment = body.get("payment") or {}
                raise PaymentDeclined(
                    decline_message(code), reference=payment.get("id", ""), code=code, raw=body
                ) from error
            raise self._refused("payments.create", error) from error
        result = self._payment_result(response.payment)
        if result.status == FAILED:
            raise PaymentDeclined(
                decline_message(""), reference=result.reference, code=response.payment.status, raw=result.raw
            )
        return result

    def refund(self, *, payment_reference, amount, idempotency_key, reason=""):
        cents = self._positive_cents(amount)
        request = {
            "idempotency_key": square_key(idempotency_key),
            "payment_id": payment_reference,
            "amount_money": {"amount": cents, "currency": CURRENCY},
        }
        if reason:
            request["reason"] = reason[:192]
        try:
            response = self._request(
                "refunds.refund_payment",
                lambda client, options: client.refunds.refund_payment(**request, request_options=options),
            )
        except ApiError as error:
            category, code = main_error(error)
            if category == "AUTHENTICATION_ERROR":
                raise self._refused("refunds.refund_payment", error) from error
            logger.warning("Square refused refund of %s: %s %s", payment_reference, category, code)
            raise PaymentDeclined(refund_message(code), code=code, raw=error_body(error)) from error
        result = self._refund_result(response.refund)
        if result.status == FAILED:
            raise PaymentDeclined(
                refund_message("REFUND_DECLINED"),
                reference=result.reference,
                code=response.refund.status,
                raw=result.raw,
            )
        return result

    # Reading -----------------------------------------------------------------------------------

    def fetch_payment(self, reference):
        response = self._fetch(
            "payments.get", lambda client, options: client.payments.get(reference, request_options=options)
        )
        return self._payment_result(response.payment) if response is not None else None

    def fetch_refund(self, reference):
        response = self._fetch(
            "refunds.get", lambda client, options: client.refunds.get(reference, request_options=options)
        )
        return self._refund_result(response.refund) if response is not None else None

    def list_payments(self, *, begin, end, location_id=""):
        results, cursor = [], None
        while True:
            try:
                page = self._request(
                    "payments.list",
                    lambda client, options, cursor=cursor: client.payments.list(
                        begin_time=rfc3339(begin),
                        end_time=rfc3339(end),
                        location_id=location_id or None,
                        sort_order="ASC",
                        cursor=cursor,
                        request_options=options,
                    ),
                    reads_only=True,
                )
            except ApiError as error:  # refused credentials, an invalid location: nothing to list
                raise self._refused("payments.list", error) from error
            results.extend(self._payment_result(payment) for payment in page.items or [])
            cursor = page.response.cursor
            if not cursor:
                return results

    # Webhooks and the card form ------------------------------------------------------------

    def verify_webhook(self, *, body, headers, url):
        key = settings.SQUARE_WEBHOOK_SIGNATURE_KEY
        signature = next((value for name, value in headers.items() if name.lower() == SIGNATURE_HEADER), "")
        if not (signature and key and url and body):
            return False
        try:
            text = body.decode("utf-8") if isinstance(body, bytes) else body
        except UnicodeDecodeError:
            return False
        return verify_signature(
            request_body=text, signature_header=signature, signature_key=key, notification_url=url
        )

    def parse_webhook(self, body):
        return read_webhook_event(body)

    def card_form(self, *, location_id=""):
        return {
            "kind": "square",
            "script_url": SCRIPT_URLS[self.environment],
            "application_id": settings.SQUARE_APPLICATION_ID,
            "location_id": location_id,
            "environment": self.environment,
        }

    # Plumbing ----------------------------------------------------------------------------------

    @staticmethod
    def _positive_cents(amount):
        cents = to_cents(amount)
        if cents <= 0:
            raise ValueError(f"Square moves positive amounts only, not {amount!r}")
        return cents

    def _request(self, operation, call, *, reads_only=False):
        """`call(client, request_options)` with our retries (the SDK's own are off: it does not
        retry time-outs, and its pauses are too long for a customer waiting). Returns the answer;
        raises the ApiError of an answer not worth retrying, or ProviderUnavailable once the
        retries are spent."""
        options = {"max_retries": 0}
        maybe_reached = False
        last = None
        for attempt in range(RETRIES + 1):
            if attempt:
                time.sleep(self._pause(attempt, last))
            try:
                return call(self.client, options)
            except ApiError as error:
                category, code = main_error(error)
                if category not in RETRIED_CATEGORIES:
                    if maybe_reached and not reads_only and category != DECLINE_CATEGORY:
                        # An earlier try may have moved the money: this refusal (a conflict, a
                        # refund amount now too high, a used card token) does not say it did not.
                        logger.warning(
                            "Square %s: %s %s after a try that may have reached it (attempt %d)",
                            operation,
                            category,
                            code,
                            attempt + 1,
                        )
                        last = error
                        break
                    raise
                maybe_reached, last = True, error
                logger.warning("Square %s: %s %s (attempt %d)", operation, category, code, attempt + 1)
            except httpx.TransportError as error:
                maybe_reached = maybe_reached or not isinstance(error, NOT_SENT)
                last = error
                logger.warning("Square %s: %r (attempt %d)", operation, error, attempt + 1)
        unknown = maybe_reached and not reads_only
        logger.error(
            "Square %s failed after %d attempts (outcome unknown: %s)", operation, attempt + 1, unknown
        )
        if unknown:
            message = _(
                "Nous attendons la confirmation de votre banque : le paiement est en cours de "
                "confirmation. Ne payez pas une seconde fois."
            )
        else:
            message = _(
                "Le paiement par carte est momentanément indisponible. Réessayez dans quelques minutes."
            )
        raw = error_body(last) if isinstance(last, ApiError) else {"error": repr(last)}
        raise ProviderUnavailable(message, outcome_unknown=unknown, raw=raw)

    @staticmethod
    def _pause(attempt, last):
        """Seconds before retry `attempt`: Square's Retry-After when it gives one (bounded),
        else SQUARE_RETRY_DELAY doubled at each attempt."""
        headers = getattr(last, "headers", None) or {}
        retry_after = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
        if retry_after is not None:
            try:
                return min(max(float(retry_after), 0.0), MAX_RETRY_AFTER)
            except ValueError:
                pass
        return float(settings.SQUARE_RETRY_DELAY) * 2 ** (attempt - 1)

    def _fetch(self, operation, call):
        try:
            return self._request(operation, call, reads_only=True)
        except ApiError as error:
            if main_error(error)[1] == "NOT_FOUND":
                return None
            raise self._refused(operation, error) from error

    @staticmethod
    def _refused(operation, error):
        """ProviderUnavailable for an answer that says nothing moved (refused credentials, an
        invalid request): logged as an error, the operator has something to fix."""
        category, code = main_error(error)
        logger.error("Square refused %s: HTTP %s, %s %s", operation, error.status_code, category, code)
        return ProviderUnavailable(
            _("Le paiement par carte est momentanément indisponible. Réessayez dans quelques minutes."),
            outcome_unknown=False,
            raw=error_body(error),
        )

    @staticmethod
    def _payment_result(payment):
        refunded = payment.refunded_money.amount if payment.refunded_money else 0
        return ProviderResult(
            reference=payment.id,
            status=PAYMENT_STATUSES.get(payment.status, PENDING),
            amount=from_cents(payment.amount_money.amount),
            order_reference=payment.reference_id or "",
            refunded_amount=from_cents(refunded),
            refund_references=tuple(payment.refund_ids or ()),
            location_id=payment.location_id or "",
            created_at=parse_datetime(payment.created_at) if payment.created_at else None,
            raw=dump(payment),
        )

    @staticmethod
    def _refund_result(refund):
        return ProviderResult(
            reference=refund.id,
            status=REFUND_STATUSES.get(refund.status, PENDING),
            amount=from_cents(refund.amount_money.amount),
            payment_reference=refund.payment_id or "",
            location_id=refund.location_id or "",
            created_at=parse_datetime(refund.created_at) if refund.created_at else None,
            raw=dump(refund),
        )
