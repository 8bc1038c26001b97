"""Promotion rules as the checkout sees them, and the hook through which promotions plug in.

`menu` is the lowest layer: it knows nothing of where promotions are edited (`home`) nor of the
checkout (`ordering`). The home app registers a rule source at start-up (`HomeConfig.ready`);
ordering asks `current_rules()` and evaluates them with `ordering.promotions.apply_rules`.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

FREE_PRODUCT = "free_product"
PERCENT_OFF = "percent_off"
AMOUNT_OFF = "amount_off"
KINDS = (FREE_PRODUCT, PERCENT_OFF, AMOUNT_OFF)

BASKET = "basket"  # target_category meaning "the whole basket"


def normalise_code(code):
    """A promotion code as stored and compared: trimmed, upper-case ("" when none)."""
    return (code or "").strip().upper()


@dataclass(frozen=True)
class PromotionRule:
    """One promotion's rule.

    Condition: the basket holds at least `min_quantity` units of products matching
    `condition_category` ("" any) and `condition_size` ("" any size name, case-insensitive), and
    its subtotal before discounts reaches `min_subtotal` (None: no minimum).
    Target: "basket" (or ""), a category ("pizza", "drink", "dessert"), or a product id.
    """

    promotion_id: int
    title: str  # the discount line's label
    kind: str  # "free_product" | "percent_off" | "amount_off"
    code: str = ""  # "" = applied automatically; else only when the customer typed it (case-insensitive)
    min_quantity: int = 0
    condition_category: str = ""
    condition_size: str = ""
    min_subtotal: Decimal | None = None
    target_category: str = ""
    target_product_id: int | None = None
    percent: Decimal | None = None  # percent_off
    amount: Decimal | None = None  # amount_off (euros)


_sources = []
_with_request = set()  # the sources that take the request too


def register_rule_source(fn, *, with_request=False):
    """Plug in `fn(now) -> iterable of PromotionRule` (registering the same function twice is a
    no-op). `with_request`: it is called `fn(now, request)`, with the request of the view asking
    (or None), to keep what it reads per content generation (`menu.catalogue.kept`)."""
    if fn not in _sources:
        _sources.append(fn)
    if with_request:
        _with_request.add(fn)
    return fn


def current_rules(now=None, request=None):
    """Every registered source's rules valid at `now`, in the sources' order. `request`: the view's
    (a quote of the checkout), for the sources that keep their reads per content generation."""
    now = now or timezone.now()
    rules = []
    for source in _sources:
        rules.extend(source(now, request) if source in _with_request else source(now))
    return rules
