"""What the staff boards read: their orders, and the ETag their poll compares.

The ETag of a store's board must change with every committed change of any order the board
shows, or that enters or leaves it, whatever the order in which concurrent transactions commit.
A timestamp cannot promise that (a transaction that started earlier may commit later with an
earlier `updated_at`); a sum of versions over a set that orders never leave can: every change
bumps an `Order.version` (+1, in its transaction), so the sum grows with each commit, and a new
order adds one to the count. The set is the store's orders still open, plus those finished since
midnight (Europe/Paris); the day is part of the ETag, so the night's change of set is a change
too. Any change of the store's orders therefore makes the board look again, a few more times
than strictly needed (a kitchen step on the delivery board), never one time too few.
"""

import datetime

from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from stores.models import StorePage

from .access import DELIVERY_BOARD, screen_open_condition
from .models import Order

Status = Order.Status


def _day_start(now):
    today = timezone.localdate(now)
    return timezone.make_aware(datetime.datetime.combine(today, datetime.time.min)), today


def _watched(now):
    """The orders whose changes a board of their store follows (see the module's docstring)."""
    start, _today = _day_start(now)
    return Q(status__in=[s for s in Status.values if s not in Order.FINISHED]) | Q(updated_at__gte=start)


def _etag(day, count, versions):
    return f'"{day:%Y%m%d}-{count or 0}-{versions or 0}"'


def delivery_board_etag(store, *, now=None):
    """The ETag of `store`'s delivery board (and its drivers' phone views): one query."""
    now = now or timezone.now()
    _start, today = _day_start(now)
    totals = Order.objects.filter(_watched(now), store=store).aggregate(
        count=Count("id"), versions=Sum("version")
    )
    return _etag(today, totals["count"], totals["versions"])


def delivery_board_poll(user, store_id, *, now=None):
    """(found, allowed, etag) for a poll of `store_id`'s delivery board by `user`, in one query:
    the store exists, the user may open its delivery board (`screen_stores`' rule), the ETag."""
    now = now or timezone.now()
    _start, today = _day_start(now)
    orders = Order.objects.filter(_watched(now), store=OuterRef("pk")).order_by().values("store")
    row = (
        StorePage.objects.filter(pk=store_id)
        .annotate(
            orders_count=Coalesce(Subquery(orders.annotate(n=Count("id")).values("n")), Value(0)),
            orders_versions=Coalesce(
                Subquery(orders.annotate(v=Sum("version")).values("v"), output_field=IntegerField()), Value(0)
            ),
            allowed=_condition_value(screen_open_condition(user, DELIVERY_BOARD)),
        )
        .values("orders_count", "orders_versions", "allowed")
        .first()
    )
    if row is None:
        return False, False, None
    return True, bool(row["allowed"]), _etag(today, row["orders_count"], row["orders_versions"])


def _condition_value(condition):
    from django.db.models import BooleanField, Case, When

    return Case(When(condition, then=Value(True)), default=Value(False), output_field=BooleanField())


def delivery_orders(store):
    """The orders on `store`'s delivery board: ready (delivery and pickup) and out for delivery,
    oldest promise first, with their driver, lines and payments (a fixed number of queries)."""
    return (
        Order.objects.filter(store=store, status__in=[Status.READY, Status.OUT_FOR_DELIVERY])
        .select_related("driver")
        .prefetch_related("lines", "payments")
        .order_by("promised_at", "id")
    )
