"""Paying on delivery or at the counter: cash, card terminal, meal voucher, cheque.

No money moves through the site: staff record what they were handed. A charge or a refund is
therefore recorded as done at once, with no provider reference; there is nothing to fetch, list or
hear from (no webhook).
"""

from .base import SUCCEEDED, PaymentProvider, ProviderResult


class OnDeliveryProvider(PaymentProvider):
    name = "on_delivery"
    online = False

    def charge(
        self,
        *,
        amount,
        source_token="",
        idempotency_key,
        reference,
        location_id="",
        note="",
        verification_token="",
    ):
        return ProviderResult(reference="", status=SUCCEEDED, amount=amount, order_reference=reference)

    def refund(self, *, payment_reference, amount, idempotency_key, reason=""):
        return ProviderResult(reference="", status=SUCCEEDED, amount=amount)

    def fetch_payment(self, reference):
        return None

    def fetch_refund(self, reference):
        return None

    def list_payments(self, *, begin, end, location_id=""):
        return []

    def verify_webhook(self, *, body, headers, url):
        return False

    def parse_webhook(self, body):
        return None
