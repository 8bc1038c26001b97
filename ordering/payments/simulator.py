"""An offline payment provider that answers like Square's sandbox to its documented test tokens.

Nothing leaves the machine: `cnon:card-nonce-ok` (and the card-on-file `ccof:customer-card-id-ok`)
is accepted, the declining test tokens are declined with Square's error codes, anything else is
refused as an invalid card. Results depend only on the token and the idempotency key, so a
retried call gives the same answer and the same reference. For development, demonstrations and
tests only: `get_provider` refuses it with DEBUG off unless PAYMENT_SIMULATOR_ALLOWED is set.
"""

import hashlib
import hmac

from django.utils.translation import gettext as _

from .base import PaymentDeclined, PaymentProvider, ProviderResult

ACCEPTED = {"cnon:card-nonce-ok", "ccof:customer-card-id-ok"}
# Square sandbox test tokens that decline, with the error code Square returns.
DECLINING = {
    "cnon:card-nonce-declined": "CARD_DECLINED",
    "cnon:card-nonce-rejected-cvv": "CVV_FAILURE",
    "cnon:card-nonce-rejected-postalcode": "ADDRESS_VERIFICATION_FAILURE",
    "cnon:card-nonce-rejected-expiration": "INVALID_EXPIRATION",
    "cnon:card-nonce-already-used": "CARD_TOKEN_USED",
    "cnon:card-nonce-requires-verification": "CARD_DECLINED_VERIFICATION_REQUIRED",
    "ccof:customer-card-id-declined": "CARD_DECLINED",
}
WEBHOOK_KEY = b"ocpizza-payment-simulator"


def decline_message(code):
    """A French reason for a Square error code."""
    messages = {
        "CARD_DECLINED": _("Votre banque a refusé le paiement."),
        "CVV_FAILURE": _("Le cryptogramme de la carte est incorrect."),
        "ADDRESS_VERIFICATION_FAILURE": _("Le code postal de la carte est incorrect."),
        "INVALID_EXPIRATION": _("La date d'expiration de la carte est incorrecte."),
        "CARD_TOKEN_USED": _("Ce paiement a déjà été utilisé : saisissez votre carte à nouveau."),
        "CARD_DECLINED_VERIFICATION_REQUIRED": _("Votre banque demande une vérification : réessayez."),
    }
    return messages.get(code, _("La carte n'est pas valable."))


class SimulatorProvider(PaymentProvider):
    name = "simulator"
    online = True

    def charge(self, *, amount, source_token, idempotency_key, reference, location_id="", note=""):
        token = (source_token or "").strip()
        payment_reference = self._reference("pay", idempotency_key)
        if token in ACCEPTED:
            return ProviderResult(reference=payment_reference, status="succeeded", amount=amount)
        code = DECLINING.get(token, "INVALID_CARD")
        raise PaymentDeclined(decline_message(code), reference=payment_reference, code=code)

    def refund(self, *, payment_reference, amount, idempotency_key, reason=""):
        if not payment_reference.startswith("sim-pay-"):
            raise PaymentDeclined(_("Paiement introuvable chez le prestataire."), code="NOT_FOUND")
        return ProviderResult(
            reference=self._reference("ref", idempotency_key), status="succeeded", amount=amount
        )

    def fetch_status(self, payment_reference):
        return "succeeded" if payment_reference.startswith(("sim-pay-", "sim-ref-")) else "failed"

    def verify_webhook(self, *, body, headers, url):
        expected = hmac.new(WEBHOOK_KEY, url.encode() + body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, headers.get("X-Simulator-Signature", ""))

    @staticmethod
    def _reference(kind, idempotency_key):
        digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]
        return f"sim-{kind}-{digest}"
