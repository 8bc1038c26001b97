"""Prices of a cart, computed on the server from the catalogue: lines, promotions, fee, VAT.

The cart stores ids only (`CartLine`); `quote` reads the sizes, extras, the store's stock and
settings and the promotion rules in a fixed number of queries whatever the number of lines, and
returns a `Quote` the cart, the checkout and `place_order` all use. Ids that do not exist, or an
extra of another product, are refused (`OrderError`: a stale or tampered cart); a line the store
cannot make now is priced but flagged (`available=False`, `problem`).
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from menu.catalogue import keeps, kept
from menu.models import ProductExtra, ProductSize, RecipeLine
from menu.promotions import current_rules
from menu.recipes import ingredient_needs, sizes_with_recipes
from menu.templatetags.menu_tags import euros
from stores.areas import delivers_somewhere, fee_for_basket
from stores.availability import stock_and_withdrawals
from stores.hours import ordering_settings

from .exceptions import OrderError
from .models import DELIVERY_VAT_RATE
from .promotions import UNKNOWN_CODE_MESSAGE, BasketItem, Discount, apply_rules, offer_hints, unknown_code

__all__ = [
    "MAX_QUANTITY",
    "CartLine",
    "Discount",
    "OrderError",
    "PricedLine",
    "Quote",
    "VatLine",
    "quote",
    "vat_lines",
]

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_QUANTITY = 50  # units of one line: more is a phone call to the store
MAX_LINES = 100
DELIVERY = "delivery"
PICKUP = "pickup"


@dataclass(frozen=True)
class CartLine:
    """What the cart stores: ids only, never prices."""

    size_id: int
    quantity: int
    extra_ids: tuple[int, ...] = ()  # ProductExtra ids (add or remove), sorted, unique


@dataclass
class PricedLine:
    line: CartLine
    product: object  # ProductPage
    size: object  # ProductSize
    extras: list  # [ProductExtra]
    quantity: int
    unit_price: Decimal  # size price + extras, VAT included
    vat_rate: Decimal
    total: Decimal
    category: str
    available: bool = True
    problem: str = ""  # French reason, "" if fine


@dataclass
class VatLine:
    rate: Decimal
    base: Decimal  # HT
    vat: Decimal
    total: Decimal  # TTC


@dataclass
class Quote:
    store: object
    lines: list[PricedLine]
    discounts: list[Discount]
    subtotal: Decimal
    discount_total: Decimal
    delivery_fee: Decimal
    total: Decimal
    vat: list[VatLine]
    problems: list[str] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)
    minimum_order: Decimal | None = None
    code_error: str = ""
    fulfilment: str = PICKUP
    code: str = ""
    delivery: object = None  # the address's stores.areas.DeliveryQuote, None when not known

    @property
    def fee_estimated(self):
        """Whether the delivery fee is the store's estimate (no address known yet)."""
        return self.fulfilment == DELIVERY and self.delivery is None

    @property
    def orderable(self):
        """Whether an order can be placed from this quote (no problem, at least one line)."""
        return bool(self.lines) and not self.problems


