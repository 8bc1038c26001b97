"""Promotion rules evaluated on a priced basket: which discounts apply, and what the customer could add.

Pure functions over `menu.promotions.PromotionRule` and `BasketItem`; no database access. The
pricing module builds the items from its priced lines and turns the discounts into lines of the
quote. Amounts are Decimal euros rounded to the cent (ROUND_HALF_UP).

How rules combine:
- free products first, then percentages, then fixed amounts (each group in the rules' order);
- each discount is taken from what its target lines still cost after the earlier ones, so a
  discount never exceeds its target and the basket never goes below zero;
- a minimum subtotal is compared with the basket before any discount;
- a unit given free by one rule no longer counts for the others (neither as condition nor reward);
- a code rule applies only when its code was typed (trimmed, case-insensitive).
"""

from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from menu.promotions import AMOUNT_OFF, BASKET, FREE_PRODUCT, PERCENT_OFF, normalise_code
from menu.templatetags.menu_tags import euros

CENT = Decimal("0.01")
_KIND_ORDER = {FREE_PRODUCT: 0, PERCENT_OFF: 1, AMOUNT_OFF: 2}

# What the checkout says when `unknown_code` is true.
UNKNOWN_CODE_MESSAGE = gettext_lazy("Code promotionnel inconnu ou expiré.")


@dataclass(frozen=True)
class BasketItem:
    """One priced cart line, as the rules see it (the unit price includes its extras)."""

    product_id: int
    category: str
    size_name: str
    quantity: int
    unit_price: Decimal
    vat_rate: Decimal


@dataclass
class Discount:
    """A discount line of the quote: one per promotion and VAT rate."""

    label: str
    amount: Decimal
    vat_rate: Decimal
    promotion_id: int | None = None


def money(value):
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def apply_rules(rules, items, *, code=""):
    """The discounts `rules` give on `items` when the customer typed `code` ("" if none).

    One `Discount` per rule and VAT rate of what it applies to, amounts rounded to the cent and
    summing exactly to the rule's discount; rules that give nothing are left out.
    """
    items = list(items)
    remaining = [money(item.unit_price * item.quantity) for item in items]
    free_units = [0] * len(items)
    subtotal = sum(remaining, Decimal("0.00"))
    discounts = []
    for rule in _in_application_order(rules):
        if not _code_matches(rule, code) or not _subtotal_reached(rule, subtotal):
            continue
        if rule.kind == FREE_PRODUCT:
            cuts = _free_product_cuts(rule, items, remaining, free_units)
        else:
            cuts = _reduction_cuts(rule, items, remaining, free_units)
        by_rate = defaultdict(lambda: Decimal("0.00"))
        for index, cut in cuts.items():
            remaining[index] -= cut
            by_rate[items[index].vat_rate] += cut
        discounts.extend(
            Discount(label=rule.title, amount=amount, vat_rate=rate, promotion_id=rule.promotion_id)
            for rate, amount in sorted(by_rate.items())
            if amount > 0
        )
    return discounts


def unknown_code(rules, code):
    """Whether the customer typed a code that no current rule carries (checkout says
    « Code promotionnel inconnu ou expiré »)."""
    code = normalise_code(code)
    return bool(code) and all(normalise_code(rule.code) != code for rule in rules)


def offer_hints(rules, lines, *, code=""):
    """French sentences telling the customer what a rule would give them if they added it.

    A free-product rule whose condition is met but whose reward is missing (adding one unit of the
    target would earn one more free unit) gives « Votre dessert est offert : ajoutez-en un. ».
    A typed code whose rule does not apply yet says what it needs.
    """
    items = list(lines)
    subtotal = sum((money(item.unit_price * item.quantity) for item in items), Decimal("0.00"))
    free_units = [0] * len(items)
    hints = []
    for rule in _in_application_order(rules):
        if not _code_matches(rule, code):
            continue
        if rule.kind == FREE_PRODUCT and _subtotal_reached(rule, subtotal):
            now = _free_groups(rule, items, free_units)
            with_one_more = _free_groups(rule, items, free_units, extra_target_unit=True)
            if with_one_more > now:
                hints.append(_free_product_hint(rule))
                continue
        if rule.code and not apply_rules([rule], items, code=code):
            hints.append(_code_condition_hint(rule, subtotal))
    return list(dict.fromkeys(hints))


# Internals


def _in_application_order(rules):
    known = (rule for rule in rules if rule.kind in _KIND_ORDER)
    return sorted(known, key=lambda rule: _KIND_ORDER[rule.kind])


def _code_matches(rule, code):
    return not rule.code or normalise_code(rule.code) == normalise_code(code)


def _subtotal_reached(rule, subtotal):
    return rule.min_subtotal is None or subtotal >= rule.min_subtotal


def _matches_condition(rule, item):
    if rule.condition_category and item.category != rule.condition_category:
        return False
    wanted_size = rule.condition_size.strip().casefold()
    return not wanted_size or item.size_name.strip().casefold() == wanted_size


def _matches_target(rule, item):
    if rule.target_product_id is not None:
        return item.product_id == rule.target_product_id
    if rule.target_category in ("", BASKET):
        return True
    return item.category == rule.target_category


