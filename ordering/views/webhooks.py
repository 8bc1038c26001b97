"""Notifications from the payment provider (Square's webhooks).

The signature is checked over the exact notification URL and the raw body; the payload is only a
trigger: `sync_payment` fetches the payment or refund from the provider before anything changes.
Each event id is kept (`WebhookDelivery`), so a replayed notification changes nothing.
"""

import logging

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ..models import WebhookDelivery
from ..payments import ProviderUnavailable, get_provider
from ..services import sync_payment

log = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def square_webhook(request):
    """200 once handled (or for an event we do not follow, or a replay), 403 for a bad or missing
    signature, 503 when the provider cannot be reached to fetch the object (the provider retries),
    404 when no provider takes webhooks here."""
    try:
        provider = get_provider()
    except (ProviderUnavailable, ImproperlyConfigured):
        return HttpResponse(status=404)
    url = getattr(settings, "SQUARE_WEBHOOK_URL", "")
    if not provider.verify_webhook(body=request.body, headers=request.headers, url=url):
        log.warning(
            "Payment webhook refused: bad or missing signature (from %s).", request.META.get("REMOTE_ADDR")
        )
        return HttpResponse(status=403)
    event = provider.parse_webhook(request.body)
    if event is None:
        return HttpResponse(status=200)
    try:
        with transaction.atomic():
            delivery = WebhookDelivery.objects.create(
                provider=provider.name,
                event_id=event.event_id,
                event_type=event.type,
                object_id=event.object_id,
                received_at=timezone.now(),
            )
    except IntegrityError:
        log.info("Payment webhook %s already handled: replay ignored.", event.event_id)
        return HttpResponse(status=200)
    try:
        sync_payment(provider.name, event.object_kind, event.object_id)
    except ProviderUnavailable as error:
        delivery.delete()  # not handled: the provider's retry must get through
        log.warning("Payment webhook %s not handled, provider unreachable: %s", event.event_id, error)
        return HttpResponse(status=503)
    except Exception:
        delivery.delete()  # not handled either: a 500, and the provider's retry gets through
        raise
    return HttpResponse(status=200)
