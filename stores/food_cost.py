"""Expected against actual use of ingredients (theoretical against actual food cost), per store.

Everything is read from the stock ledger (`StockMovement`), never from today's recipes:

- **the window** runs from one inventory count to a later one. A count (`count_inventory`) writes
  one correction per ingredient whose shelf differed from the books, all at the same instant: the
  corrections of a store sharing a `created_at` are one count. For a period picked as dates, the
  opening count is the last one before the first day (else the first one inside the period), the
  closing count the last one before the end of the last day; without two counts there is no
  report (`FoodCostReport.problem` says why). A count that found every ingredient exactly as
  booked writes nothing and so cannot be told apart from no count.
- **opening / closing stock**: on hand just after each count, that is the sum of the ingredient's
  on-hand changes up to it (a level always equals the sum of its movements);
- **deliveries**: the restock movements inside the window;
- **actual use** = opening + deliveries − closing: what left the shelf, whatever the reason;
- **expected use**: what the orders the kitchen started consumed, as their consumption movements
  recorded it (the reservation taken with the recipe of the day the order was placed). When a count
  had found less than was reserved, the kitchen's movement took less off the shelf than the recipe
  asked; expected use still counts the recipe's quantity. A start the kitchen undid (a
  restoration movement, `restore_reservation`) is taken back out: each order counts once;
- **waste**: the waste movements inside the window (a known loss);
- **unexplained gap** = actual − expected − waste (positive: more went than orders and declared
  waste explain), in units and, with a purchase price, in euros rounded to the cent.

It takes a fixed number of queries (at most four) whatever the number of movements: the figures
are summed by the database, one row per ingredient.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Greatest, Least
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from menu.models import Ingredient, cost_of

from .models import StockMovement

Kind = StockMovement.Kind


@dataclass(frozen=True)
class InventoryCount:
    """One inventory count of a store: when, and how many ingredients it corrected."""

    at: datetime.datetime
    corrections: int


@dataclass(frozen=True)
class IngredientUse:
    ingredient_id: int
    name: str
    unit: str
    purchase_price: Decimal | None
    opening: int
    deliveries: int
    closing: int
    expected: int
    waste: int

    @property
    def actual(self):
        return self.opening + self.deliveries - self.closing

    @property
    def gap(self):
        return self.actual - self.expected - self.waste

    @property
    def gap_cost(self):
        return cost_of(self.gap, unit=self.unit, purchase_price=self.purchase_price)

    @property
    def waste_cost(self):
        return cost_of(self.waste, unit=self.unit, purchase_price=self.purchase_price)

    @property
    def price_shown(self):
        """The purchase price with two decimals, or three when it needs them (« 8.40 », « 0.015 »)."""
        if self.purchase_price is None:
            return None
        cents = self.purchase_price.quantize(Decimal("0.01"))
        return cents if cents == self.purchase_price else self.purchase_price

    @property
    def unit_label(self):
        return Ingredient.Unit(self.unit).label

    @property
    def price_label(self):
        return Ingredient.PRICE_LABELS[self.unit]

    @property
    def gap_share(self):
        """The gap as a percentage of expected use (None when nothing was expected)."""
        if not self.expected:
            return None
        return (Decimal(self.gap) * 100 / self.expected).quantize(Decimal("0.1"))


@dataclass
class FoodCostReport:
    date_from: datetime.date
    date_to: datetime.date
    opening_count: InventoryCount | None = None
    closing_count: InventoryCount | None = None
    problem: str = ""
    rows: list[IngredientUse] = field(default_factory=list)

    @property
    def gap_cost(self):
        """The sum of the priced gaps, in euros."""
        return sum((row.gap_cost for row in self.rows if row.gap_cost is not None), Decimal("0.00"))

    @property
    def waste_cost(self):
        return sum((row.waste_cost for row in self.rows if row.waste_cost is not None), Decimal("0.00"))

    @property
    def unpriced(self):
        """Rows with a gap but no purchase price: their gap is missing from the euro total."""
        return [row for row in self.rows if row.purchase_price is None and (row.gap or row.waste)]


def period_bounds(date_from, date_to):
    """The aware instants (Europe/Paris) from the start of `date_from` to the end of `date_to`."""
    start = timezone.make_aware(datetime.datetime.combine(date_from, datetime.time.min))
    end = timezone.make_aware(
        datetime.datetime.combine(date_to + datetime.timedelta(days=1), datetime.time.min)
    )
    return start, end


def food_cost_report(*, store, date_from, date_to):
    """Expected against actual use of every ingredient of `store` between the inventory counts
    that frame the days `date_from` to `date_to` (see the module's docstring).

    Returns a FoodCostReport whose rows come worst first: the largest gap in euros, then in units
    (an ingredient without a price counts as 0 €, between losses and surpluses). When the period
    has no two counts to compare, `problem` says so in French and there are no rows.
    """
    report = FoodCostReport(date_from=date_from, date_to=date_to)
    start, end = period_bounds(date_from, date_to)
    counts = (
        StockMovement.objects.filter(store=store, kind=Kind.CORRECTION)
        .values("created_at")
        .annotate(corrections=Count("id"))
    )
    opening = counts.filter(created_at__lt=start).order_by("-created_at").first()
    if opening is None:
        opening = counts.filter(created_at__gte=start, created_at__lt=end).order_by("created_at").first()
    if opening is None:
        report.problem = _(
            "Aucun inventaire avant le %(end)s dans ce point de vente : les écarts se mesurent entre "
            "deux inventaires. Faites un inventaire au début et à la fin de la période."
        ) % {"end": _day(date_to)}
        return report
    report.opening_count = InventoryCount(opening["created_at"], opening["corrections"])
    closing = (
        counts.filter(created_at__gt=opening["created_at"], created_at__lt=end)
        .order_by("-created_at")
        .first()
    )
    if closing is None:
        report.problem = _(
            "Aucun inventaire entre celui du %(opening)s et la fin du %(end)s : les écarts se mesurent "
            "entre deux inventaires. Faites un inventaire pour clore la période, ou choisissez une "
            "période qui en contient un."
        ) % {"opening": _instant(opening["created_at"]), "end": _day(date_to)}
        return report
    report.closing_count = InventoryCount(closing["created_at"], closing["corrections"])
    report.rows = _uses(store, opening["created_at"], closing["created_at"])
    report.rows.sort(key=lambda row: (row.gap_cost or 0, row.gap), reverse=True)
    return report


def _uses(store, opening_at, closing_at):
    within = Q(created_at__gt=opening_at)
    rows = (
        StockMovement.objects.filter(store=store, created_at__lte=closing_at)
        .values("ingredient_id", "ingredient__name", "ingredient__unit", "ingredient__purchase_price")
        .annotate(
            opening=Sum("on_hand_change", filter=Q(created_at__lte=opening_at), default=0),
            closing=Sum("on_hand_change", default=0),
            deliveries=Sum("on_hand_change", filter=within & Q(kind=Kind.RESTOCK), default=0),
            waste=Sum(-F("on_hand_change"), filter=within & Q(kind=Kind.WASTE), default=0),
            # The recipe's quantity is what the reservation held (−reserved change); movements
            # from before reservations existed only changed on hand. Both are negative.
            consumed=Sum(
                -Least("on_hand_change", "reserved_change"),
                filter=within & Q(kind=Kind.CONSUMPTION),
                default=0,
            ),
            # A start the kitchen undid (`restore_reservation`) gives its consumption back, the
            # same quantities the other way: that order was not made then.
            restored=Sum(
                Greatest("on_hand_change", "reserved_change"),
                filter=within & Q(kind=Kind.RESTORATION),
                default=0,
            ),
        )
        .order_by()
    )
    uses = [
        IngredientUse(
            ingredient_id=row["ingredient_id"],
            name=row["ingredient__name"],
            unit=row["ingredient__unit"],
            purchase_price=row["ingredient__purchase_price"],
            opening=row["opening"],
            deliveries=row["deliveries"],
            closing=row["closing"],
            expected=row["consumed"] - row["restored"],
            waste=row["waste"],
        )
        for row in rows
    ]
    return [use for use in uses if use.opening or use.closing or use.deliveries or use.expected or use.waste]


def _day(date):
    return date.strftime("%d/%m/%Y")


def _instant(moment):
    return timezone.localtime(moment).strftime("%d/%m/%Y %H:%M")
