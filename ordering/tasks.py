"""Background work of ordering: the e-mails that follow an order (French, plain text)."""

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import NoReverseMatch
from django.utils import translation
from django.utils.translation import gettext as _
from django_tasks import task

from .models import Order

KINDS = ("confirmation", "ready", "out_for_delivery", "changed", "cancelled")


def subject_for(order, kind):
    subjects = {
        "confirmation": _("Votre commande %(number)s est confirmée"),
        "ready": _("Votre commande %(number)s est prête"),
        "out_for_delivery": _("Votre commande %(number)s est en route"),
        "changed": _("Votre commande %(number)s a été modifiée"),
        "cancelled": _("Votre commande %(number)s est annulée"),
    }
    return subjects[kind] % {"number": order.number}


def order_link(order):
    """The order's tracking page as an absolute link ("" if the storefront's URLs are missing)."""
    try:
        return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + order.get_absolute_url()
    except NoReverseMatch:
        return ""


@task()
def send_order_email(order_id, kind):
    """E-mail the order's contact about `kind` (one of KINDS); returns how many were sent (0 or 1)."""
    if kind not in KINDS:
        raise ValueError(f"Unknown order e-mail: {kind!r}")
    return _send(_order(pk=order_id), kind)


@task()
def send_placed_order_confirmation(idempotency_key):
    """The confirmation of the order placed with `idempotency_key`: queued in the order's own
    transaction, before its number and primary key were known (`ordering.transitions.queue_confirmation`).
    Returns how many e-mails were sent (0 or 1)."""
    return _send(_order(idempotency_key=idempotency_key), "confirmation")


def _order(**lookup):
    return (
        Order.objects.select_related("store", "customer")
        .prefetch_related("lines", "discounts", "payments")
        .get(**lookup)
    )


def _send(order, kind):
    recipient = order.contact_email or getattr(order.customer, "email", "")
    if not recipient:
        return 0
    with translation.override(settings.LANGUAGE_CODE):
        context = {
            "order": order,
            "lines": list(order.lines.all()),
            "discounts": list(order.discounts.all()),
            "vat": order.vat_breakdown(),
            "link": order_link(order),
            "store_phone": getattr(order.store, "phone", ""),
            "refunded": sum(
                (p.amount for p in order.payments.all() if p.kind == "refund" and p.status == "succeeded"),
                0,
            ),
        }
        subject = subject_for(order, kind)
        body = render_to_string(f"ordering/email/{kind}.txt", context)
    send_mail(subject, body, None, [recipient])
    return 1
