"""Paying on delivery or at the counter: cash, card terminal, meal voucher, cheque.

No money moves through the site: staff record what they were handed. A charge or a refund is
therefore recorded as done at once, with no provider reference; there is no webhook.
"""

from .base import PaymentProvider, ProviderResult


class OnDeliveryProvider(PaymentProvider):
    name = "on_delivery"
    online = False

    def charge(self, *, amount, source_token="", idempotency_key, reference, location_id="", note=""):
        return ProviderResult(reference="", status="succeeded", amount=amount)

    def refund(self, *, payment_reference, amount, idempotency_key, reason=""):
        return ProviderResult(reference="", status="succeeded", amount=amount)

    def fetch_status(self, payment_reference):
        return "succeeded"

    def verify_webhook(self, *, body, headers, url):
        return False
