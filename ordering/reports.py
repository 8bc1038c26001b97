"""Sales reports per store and per day, week or month (the managers' « Rapports »).

Plain functions returning dataclasses; every figure is aggregated in SQL, grouped by store, so a
report reads a fixed number of queries whatever the number of orders (never a loop over orders).

What counts (the rules a manager reads in docs/exploitation.md):
- The period: Europe/Paris calendar — a day from Paris midnight to the next, a week from Monday
  (ISO), a month from its first day. An order belongs to the period in which it was placed
  (`Order.created_at`).
- **Orders** and **revenue**: orders neither cancelled nor still waiting for their online
  payment. Cancelled orders are counted apart (« annulations ») and bring no revenue.
- **Refunds**: the money given back on a counted order (a manager's refund) is taken off its
  revenue. A refund that only gave back the difference after a customer lowered their order is
  not taken off again (the order's total already went down): per order, what is taken off is
  the succeeded refunds beyond what was charged over the total.
- **Revenue excl. VAT**: from the stored amounts of each order (lines at their VAT rate, minus
  discounts at theirs, plus the delivery fee at 10 %), never from today's menu. A refund is spread
  over its order's rates in proportion. The VAT of each rate is computed on the period's total
  for that rate, rounded half up to the cent (as a VAT return does), so it may differ by a cent
  or so from the sum of the receipts.
- **Average basket**: revenue incl. VAT (refunds taken off) ÷ orders.
- **Times**: from the order's first « received » event to its first « ready » event, and to its
  « delivered » event (delivery orders). **Late**: a delivery order delivered after its promised
  time, a pickup order ready after its promised time; orders not there yet are not judged.
- **Top products**: units sold by product name (all sizes), and their lines' amount incl. VAT.
"""

