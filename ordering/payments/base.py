"""The payment-provider interface: how `ordering.services` moves money, whatever the provider.

Amounts are Decimal euros here; a provider converts to its own unit (cents) inside its adapter.
Every call that moves money carries an idempotency key: the same key sent again must return the
first call's result without moving money twice (a retried request, a double click).
"""

from dataclasses import dataclass
from decimal import Decimal

from ..exceptions import PaymentError


class PaymentDeclined(PaymentError):
    """The card (or the provider) refused the payment; `str(error)` is a French reason a customer
    can read. `reference` is the provider's id of the declined attempt, if it has one."""

    def __init__(self, message, *, reference="", code=""):
        super().__init__(message)
        self.reference = reference
        self.code = code


class ProviderUnavailable(PaymentError):
    """The provider could not be reached or answered an error: nothing is known to have moved."""


@dataclass(frozen=True)
class ProviderResult:
    """What the provider says about a charge or a refund: its reference and status."""

    reference: str
    status: str  # "succeeded" | "pending" | "failed"
    amount: Decimal


class PaymentProvider:
    """Base class of payment providers. Subclasses implement every method.

    `name` is stored on each `Payment` row; `online` says whether the customer pays through the
    provider on the site (card online) rather than at hand-over.
    """

    name = ""
    online = True

    def charge(self, *, amount, source_token, idempotency_key, reference, location_id="", note=""):
        """Take `amount` (Decimal euros, > 0) with the card token from the browser.

        `reference` is our order number (shown in the provider's dashboard). Returns a
        ProviderResult (status "succeeded", or "pending" for a result that a webhook will
        confirm). Raises PaymentDeclined when the card is refused, ProviderUnavailable when the
        provider cannot answer. Same `idempotency_key` twice: the first result, no second charge.
        """
        raise NotImplementedError

    def refund(self, *, payment_reference, amount, idempotency_key, reason=""):
        """Give back `amount` (Decimal euros, > 0, at most what the charge took and has not given
        back) of the charge `payment_reference`. Returns a ProviderResult; raises PaymentDeclined
        if the provider refuses, ProviderUnavailable if it cannot answer. Idempotent by key."""
        raise NotImplementedError

    def fetch_status(self, payment_reference):
        """The provider's current status of a charge or refund: "succeeded", "pending" or
        "failed". Must not move money. Used to reconcile after a webhook or a time-out."""
        raise NotImplementedError

    def verify_webhook(self, *, body, headers, url):
        """Whether a webhook request (`body` bytes, `headers` mapping, the `url` it was sent to)
        really comes from the provider (signature check). Must not move money or trust the
        payload beyond identifying which payment to fetch again."""
        raise NotImplementedError
