"""The payment-provider interface: how `ordering.services` moves money, whatever the provider.

Amounts are Decimal euros here; a provider converts to its own unit (cents) inside its adapter.
Every call that moves money carries an idempotency key, stored on the `Payment` row *before* the
call: the same key sent again must return the first call's result without moving money twice
(a retried request, a double click, a time-out after the charge was taken).

Statuses are ours: "succeeded", "pending" (the provider will settle it; a webhook or the
reconciliation fetches it again) or "failed".
"""

from dataclasses import dataclass, field
from decimal import Decimal

from ..exceptions import PaymentError

SUCCEEDED, PENDING, FAILED = "succeeded", "pending", "failed"


class PaymentDeclined(PaymentError):
    """The card (or the provider) refused the payment; `str(error)` is a French reason a customer
    can read. `reference` is the provider's id of the declined attempt, if it has one; `code` the
    provider's error code (Square's, e.g. "GENERIC_DECLINE"); `raw` its answer, for audit."""

    def __init__(self, message, *, reference="", code="", raw=None):
        super().__init__(message)
        self.reference = reference
        self.code = code
        self.raw = raw or {}


class ProviderUnavailable(PaymentError):
    """The provider could not be reached or answered an error (after the adapter's retries with
    the same idempotency key). `outcome_unknown` is True when a request may have reached the
    provider (a time-out, a 5xx): money may have moved, so the caller keeps its `Payment` row
    "pending" with its key and lets the webhook or the reconciliation settle it. False: nothing
    moved (refused credentials, connection refused, a 4xx that is not a decline)."""

    def __init__(self, message, *, outcome_unknown=False, raw=None):
        super().__init__(message)
        self.outcome_unknown = outcome_unknown
        self.raw = raw or {}


@dataclass(frozen=True)
class ProviderResult:
    """What the provider says about a charge or a refund.

    `reference`: the provider's id (Square payment id or refund id); `status`: SUCCEEDED,
    PENDING or FAILED; `amount`: Decimal euros; `order_reference`: our order number as the
    provider holds it (Square's `reference_id`; empty for refunds); `payment_reference`: for a
    refund, the provider id of the charge it gives back; `refunded_amount` and
    `refund_references`: for a charge, what the provider says was given back and by which
    refunds; `location_id`: the provider's location; `created_at`: aware datetime or None;
    `raw`: the provider's answer as a JSON-serialisable dict (kept on the Payment row for audit).
    """

    reference: str
    status: str
    amount: Decimal
    order_reference: str = ""
    payment_reference: str = ""
    refunded_amount: Decimal = Decimal("0.00")
    refund_references: tuple = ()
    location_id: str = ""
    created_at: object = None
    raw: dict = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class WebhookEvent:
    """A verified webhook notification, reduced to what to fetch again: `event_id` (replays share
    it), `type` (e.g. "payment.updated"), `object_kind` ("payment" or "refund") and `object_id`
    (the provider's id). The payload is a trigger only: the object is fetched from the provider
    before anything changes."""

    event_id: str
    type: str
    object_kind: str
    object_id: str


class PaymentProvider:
    """Base class of payment providers. Subclasses implement every method.

    `name` is stored on each `Payment` row; `online` says whether the customer pays through the
    provider on the site (card online) rather than at hand-over.
    """

    name = ""
    online = True

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
        """Take `amount` (Decimal euros, > 0) with the card token from the browser.

        `reference` is our order number (Square's `reference_id`); `verification_token` the
        buyer-verification (3-D Secure) token when the browser obtained one. Returns a
        ProviderResult (status SUCCEEDED, or PENDING for a result the provider settles later).
        Raises PaymentDeclined when the card is refused, ProviderUnavailable when the provider
        cannot answer. Same `idempotency_key` twice: the first result, no second charge.
        """
        raise NotImplementedError

    def refund(self, *, payment_reference, amount, idempotency_key, reason=""):
        """Give back `amount` (Decimal euros, > 0, at most what the charge took and has not given
        back) of the charge `payment_reference`. Returns a ProviderResult (SUCCEEDED or PENDING);
        raises PaymentDeclined if the provider refuses, ProviderUnavailable if it cannot answer.
        Idempotent by key."""
        raise NotImplementedError

    def fetch_payment(self, reference):
        """The provider's current view of the charge `reference` (ProviderResult), or None if the
        provider does not know it. Moves no money. Raises ProviderUnavailable."""
        raise NotImplementedError

    def fetch_refund(self, reference):
        """The provider's current view of the refund `reference` (ProviderResult), or None."""
        raise NotImplementedError

    def list_payments(self, *, begin, end, location_id=""):
        """The charges the provider took between `begin` and `end` (aware datetimes) at
        `location_id`, as ProviderResults (reconciliation). A provider that keeps no ledger
        (the simulator) returns []."""
        raise NotImplementedError

    def verify_webhook(self, *, body, headers, url):
        """Whether a webhook request (`body` bytes, `headers` mapping, the `url` it was sent to)
        really comes from the provider (signature check)."""
        raise NotImplementedError

    def parse_webhook(self, body):
        """The WebhookEvent of a verified notification's `body` (bytes), or None for an event this
        site does not follow or a body it cannot read."""
        raise NotImplementedError

    def card_form(self, *, location_id=""):
        """What the checkout's card form needs (a dict for the template and the script): for
        Square its Web Payments SDK script URL, application id, location id and environment; for
        the simulator the test cards. Providers without a card form (on delivery) return {}."""
        return {}
