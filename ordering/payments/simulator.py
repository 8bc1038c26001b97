"""An offline payment provider that answers like Square's sandbox to its documented test tokens.

Nothing leaves the machine. `charge` accepts `cnon:card-nonce-ok` (and the card-on-file
`ccof:customer-card-id-ok`), declines Square's declining test tokens with the codes Square returns
and the same French reasons as the Square provider (`declines.decline_message`), and refuses any
other token as card data Square cannot read (INVALID_CARD_DATA). One token is our own convention,
to exercise 3-D Secure offline: `cnon:card-nonce-requires-verification` is declined with
CARD_DECLINED_VERIFICATION_REQUIRED unless a verification token comes with it.

It keeps no ledger: results depend only on the token, the amount and the idempotency key, so a
retried call gives the same answer and the same reference, and a reference says what the
simulator answered (`sim-pay-<cents>-…` taken, `sim-fail-<cents>-…` declined, `sim-ref-<cents>-…`
refunded), which is all `fetch_payment` / `fetch_refund` can tell. `list_payments` is empty.

`card_form` lists the test cards of Square's sandbox (the numbers a customer types in the
simulator's card form) and the token each one gives; `token_for` is the rule the form's script
follows. For development, demonstrations and tests only: the system check refuses it with DEBUG
off unless PAYMENT_SIMULATOR_ALLOWED is set.
"""

import hashlib
import hmac

from django.utils.translation import gettext as _

from .base import FAILED, SUCCEEDED, PaymentDeclined, PaymentProvider, ProviderResult
from .declines import decline_message, refund_message
from .square import from_cents, read_webhook_event, to_cents

__all__ = ["SimulatorProvider", "decline_message", "token_for", "sandbox_cards"]

OK = "cnon:card-nonce-ok"
ACCEPTED = {OK, "ccof:customer-card-id-ok"}
REQUIRES_VERIFICATION = "cnon:card-nonce-requires-verification"
# Square sandbox test tokens that decline, with the error code Square returns.
DECLINING = {
    "cnon:card-nonce-declined": "GENERIC_DECLINE",
    "cnon:card-nonce-rejected-cvv": "CVV_FAILURE",
    "cnon:card-nonce-rejected-postalcode": "ADDRESS_VERIFICATION_FAILURE",
    "cnon:card-nonce-rejected-expiration": "INVALID_EXPIRATION",
    "cnon:card-nonce-already-used": "CARD_TOKEN_USED",
    "ccof:customer-card-id-declined": "GENERIC_DECLINE",
}
INVALID_CARD = "INVALID_CARD_DATA"
# Square's sandbox failure values: this CVV, postal code or expiry declines any test card.
FAILING_CVV, FAILING_POSTAL_CODE, FAILING_EXPIRY = "911", "99999", "01/40"
# The simulator's own declined card (Square's sandbox declines by other means).
DECLINED_NUMBER = "4000000000000002"
WEBHOOK_KEY = b"ocpizza-payment-simulator"


def sandbox_cards():
    """The test cards of the card form: Square's sandbox cards (success, 3-D Secure with or
    without a challenge and its code, failed verification), the failure values its sandbox
    documents, and a declined card. Each: number, brand, cvv, expiry, postal_code, the
    `token` it gives, `verification` ("none", "frictionless", "challenge" with its
    `challenge_code`, or "failed": no verification token), the `code` Square answers ("" when the
    payment succeeds) and a French `label`."""

    def card(number, brand, label, *, cvv="111", expiry="12/30", postal_code="69002", verification="none"):
        token = token_for(number, cvv=cvv, expiry=expiry, postal_code=postal_code)
        return {
            "number": number,
            "brand": brand,
            "cvv": cvv,
            "expiry": expiry,
            "postal_code": postal_code,
            "token": token,
            "verification": verification,
            "challenge_code": "123456" if verification == "challenge" else "",
            "code": DECLINING.get(
                token, "CARD_DECLINED_VERIFICATION_REQUIRED" if token == REQUIRES_VERIFICATION else ""
            ),
            "label": label,
        }

    return [
        card("4111 1111 1111 1111", "Visa", _("Paiement accepté")),
        card("5105 1051 0510 5100", "Mastercard", _("Paiement accepté")),
        card("4800 0000 0000 0004", "Visa", _("3-D Secure sans défi, accepté"), verification="frictionless"),
        card(
            "4310 0000 0020 1019",
            "Visa",
            _("3-D Secure avec code (123456), accepté"),
            verification="challenge",
        ),
        card(
            "5500 0000 0020 1016",
            "Mastercard",
            _("3-D Secure avec code (123456), accepté"),
            verification="challenge",
        ),
        card("4811 1100 0000 0008", "Visa", _("3-D Secure échoué, refusé"), verification="failed"),
        card("4000 0000 0000 0002", "Visa", _("Refusée par la banque")),
        card("4111 1111 1111 1111", "Visa", _("Cryptogramme refusé"), cvv=FAILING_CVV),
        card("4111 1111 1111 1111", "Visa", _("Code postal refusé"), postal_code=FAILING_POSTAL_CODE),
        card("4111 1111 1111 1111", "Visa", _("Date d'expiration refusée"), expiry=FAILING_EXPIRY),
    ]


