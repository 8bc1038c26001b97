"""What the Wagtail admin's dashboard shows a manager about orders: today's orders per status in
each of their stores, and the orders late on their promised time.

Head office sees every store, a manager the stores they manage (`access.order_stores`); nobody
else gets these panels. Low stock has its own panel, in `stores` (`stores/wagtail_hooks.py`).
Each read is one query whatever the number of orders: counts are grouped in SQL, late orders are
read a few at a time with their total.
"""

import datetime
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from .access import reviewable_orders
from .models import Order

LATE_SHOWN = 10


def paris_day(now=None):
    """The local day of `now` (Europe/Paris, the site's time zone) and its aware bounds
    [start, end): 23 or 25 hours long on the days the clocks change."""
    day = timezone.localdate(now or timezone.now())
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    end = timezone.make_aware(datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min))
    return day, start, end


def list_url(**filters):
    """The orders list with `filters` applied."""
    return f"{reverse('orders_admin:index')}?{urlencode(filters)}"


@dataclass
class StoreDay:
    store: object
    counts: dict = field(default_factory=dict)  # status → number of orders
    cells: list = field(default_factory=list)  # [(status, number, url)] in the table's column order

    @property
    def total(self):
        return sum(self.counts.values())


@dataclass
class TodayOrders:
    day: datetime.date
    statuses: list  # [(value, label)]: the statuses of at least one order today, in life order
    rows: list  # [StoreDay], one per store of the user, by name

    @property
    def total(self):
        return sum(row.total for row in self.rows)


def todays_orders(stores, *, head_office, now=None):
    """The orders placed today (Paris day) in each of `stores`, counted per status (one query)."""
    day, start, end = paris_day(now)
    rows = {store.id: StoreDay(store=store) for store in stores}
    counted = (
        reviewable_orders(stores, head_office=head_office)
        .filter(created_at__gte=start, created_at__lt=end, store__isnull=False)
        .values_list("store_id", "status")
        .annotate(number=Count("id"))
        .order_by()
    )
    for store_id, status, number in counted:
        if store_id in rows:
            rows[store_id].counts[status] = number
    used = {status for row in rows.values() for status in row.counts}
    statuses = [(value, label) for value, label in Order.Status.choices if value in used]
    for row in rows.values():
        row.cells = [
            (
                value,
                row.counts.get(value, 0),
                list_url(store=row.store.id, day=day.isoformat(), status=value),
            )
            for value, _label in statuses
        ]
    return TodayOrders(day=day, statuses=statuses, rows=list(rows.values()))


@dataclass
class LateOrder:
    order: Order
    minutes: int  # how long past its promised time

    @property
    def delay(self):
        """« 12 min », « 1 h 05 », « 4 j 6 h »."""
        hours, minutes = divmod(self.minutes, 60)
        days, hours = divmod(hours, 24)
        if days:
            return f"{days} j {hours} h"
        return f"{hours} h {minutes:02d}" if hours else f"{minutes} min"


def late_orders(stores, *, head_office, now=None, limit=LATE_SHOWN):
    """(the `limit` orders longest past their promised time, how many orders are late in all):
    orders the stores work on, neither finished nor waiting for an online payment (two queries)."""
    now = now or timezone.now()
    late = reviewable_orders(stores, head_office=head_office).late(now).order_by("promised_at", "id")
    shown = list(late[:limit])
    total = late.count()  # always asked, so the dashboard costs the same however many are late
    rows = [
        LateOrder(order=order, minutes=int((now - order.promised_at).total_seconds() // 60))
        for order in shown
    ]
    return rows, total