def quote(store, lines, *, fulfilment=PICKUP, code="", now=None, delivery=None, request=None):
    """Price `lines` (CartLines) at `store` for `fulfilment` ("pickup" or "delivery").

    `delivery` is the address's `stores.areas.DeliveryQuote` (`ordering.addresses.locate_address`
    gives it): its band's fee and minimum apply, free delivery from the store's amount included
    (`fee_for_basket`). Without it (no address known yet) the store's own fee and minimum are an
    estimate; `place_order` always prices with the address's.

    With the `request` of a view marked `menu.catalogue.reads_catalogue`, the sizes and extras
    (prices, products, recipes) are those of the whole menu, read once per content generation: a
    published price, recipe or product is a new generation, read by the next quote. So are the
    promotions, whose periods are checked against `now` on each quote (`menu.promotions`).

    Raises OrderError for an unknown size or extra, an extra of another product, or a quantity
    that is not a whole number between 1 and MAX_QUANTITY. Everything else that stops an order
    (a line the store cannot make, below the delivery minimum, a store that takes no order or
    does not deliver) is listed in `problems`, in French.
    """
    now = now or timezone.now()
    if fulfilment not in (DELIVERY, PICKUP):
        raise OrderError(_("Choisissez la livraison ou le retrait sur place."))
    lines = [_clean_line(line) for line in lines]
    if len(lines) > MAX_LINES:
        raise OrderError(_("Votre panier contient trop de lignes."))
    code = (code or "").strip()
    settings = ordering_settings(store)
    priced = _price_lines(store, lines, request)
    subtotal = sum((line.total for line in priced), ZERO)

    rules = current_rules(now, request=request)  # kept per generation with a checkout's request
    items = [
        BasketItem(
            product_id=line.product.id,
            category=line.category,
            size_name=line.size.name,
            quantity=line.quantity,
            unit_price=line.unit_price,
            vat_rate=line.vat_rate,
        )
        for line in priced
    ]
    discounts = apply_rules(rules, items, code=code) if items else []
    discount_total = min(sum((d.amount for d in discounts), ZERO), subtotal)
    code_error = str(UNKNOWN_CODE_MESSAGE) if code and unknown_code(rules, code) else ""
    hints = list(offer_hints(rules, items, code=code)) if items else []

    problems = []
    if not priced:
        problems.append(_("Votre panier est vide."))
    if not settings.accepts_orders:
        problems.append(_("Cette pizzeria ne prend pas de commande en ligne pour le moment."))
    problems += [line.problem for line in priced if not line.available]
    minimum_order = None
    delivery_fee = ZERO
    if fulfilment == DELIVERY:
        minimum_order = settings.minimum_order if delivery is None else delivery.minimum
        if not delivers_somewhere(store):
            problems.append(_("Cette pizzeria ne livre pas : choisissez le retrait sur place."))
        elif delivery is not None and not delivery.covered:
            problems.append(_("Cette pizzeria ne livre pas cette adresse."))
        if priced and minimum_order and subtotal < minimum_order:
            problems.append(
                _("Le minimum de commande en livraison est de %(minimum)s (il manque %(missing)s).")
                % {"minimum": euros(minimum_order), "missing": euros(minimum_order - subtotal)}
            )
        if priced:
            basket = subtotal - discount_total
            fee = (
                settings.delivery_fee_for(basket)
                if delivery is None or not delivery.covered
                else fee_for_basket(store, delivery, basket)
            )
            delivery_fee = _money(fee or ZERO)
    total = subtotal - discount_total + delivery_fee

    amounts = [(line.vat_rate, line.total) for line in priced]
    amounts += [(discount.vat_rate, -discount.amount) for discount in discounts]
    if delivery_fee:
        amounts.append((DELIVERY_VAT_RATE, delivery_fee))
    return Quote(
        store=store,
        lines=priced,
        discounts=discounts,
        subtotal=subtotal,
        discount_total=discount_total,
        delivery_fee=delivery_fee,
        total=total,
        vat=vat_lines(amounts),
        problems=problems,
        hints=hints,
        minimum_order=minimum_order,
        code_error=code_error,
        fulfilment=fulfilment,
        code=code,
        delivery=delivery if fulfilment == DELIVERY else None,
    )


def vat_lines(amounts):
    """VAT per rate from `amounts` [(rate, amount VAT included)], by increasing rate.

    The VAT of each rate is computed on its total (never summed from rounded lines), rounded half
    up to the cent; base = total − VAT. Rates whose total is 0 are left out.
    """
    totals = defaultdict(lambda: ZERO)
    for rate, amount in amounts:
        totals[Decimal(rate)] += amount
    result = []
    for rate in sorted(totals):
        total = totals[rate]
        if total <= 0:
            continue
        vat = (total * rate / (100 + rate)).quantize(CENT, rounding=ROUND_HALF_UP)
        result.append(VatLine(rate=rate, base=total - vat, vat=vat, total=total))
    return result


# Internals ------------------------------------------------------------------------------------


def _money(amount):
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def _int_id(value):
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise OrderError(_("Votre panier n'est pas valable : rechargez la page."))
    return value


def _clean_line(line):
    if not isinstance(line, CartLine):
        raise OrderError(_("Votre panier n'est pas valable : rechargez la page."))
    quantity = line.quantity
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
        raise OrderError(
            _("La quantité doit être un nombre entier entre 1 et %(maximum)s.") % {"maximum": MAX_QUANTITY}
        )
    extra_ids = tuple(sorted({_int_id(extra_id) for extra_id in line.extra_ids}))
    return CartLine(size_id=_int_id(line.size_id), quantity=quantity, extra_ids=extra_ids)