def _condition_met(rule, items, free_units):
    if not rule.min_quantity:
        return True
    units = sum(
        item.quantity - free_units[i] for i, item in enumerate(items) if _matches_condition(rule, item)
    )
    return units >= rule.min_quantity


def _unit_counts(rule, items, free_units):
    """(condition-only units, target-only units, units both condition and target)."""
    condition_only = target_only = both = 0
    for i, item in enumerate(items):
        units = item.quantity - free_units[i]
        condition, target = _matches_condition(rule, item), _matches_target(rule, item)
        if condition and target:
            both += units
        elif condition:
            condition_only += units
        elif target:
            target_only += units
    return condition_only, target_only, both


def _max_groups(min_quantity, condition_only, target_only, both):
    """How many free units: each needs `min_quantity` condition units besides itself."""
    if target_only + both == 0:
        return 0
    if not min_quantity:
        return 1
    groups = min(target_only + both, (condition_only + both) // min_quantity)
    # A unit matching both the condition and the target is either a condition unit or a reward.
    while groups > 0 and groups * min_quantity > condition_only + both - max(0, groups - target_only):
        groups -= 1
    return groups


def _free_groups(rule, items, free_units, *, extra_target_unit=False):
    condition_only, target_only, both = _unit_counts(rule, items, free_units)
    return _max_groups(rule.min_quantity, condition_only, target_only + int(extra_target_unit), both)


def _free_product_cuts(rule, items, remaining, free_units):
    """The cheapest target units made free, one per group of `min_quantity` condition units."""
    condition_only, target_only, both = _unit_counts(rule, items, free_units)
    groups = _max_groups(rule.min_quantity, condition_only, target_only, both)
    # Units matching both may be rewards only as long as enough are left to meet the condition.
    both_as_reward = both - max(0, groups * rule.min_quantity - condition_only)
    targets = sorted(
        (i for i, item in enumerate(items) if _matches_target(rule, item)),
        key=lambda i: (items[i].unit_price, i),
    )
    cuts = {}
    for i in targets:
        if groups == 0:
            break
        available = items[i].quantity - free_units[i]
        if _matches_condition(rule, items[i]):
            available = min(available, both_as_reward)
            both_as_reward -= available
        taken = min(available, groups)
        if taken <= 0:
            continue
        groups -= taken
        free_units[i] += taken
        cut = min(money(items[i].unit_price * taken), remaining[i])
        if cut > 0:
            cuts[i] = cut
    return cuts


def _reduction_cuts(rule, items, remaining, free_units):
    """A percentage or an amount off the target lines, split across VAT rates then lines."""
    if not _condition_met(rule, items, free_units):
        return {}
    targets = [i for i, item in enumerate(items) if _matches_target(rule, item) and remaining[i] > 0]
    base = sum((remaining[i] for i in targets), Decimal("0.00"))
    if base <= 0:
        return {}
    if rule.kind == PERCENT_OFF:
        total = money(base * min(rule.percent or 0, Decimal(100)) / 100)
    else:
        total = money(min(rule.amount or 0, base))
    if total <= 0:
        return {}
    rates = sorted({items[i].vat_rate for i in targets})
    rate_shares = _split(total, [sum(remaining[i] for i in targets if items[i].vat_rate == r) for r in rates])
    cuts = {}
    for rate, share in zip(rates, rate_shares, strict=True):
        lines = [i for i in targets if items[i].vat_rate == rate]
        for i, cut in zip(lines, _split(share, [remaining[i] for i in lines]), strict=True):
            if cut > 0:
                cuts[i] = cut
    return cuts


def _split(total, weights):
    """`total` shared in proportion to `weights`, to the cent, summing exactly to `total`.

    Largest remainder: each share is its exact proportion rounded down, and the cents left go to
    the largest fractional parts (the first ones on a tie). With `total` <= sum(weights), no share
    exceeds its weight.
    """
    cents = int(total / CENT)
    weight_cents = [int(w / CENT) for w in weights]
    whole = sum(weight_cents)
    if whole == 0:
        return [Decimal("0.00")] * len(weights)
    floors = [cents * w // whole for w in weight_cents]
    leftovers = sorted(range(len(weights)), key=lambda i: (-(cents * weight_cents[i] % whole), i))
    for i in leftovers[: cents - sum(floors)]:
        floors[i] += 1
    return [Decimal(c) * CENT for c in floors]


def _free_product_hint(rule):
    if rule.target_product_id is None and rule.target_category == "dessert":
        return _("Votre dessert est offert : ajoutez-en un.")
    if rule.target_product_id is None and rule.target_category == "pizza":
        return _("Votre pizza est offerte : ajoutez-en une.")
    if rule.target_product_id is None and rule.target_category == "drink":
        return _("Votre boisson est offerte : ajoutez-en une.")
    return _("« %(title)s » : un produit vous est offert, ajoutez-le à votre panier.") % {"title": rule.title}


def _code_condition_hint(rule, subtotal):
    code = normalise_code(rule.code)
    if not _subtotal_reached(rule, subtotal):
        return _("Le code %(code)s s'applique à partir de %(amount)s d'achats.") % {
            "code": code,
            "amount": euros(rule.min_subtotal),
        }
    return _("Le code %(code)s ne s'applique pas encore à votre panier.") % {"code": code}