# Square's sandbox card numbers that tokenise into a nonce the sandbox charges.
GOOD_NUMBERS = {
    "4111111111111111",
    "5105105105105100",
    "6011000000000004",
    "30000000000004",
    "3569990010095841",
    "340000000000009",
    "6222988812340000",
    "4800000000000004",
    "5222220000000005",
    "6011000000201016",
    "4310000000201019",
    "5500000000201016",
    "370000000201014",
}
FAILED_VERIFICATION_NUMBERS = {"4811110000000008"}


def token_for(number, *, cvv="", expiry="", postal_code=""):
    """The sandbox token the simulator's card form gives for what the customer typed (the rule its
    script follows): an unknown number gives a token Square cannot use; Square's failing CVV,
    postal code or expiry decline a test card as its sandbox does."""
    digits = "".join(ch for ch in number if ch.isdigit())
    if digits == DECLINED_NUMBER:
        return "cnon:card-nonce-declined"
    if digits in FAILED_VERIFICATION_NUMBERS:
        return REQUIRES_VERIFICATION
    if digits not in GOOD_NUMBERS:
        return "cnon:simulator-invalid-card"
    if cvv.strip() == FAILING_CVV:
        return "cnon:card-nonce-rejected-cvv"
    if postal_code.strip() == FAILING_POSTAL_CODE:
        return "cnon:card-nonce-rejected-postalcode"
    if expiry.replace(" ", "") == FAILING_EXPIRY:
        return "cnon:card-nonce-rejected-expiration"
    return OK


class SimulatorProvider(PaymentProvider):
    name = "simulator"
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
        cents = to_cents(amount)
        token = (source_token or "").strip()
        if token in ACCEPTED or (token == REQUIRES_VERIFICATION and verification_token):
            return ProviderResult(
                reference=self._reference("pay", cents, idempotency_key),
                status=SUCCEEDED,
                amount=from_cents(cents),
                order_reference=reference,
                location_id=location_id,
            )
        if token == REQUIRES_VERIFICATION:
            code = "CARD_DECLINED_VERIFICATION_REQUIRED"
        else:
            code = DECLINING.get(token, INVALID_CARD)
        raise PaymentDeclined(
            decline_message(code),
            reference=self._reference("fail", cents, idempotency_key),
            code=code,
            raw={"errors": [{"category": "PAYMENT_METHOD_ERROR", "code": code}]},
        )

    def refund(self, *, payment_reference, amount, idempotency_key, reason=""):
        cents = to_cents(amount)
        charged = self._cents(payment_reference, "pay")
        if charged is None:
            raise PaymentDeclined(refund_message("NOT_FOUND"), code="NOT_FOUND")
        if cents <= 0 or cents > charged:
            raise PaymentDeclined(refund_message("REFUND_AMOUNT_INVALID"), code="REFUND_AMOUNT_INVALID")
        return ProviderResult(
            reference=self._reference("ref", cents, idempotency_key),
            status=SUCCEEDED,
            amount=from_cents(cents),
            payment_reference=payment_reference,
        )

    def fetch_payment(self, reference):
        for kind, status in (("pay", SUCCEEDED), ("fail", FAILED)):
            cents = self._cents(reference, kind)
            if cents is not None:
                return ProviderResult(reference=reference, status=status, amount=from_cents(cents))
        return None

    def fetch_refund(self, reference):
        cents = self._cents(reference, "ref")
        if cents is None:
            return None
        return ProviderResult(reference=reference, status=SUCCEEDED, amount=from_cents(cents))

    def list_payments(self, *, begin, end, location_id=""):
        return []

    def verify_webhook(self, *, body, headers, url):
        signature = next((v for k, v in headers.items() if k.lower() == "x-simulator-signature"), "")
        expected = hmac.new(WEBHOOK_KEY, url.encode() + body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, signature)

    def parse_webhook(self, body):
        return read_webhook_event(body)

    def card_form(self, *, location_id=""):
        return {"kind": "simulator", "cards": sandbox_cards()}

    @staticmethod
    def _reference(kind, cents, idempotency_key):
        digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]
        return f"sim-{kind}-{cents}-{digest}"

    @staticmethod
    def _cents(reference, kind):
        """The cents a reference of `kind` ("pay", "fail", "ref") carries, or None."""
        prefix, _sep, rest = (reference or "").partition(f"sim-{kind}-")
        cents, _sep, digest = rest.partition("-")
        if prefix or not cents.isdigit() or len(digest) != 24:
            return None
        return int(cents)
