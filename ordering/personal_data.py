"""Ordering's part of a customer's personal data: export, erasure, and guest orders claimed.

`accounts.personal_data` (a registry in the lower app) calls these: `OrderingConfig.ready()`
registers them.
"""

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from . import tracking
from .boards import orders_changed
from .models import Order, new_secret


def export_orders(user):
    """The customer's orders as JSON-able data (newest first), in a bounded number of queries."""
    orders = Order.objects.filter(customer=user).prefetch_related("lines", "discounts", "events", "payments")
    return [
        {
            "number": order.number,
            "store": order.store_name,
            "created_at": order.created_at.isoformat(),
            "status": order.status,
            "fulfilment": order.fulfilment,
            "contact": {
                "name": order.contact_name,
                "phone": order.contact_phone,
                "email": order.contact_email,
            },
            "address": {
                "street_address": order.street_address,
                "postcode": order.postcode,
                "city": order.city,
                "details": order.address_details,
                "latitude": None if order.latitude is None else str(order.latitude),
                "longitude": None if order.longitude is None else str(order.longitude),
            },
            "promised_at": order.promised_at.isoformat(),
            "payment_method": order.payment_method,
            "lines": [
                {
                    "product": line.product_name,
                    "size": line.size_name,
                    "extras": [extra["name"] for extra in line.extras],
                    "quantity": line.quantity,
                    "unit_price": str(line.unit_price),
                    "vat_rate": str(line.vat_rate),
                    "total": str(line.total),
                }
                for line in order.lines.all()
            ],
            "discounts": [{"label": d.label, "amount": str(d.amount)} for d in order.discounts.all()],
            "subtotal": str(order.subtotal),
            "discount_total": str(order.discount_total),
            "delivery_fee": str(order.delivery_fee),
            "total": str(order.total),
            "history": [
                {"at": event.created_at.isoformat(), "from": event.from_status, "to": event.to_status}
                for event in order.events.all()
            ],
            "payments": [
                {"kind": p.kind, "amount": str(p.amount), "status": p.status, "at": p.created_at.isoformat()}
                for p in order.payments.all()
            ],
        }
        for order in orders
    ]


def open_order_blocker(user):
    """An account whose order is still on its way cannot be deleted: the kitchen, the driver
    and the customer's tracking page still need who and where."""
    number = (
        Order.objects.filter(customer=user)
        .open()
        .order_by("created_at")
        .values_list("number", flat=True)
        .first()
    )
    if number is None:
        return ""
    return _(
        "Votre commande %(number)s est en cours : vous pourrez supprimer votre compte une fois "
        "qu’elle sera livrée, retirée ou annulée."
    ) % {"number": number}


@transaction.atomic
def anonymise_orders(user):
    """Before the account is deleted: keep its orders for the accounts (lines, amounts, VAT,
    store, dates) but remove who ordered and where they live. Returns how many orders."""
    count = 0
    for order in Order.objects.select_for_update().filter(customer=user):
        order.customer = None
        order.contact_name = ""
        order.contact_phone = ""
        order.contact_email = ""
        order.street_address = ""
        order.address_details = ""
        order.latitude = order.longitude = None  # they would point at the door
        order.secret = new_secret()  # the guest link dies too
        order.version += 1
        order.save(
            update_fields=[
                "customer",
                "contact_name",
                "contact_phone",
                "contact_email",
                "street_address",
                "address_details",
                "latitude",
                "longitude",
                "secret",
                "version",
            ]
        )
        count += 1
    return count


def claim_guest_orders(user, email):
    """Attach the guest orders placed with `email` (now confirmed as the user's) to the account.

    Only orders without an account are claimed; returns how many.
    """
    email = (email or "").strip()
    if not email:
        return 0
    with transaction.atomic():
        unclaimed = (
            Order.objects.select_for_update()
            .filter(customer__isnull=True, contact_email__iexact=email)
            .order_by("pk")  # locked in one order: two claims never wait for each other in a cycle
        )
        rows = list(unclaimed.values_list("id", "store_id"))
        claimed = Order.objects.filter(pk__in=[pk for pk, _ in rows])
        count = claimed.update(customer=user, version=F("version") + 1)
        # An update sends no `post_save`: the boards of the orders' stores and their tracking
        # polls are told here, after it, while its row locks are held.
        tracking.record_versions(claimed)
        for store_id in {store_id for _, store_id in rows}:
            orders_changed(store_id)
    return count