def _read_sizes(size_ids=None):
    """{id: ProductSize} with its product and the product's recipe (every size: None, for the
    catalogue kept per generation, whose products pages draw in full)."""
    if size_ids is not None:
        return sizes_with_recipes(size_ids)
    sizes = ProductSize.objects.select_related("product").prefetch_related(
        Prefetch("product__recipe_lines", queryset=RecipeLine.objects.select_related("ingredient"))
    )
    return {size.id: size for size in sizes}


def _read_extras(extra_ids=None):
    """{id: ProductExtra} with its ingredient (every extra: None)."""
    extras = ProductExtra.objects.select_related("ingredient")
    return {extra.id: extra for extra in (extras if extra_ids is None else extras.filter(id__in=extra_ids))}


def _price_lines(store, lines, request=None):
    """PricedLines in a fixed number of queries: sizes with products and recipes, extras, the
    store's free stock and withdrawals. The sizes and extras are the menu's, kept per content
    generation, when `request` keeps values (`menu.catalogue`); shared: nothing may change them."""
    if not lines:
        return []
    extra_ids = {extra_id for line in lines for extra_id in line.extra_ids}
    if keeps(request):
        sizes, extras = kept(request, ("sizes and extras",), lambda: (_read_sizes(), _read_extras()))
    else:
        sizes = _read_sizes({line.size_id for line in lines})
        extras = _read_extras(extra_ids) if extra_ids else {}
    priced = []
    for line in lines:
        size = sizes.get(line.size_id)
        if size is None:
            raise OrderError(_("Un produit de votre panier n'est plus à la carte : retirez-le."))
        chosen = [extras.get(extra_id) for extra_id in line.extra_ids]
        if any(extra is None or extra.product_id != size.product_id for extra in chosen):
            raise OrderError(
                _("Cette option n'existe pas pour %(product)s.") % {"product": size.product.title}
            )
        product = size.product
        unit_price = _money(size.price + sum((extra.price for extra in chosen), ZERO))
        priced.append(
            PricedLine(
                line=line,
                product=product,
                size=size,
                extras=chosen,
                quantity=line.quantity,
                unit_price=unit_price,
                vat_rate=product.vat_rate,
                total=unit_price * line.quantity,
                category=product.category,
            )
        )
    _check_availability(store, priced)
    return priced


def _check_availability(store, priced):
    """Flag the lines the store cannot make now, lines taken in order from the same free stock."""
    needs = {}
    for line in priced:
        needs[id(line)] = ingredient_needs(line.size, line.extras)
    wanted = {ingredient_id for one in needs.values() for ingredient_id in one}
    # The free stock of what the lines need and the store's withdrawals, in one query.
    levels, withdrawn_here = stock_and_withdrawals(store, wanted)
    free = Counter(levels)
    names = {}
    for line in priced:
        names.update({r.ingredient_id: r.ingredient.name for r in line.product.recipe_lines.all()})
        names.update({e.ingredient_id: e.ingredient.name for e in line.extras})
    for line in priced:
        product = line.product
        if not product.live or not product.is_available:
            line.available = False
            line.problem = _("%(product)s n'est plus disponible.") % {"product": product.title}
            continue
        if product.id in withdrawn_here:
            line.available = False
            line.problem = _("%(product)s n'est pas disponible pour le moment dans cette pizzeria.") % {
                "product": product.title
            }
            continue
        one = needs[id(line)]
        if not one:
            continue
        possible = min(free[ingredient_id] // amount for ingredient_id, amount in one.items())
        if possible >= line.quantity:
            for ingredient_id, amount in one.items():
                free[ingredient_id] -= amount * line.quantity
            continue
        line.available = False
        if possible > 0:
            line.problem = _("%(product)s (%(size)s) : il n'en reste que %(count)s.") % {
                "product": product.title,
                "size": line.size.name,
                "count": possible,
            }
        else:
            short = sorted(i for i, amount in one.items() if free[i] < amount)
            line.problem = _("Plus assez de %(ingredient)s pour %(product)s (%(size)s).") % {
                "ingredient": names.get(short[0], "").lower(),
                "product": product.title,
                "size": line.size.name,
            }