import datetime
import zoneinfo
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import (
    Avg,
    Case,
    Count,
    DecimalField,
    DurationField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest, Least, Trunc
from django.db.models.lookups import GreaterThan
from django.utils.translation import gettext_lazy as _

from .models import DELIVERY_VAT_RATE, MONEY, ZERO, Order, OrderDiscount, OrderEvent, OrderLine, Payment
from .pricing import VatLine

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
CENT = Decimal("0.01")
TOP_PRODUCTS = 10

DAY, WEEK, MONTH = "day", "week", "month"
PERIOD_KINDS = [(DAY, _("Jour")), (WEEK, _("Semaine")), (MONTH, _("Mois"))]

Status = Order.Status
NOT_COUNTED = [Status.CANCELLED, Status.PENDING_PAYMENT]
MONEY_FIELD = DecimalField(**MONEY)
SHARE_FIELD = DecimalField(max_digits=30, decimal_places=20)


# Periods ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A day, an ISO week (from Monday) or a calendar month, in Paris time."""

    kind: str
    first_day: datetime.date

    @classmethod
    def containing(cls, kind, day):
        if kind == WEEK:
            return cls(kind, day - datetime.timedelta(days=day.weekday()))
        if kind == MONTH:
            return cls(kind, day.replace(day=1))
        return cls(DAY, day)

    @property
    def end_day(self):
        """The first day after the period."""
        if self.kind == WEEK:
            return self.first_day + datetime.timedelta(days=7)
        if self.kind == MONTH:
            year, month = divmod(self.first_day.month, 12)
            return datetime.date(self.first_day.year + year, month + 1, 1)
        return self.first_day + datetime.timedelta(days=1)

    @property
    def start(self):
        return _paris_midnight(self.first_day)

    @property
    def end(self):
        return _paris_midnight(self.end_day)

    @property
    def last_day(self):
        return self.end_day - datetime.timedelta(days=1)

    def previous(self):
        return Period.containing(self.kind, self.first_day - datetime.timedelta(days=1))

    def next(self):
        return Period.containing(self.kind, self.end_day)

    @property
    def bucket(self):
        """How the period's chart is cut: hours for a day, days otherwise."""
        return "hour" if self.kind == DAY else "day"

    def buckets(self):
        """The start of each bucket (aware, Paris), a day's hours included on DST days."""
        if self.kind != DAY:
            days = (self.end_day - self.first_day).days
            return [_paris_midnight(self.first_day + datetime.timedelta(days=n)) for n in range(days)]
        moments, moment = [], self.start.astimezone(datetime.UTC)
        while moment < self.end:
            moments.append(moment.astimezone(PARIS))
            moment += datetime.timedelta(hours=1)
        return moments

    @property
    def label(self):
        months = [
            _("janvier"), _("février"), _("mars"), _("avril"), _("mai"), _("juin"),
            _("juillet"), _("août"), _("septembre"), _("octobre"), _("novembre"), _("décembre"),
        ]  # fmt: skip
        if self.kind == MONTH:
            return f"{months[self.first_day.month - 1]} {self.first_day.year}"
        if self.kind == WEEK:
            week = self.first_day.isocalendar().week
            return _("semaine %(week)s, du %(first)s au %(last)s") % {
                "week": week,
                "first": self.first_day.strftime("%d/%m/%Y"),
                "last": self.last_day.strftime("%d/%m/%Y"),
            }
        return self.first_day.strftime("%d/%m/%Y")


def _paris_midnight(day):
    return datetime.datetime.combine(day, datetime.time(0, 0), tzinfo=PARIS)


# Results -----------------------------------------------------------------------------------------


@dataclass
class Share:
    orders: int = 0
    revenue: Decimal = ZERO  # incl. VAT, refunds taken off


@dataclass
class ProductFigure:
    name: str
    quantity: int
    amount: Decimal  # the lines' amount incl. VAT, before order discounts


@dataclass
class StoreFigures:
    """One column of the report: one store, or the total of the columns."""

    store_id: int | None
    name: str
    orders: int = 0
    revenue_incl_vat: Decimal = ZERO
    refunds: Decimal = ZERO
    vat: list[VatLine] = field(default_factory=list)
    cancelled: int = 0
    by_source: dict = field(default_factory=dict)  # Order.Source value -> Share
    by_payment: dict = field(default_factory=dict)  # Order.PaymentMethod value -> Share
    top_products: list[ProductFigure] = field(default_factory=list)
    ready_count: int = 0  # orders with a time received -> ready
    ready_seconds: float | None = None  # their average
    delivered_count: int = 0
    delivered_seconds: float | None = None
    late: int = 0
    # What the VAT is computed from: rate -> amount incl. VAT (unrounded, refunds spread).
    amounts_by_rate: dict = field(default_factory=dict, repr=False)

    @property
    def revenue_excl_vat(self):
        return self.revenue_incl_vat - self.vat_total

    @property
    def vat_total(self):
        return sum((line.vat for line in self.vat), ZERO)

    @property
    def average_basket(self):
        if not self.orders:
            return None
        return (self.revenue_incl_vat / self.orders).quantize(CENT, rounding=ROUND_HALF_UP)

    def source_shares(self):
        return _shares(self.by_source, Order.Source.choices, self.orders)

    def payment_shares(self):
        return _shares(self.by_payment, Order.PaymentMethod.choices, self.orders)

    @property
    def ready_minutes(self):
        return _minutes(self.ready_seconds)

    @property
    def delivered_minutes(self):
        return _minutes(self.delivered_seconds)


@dataclass
class ShareRow:
    value: str
    label: str
    orders: int
    revenue: Decimal
    percent: Decimal | None  # of the column's orders


@dataclass
class Bucket:
    start: datetime.datetime  # Paris
    label: str
    orders: int
    revenue: Decimal


@dataclass
class Report:
    period: Period
    columns: list[StoreFigures]  # one per store, by name
    total: StoreFigures | None  # the sum of the columns when there are several
    series: list[Bucket]  # the selected stores together, per hour (a day) or per day

    @property
    def summary(self):
        """The column that sums up the report (the total, or the only store)."""
        return self.total or (self.columns[0] if self.columns else StoreFigures(None, ""))


def _shares(values, choices, orders):
    rows = []
    for value, label in choices:
        share = values.get(value, Share())
        percent = (Decimal(share.orders * 100) / orders).quantize(Decimal("0.1")) if orders else None
        rows.append(ShareRow(value, str(label), share.orders, share.revenue, percent))
    return rows


def _minutes(seconds):
    if seconds is None:
        return None
    return (Decimal(seconds) / 60).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


# Building a report ---------------------------------------------------------------------------------


def sales_report(stores, period):
    """The report of `stores` (a StorePage queryset, already limited to what the user may see) for
    `period`: one column per store (by name), a total column when there are several, and the
    chart.s series. Nine queries (the stores, then eight sums) whatever the number of orders."""
    columns = {store.id: StoreFigures(store.id, store.title) for store in stores.order_by("title", "id")}
    placed = Order.objects.filter(
        store_id__in=list(columns), created_at__gte=period.start, created_at__lt=period.end
    ).order_by()
    counted = placed.exclude(status__in=NOT_COUNTED)
    orders = counted.annotate(taken=_refund_taken(F("total"), OuterRef("pk")))
    kept = ExpressionWrapper(F("total") - F("taken"), output_field=MONEY_FIELD)

    is_counted = ~Q(status__in=NOT_COUNTED)
    totals = (
        placed.annotate(taken=_refund_taken(F("total"), OuterRef("pk")))
        .values("store_id")
        .annotate(
            n=Count("id", filter=is_counted),
            revenue=Sum(kept, filter=is_counted),
            refunds=Sum("taken", filter=is_counted),
            fees=Sum(F("delivery_fee") * _kept_share(F("total"), F("taken")), filter=is_counted),
            cancelled=Count("id", filter=Q(status=Status.CANCELLED)),
        )
    )
    for row in totals:
        column = columns[row["store_id"]]
        column.orders = row["n"]
        column.revenue_incl_vat = _cents(row["revenue"])
        column.refunds = _cents(row["refunds"])
        column.cancelled = row["cancelled"]
        if row["fees"]:
            _add(column.amounts_by_rate, DELIVERY_VAT_RATE, row["fees"])
    for group, attribute in (("source", "by_source"), ("payment_method", "by_payment")):
        for row in orders.values("store_id", group).annotate(n=Count("id"), revenue=Sum(kept)):
            getattr(columns[row["store_id"]], attribute)[row[group]] = Share(row["n"], _cents(row["revenue"]))

    _add_vat(columns, counted)
    _add_top_products(columns, counted)
    _add_times(columns, counted)
    for column in columns.values():
        column.vat = _vat_lines(column.amounts_by_rate)

    ordered = list(columns.values())
    total = _total(ordered) if len(ordered) > 1 else None
    for column in ordered:
        column.top_products = _top(column.top_products)
    return Report(period=period, columns=ordered, total=total, series=_series(orders, kept, period))


def _refund_taken(order_total, order_ref):
    """What a refund took off an order's revenue: its succeeded refunds beyond what was charged
    over its total (a lowered order gives back the difference, already out of its total), at
    most its total. `order_total` and `order_ref` name the order in the outer query."""

    def succeeded(kind):
        sums = Payment.objects.filter(order=order_ref, kind=kind, status=Payment.Status.SUCCEEDED)
        sums = sums.order_by().values("order").annotate(s=Sum("amount")).values("s")
        return Coalesce(Subquery(sums), Value(ZERO), output_field=MONEY_FIELD)

    overpaid = Greatest(succeeded(Payment.Kind.CHARGE) - order_total, Value(ZERO), output_field=MONEY_FIELD)
    gesture = Greatest(succeeded(Payment.Kind.REFUND) - overpaid, Value(ZERO), output_field=MONEY_FIELD)
    return Least(gesture, order_total, output_field=MONEY_FIELD)


def _kept_share(order_total, taken):
    """The share of an order's amounts its revenue keeps after refunds (1 without refund)."""
    return Case(
        When(GreaterThan(taken, ZERO), then=(order_total - taken) / order_total),
        default=Value(Decimal(1)),
        output_field=SHARE_FIELD,
    )


def _add(amounts, rate, amount):
    rate = Decimal(rate).quantize(CENT)
    amounts[rate] = amounts.get(rate, ZERO) + Decimal(amount)


def _add_vat(columns, counted):
    """The amounts incl. VAT per rate of lines (plus) and discounts (minus), refunds spread."""
    share = _kept_share(F("order__total"), F("taken"))
    for model, sign, amount in ((OrderLine, 1, "total"), (OrderDiscount, -1, "amount")):
        rows = (
            model.objects.filter(order__in=counted)
            .annotate(taken=_refund_taken(F("order__total"), OuterRef("order_id")))
            .values("order__store_id", "vat_rate")
            .annotate(net=Sum(F(amount) * share, output_field=SHARE_FIELD))
            .order_by()
        )
        for row in rows:
            _add(columns[row["order__store_id"]].amounts_by_rate, row["vat_rate"], sign * row["net"])


def _vat_lines(amounts_by_rate):
    lines = []
    for rate in sorted(amounts_by_rate):
        total = _cents(amounts_by_rate[rate])
        if total <= 0:
            continue
        vat = (total * rate / (100 + rate)).quantize(CENT, rounding=ROUND_HALF_UP)
        lines.append(VatLine(rate=rate, base=total - vat, vat=vat, total=total))
    return lines


def _add_top_products(columns, counted):
    rows = (
        OrderLine.objects.filter(order__in=counted)
        .values("order__store_id", "product_name")
        .annotate(quantity=Sum("quantity"), amount=Sum("total"))
        .order_by()
    )
    for row in rows:
        columns[row["order__store_id"]].top_products.append(
            ProductFigure(row["product_name"], row["quantity"], row["amount"])
        )


def _top(products):
    return sorted(products, key=lambda p: (-p.quantity, -p.amount, p.name))[:TOP_PRODUCTS]


def _first_event(statuses):
    events = OrderEvent.objects.filter(order=OuterRef("pk"), to_status__in=statuses).order_by(
        "created_at", "id"
    )
    return Subquery(events.values("created_at")[:1])


def _add_times(columns, counted):
    """Average times received → ready and → delivered, and the late orders, per store."""
    timed = counted.annotate(
        received_at=_first_event([Status.RECEIVED]),
        ready_at=_first_event([Status.READY]),
        delivered_at=_first_event([Status.DELIVERED]),
    )
    to_ready = ExpressionWrapper(F("ready_at") - F("received_at"), output_field=DurationField())
    to_delivered = ExpressionWrapper(F("delivered_at") - F("received_at"), output_field=DurationField())
    has_ready = Q(ready_at__isnull=False, received_at__isnull=False)
    has_delivered = Q(delivered_at__isnull=False, received_at__isnull=False)
    late = Q(fulfilment=Order.Fulfilment.DELIVERY, delivered_at__gt=F("promised_at")) | Q(
        fulfilment=Order.Fulfilment.PICKUP, ready_at__gt=F("promised_at")
    )
    rows = timed.values("store_id").annotate(
        ready_count=Count("id", filter=has_ready),
        ready=Avg(to_ready, filter=has_ready),
        delivered_count=Count("id", filter=has_delivered),
        delivered=Avg(to_delivered, filter=has_delivered),
        late=Count("id", filter=late),
    )
    for row in rows:
        column = columns[row["store_id"]]
        column.ready_count, column.delivered_count, column.late = (
            row["ready_count"],
            row["delivered_count"],
            row["late"],
        )
        column.ready_seconds = _seconds(row["ready"])
        column.delivered_seconds = _seconds(row["delivered"])


def _seconds(duration):
    return None if duration is None else duration.total_seconds()


def _total(columns):
    """The column summing `columns` (averages weighted by their counts)."""
    total = StoreFigures(None, str(_("Total")))
    for column in columns:
        total.orders += column.orders
        total.revenue_incl_vat += column.revenue_incl_vat
        total.refunds += column.refunds
        total.cancelled += column.cancelled
        total.late += column.late
        for rate, amount in column.amounts_by_rate.items():
            _add(total.amounts_by_rate, rate, amount)
        for attribute in ("by_source", "by_payment"):
            mine = getattr(total, attribute)
            for value, share in getattr(column, attribute).items():
                summed = mine.setdefault(value, Share())
                summed.orders += share.orders
                summed.revenue += share.revenue
    total.vat = _vat_lines(total.amounts_by_rate)
    # The VAT of the total is computed on the total per rate: its excl. VAT amount then follows.
    total.ready_count, total.ready_seconds = _weighted(columns, "ready_count", "ready_seconds")
    total.delivered_count, total.delivered_seconds = _weighted(
        columns, "delivered_count", "delivered_seconds"
    )
    products = {}
    for column in columns:
        for product in column.top_products:
            summed = products.setdefault(product.name, ProductFigure(product.name, 0, ZERO))
            summed.quantity += product.quantity
            summed.amount += product.amount
    total.top_products = _top(products.values())
    return total


def _weighted(columns, count, seconds):
    n = sum(getattr(column, count) for column in columns)
    if not n:
        return 0, None
    return n, sum(
        getattr(column, count) * getattr(column, seconds) for column in columns if getattr(column, count)
    ) / n


def _series(orders, kept, period):
    """Orders and revenue incl. VAT of the selected stores per hour (a day) or per day."""
    rows = (
        orders.annotate(bucket=Trunc("created_at", period.bucket, tzinfo=PARIS))
        .values("bucket")
        .annotate(n=Count("id"), revenue=Sum(kept))
    )
    found = {row["bucket"].astimezone(PARIS): row for row in rows}
    series = []
    for start in period.buckets():
        row = found.get(start, {"n": 0, "revenue": ZERO})
        label = start.strftime("%Hh") if period.kind == DAY else start.strftime("%d/%m")
        series.append(Bucket(start, label, row["n"], _cents(row["revenue"])))
    return series


def _cents(value):
    return (Decimal(value) if value is not None else ZERO).quantize(CENT, rounding=ROUND_HALF_UP)
