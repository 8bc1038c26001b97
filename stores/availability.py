"""What a store can make right now, worked out from recipes and its stock levels.

`menu_availability` answers for a whole menu in a bounded number of queries: the products come
with their recipes prefetched (`ProductPage.objects.with_recipes()`), and the store's levels are
read in one query. `check_lines_available` is the cart's check before an order is placed; the
reservation itself (`services.reserve_ingredients`) checks again under row locks.
"""

from dataclasses import dataclass, field

from django.db import connection
from django.utils.translation import gettext_lazy as _

from menu.models import ProductPage
from menu.recipes import UnknownLineError, ingredient_needs, needs_for_lines, with_extras

from .exceptions import StockError
from .models import ProductWithdrawal, StockLevel
from .services import shortage_message, whole_number


@dataclass(frozen=True)
class Availability:
    """How many portions can be made; `portions` is None for a product without a recipe
    (not tracked in stock, always available unless withdrawn)."""

    portions: int | None
    missing: list = field(default_factory=list)  # Ingredient rows lacking for one portion
    withdrawn: bool = False  # the product is taken off sale chain-wide (`is_available` unticked)
    withdrawn_here: bool = False  # this store took it off its own menu (a ProductWithdrawal)

    @property
    def available(self):
        return not (self.withdrawn or self.withdrawn_here) and (self.portions is None or self.portions > 0)

    @property
    def key(self):
        """What `available` and `reason` are made of (menu cards are kept under it, menu.cards)."""
        missing = tuple((ingredient.pk, ingredient.name) for ingredient in self.missing)
        return (self.available, self.withdrawn, self.withdrawn_here, missing)

    @property
    def reason(self):
        if self.withdrawn:
            return _("Retiré de la vente")
        if self.withdrawn_here:
            return _("Indisponible pour le moment dans cette pizzeria")
        if self.missing:
            return _("Plus de %(ingredients)s") % {
                "ingredients": ", ".join(ingredient.name.lower() for ingredient in self.missing)
            }
        return ""


@dataclass
class MenuAvailability:
    """`sizes[size_id]` and `extras[(size_id, extra_id)]` (a size with that one extra)."""

    sizes: dict
    extras: dict

    def product_available(self, product):
        return any(self.sizes[size.id].available for size in product.sizes.all())


STOCK, WITHDRAWAL = 0, 1


def stock_and_withdrawals(store, ingredient_ids=None):
    """({ingredient id: free quantity (on hand − reserved, never below 0)}, {ids of the products
    the store took off its own menu (open withdrawals)}), in one query (a union): a store's menu
    reads both on every drawing, a cart's check on every quote. With `ingredient_ids`, only
    those ingredients' levels.

    Written by hand: the ORM spent longer building this union than the database answering it
    (about 1 ms of a store menu's 6). Only the models' table and column names and placeholders go
    into the text; the values are parameters."""
    levels_table = connection.ops.quote_name(StockLevel._meta.db_table)
    withdrawals_table = connection.ops.quote_name(ProductWithdrawal._meta.db_table)
    params = [store.pk]
    ingredients = ""
    if ingredient_ids is not None:
        ingredient_ids = [int(ingredient_id) for ingredient_id in ingredient_ids]
        if not ingredient_ids:
            ingredients = " AND 1 = 0"  # nothing asked: no level (the withdrawals are still read)
        else:
            ingredients = f" AND ingredient_id IN ({', '.join(['%s'] * len(ingredient_ids))})"
            params += ingredient_ids
    params.append(store.pk)
    sql = (
        f"SELECT {STOCK}, ingredient_id, on_hand, reserved FROM {levels_table}"  # noqa: S608
        f" WHERE store_id = %s{ingredients}"
        f" UNION ALL SELECT {WITHDRAWAL}, product_id, 0, 0 FROM {withdrawals_table}"
        " WHERE store_id = %s AND restored_at IS NULL"
    )
    free, withdrawn = {}, set()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for kind, row_id, on_hand, reserved in cursor.fetchall():
            if kind == STOCK:
                free[row_id] = max(on_hand - reserved, 0)
            else:
                withdrawn.add(row_id)
    return free, withdrawn


def portions(needs, levels, ingredients):
    """Availability of one portion needing `needs` ({ingredient id: quantity}) given the free
    quantities `levels`: the portions on sale now."""
    if not needs:
        return Availability(portions=None)
    count = min(levels.get(ingredient_id, 0) // amount for ingredient_id, amount in needs.items())
    missing = [
        ingredients[ingredient_id]
        for ingredient_id, amount in sorted(needs.items())
        if levels.get(ingredient_id, 0) < amount
    ]
    return Availability(portions=count, missing=sorted(missing, key=lambda i: i.name))


@dataclass(frozen=True)
class MenuNeeds:
    """What each size of a menu's products needs, alone and with each one extra: the part of
    `menu_availability` that stock does not change (kept per content generation on a store's
    menu, stores.menu). `products`: ((product id, on sale, ((size id, needs, ((extra id, needs),
    …)), …)), …); `ingredients`: {ingredient id: Ingredient} of every recipe line and extra."""

    products: tuple
    ingredients: dict


def menu_needs(products):
    """MenuNeeds of `products` (from `ProductPage.objects.with_recipes()`: no query then)."""
    rows, ingredients = [], {}
    for product in products:
        lines = list(product.recipe_lines.all())
        product_extras = list(product.extras.all())
        ingredients.update({line.ingredient_id: line.ingredient for line in lines})
        ingredients.update({extra.ingredient_id: extra.ingredient for extra in product_extras})
        sizes = []
        for size in product.sizes.all():
            needs = ingredient_needs(size, recipe_lines=lines)
            with_each = tuple((extra.id, with_extras(needs, size, [extra])) for extra in product_extras)
            sizes.append((size.id, needs, with_each))
        rows.append((product.id, product.is_available, tuple(sizes)))
    return MenuNeeds(products=tuple(rows), ingredients=ingredients)


def menu_availability(store, products=None, *, needs=None):
    """Which sizes (and sizes with one extra) of `products` the store can make, and how many.

    `products` should come from `ProductPage.objects.with_recipes()` (else the recipes are read
    once per product); by default every live product. Or their `needs` (`menu_needs`), worked
    out before. One query reads the store's levels and its withdrawals.
    """
    if needs is None:
        if products is None:
            products = ProductPage.objects.live().with_recipes()
        needs = menu_needs(products)
    levels, withdrawn_here = stock_and_withdrawals(store)
    ingredients = needs.ingredients
    sizes = {}
    extras = {}
    for product_id, on_sale, product_sizes in needs.products:
        for size_id, size_needs, with_each in product_sizes:
            if not on_sale or product_id in withdrawn_here:
                sizes[size_id] = Availability(
                    portions=0, withdrawn=not on_sale, withdrawn_here=product_id in withdrawn_here
                )
                for extra_id, _needs in with_each:
                    extras[(size_id, extra_id)] = sizes[size_id]
                continue
            sizes[size_id] = portions(size_needs, levels, ingredients)
            for extra_id, extra_needs in with_each:
                extras[(size_id, extra_id)] = portions(extra_needs, levels, ingredients)
    return MenuAvailability(sizes=sizes, extras=extras)


def check_lines_available(store, lines):
    """Raise StockError if the store cannot make all `lines` now (the cart's check).

    `lines` are `(size, quantity, extras)` as for `services.reserve_ingredients`. Reads, never
    writes; a bounded number of queries whatever the number of lines.
    """
    try:
        lines = [(size, whole_number(quantity, minimum=1), extras) for size, quantity, extras in lines]
        needs, resolved = needs_for_lines(lines)
    except UnknownLineError as error:
        raise StockError(str(error)) from None
    withdrawn = [size for size, _quantity, _extras, _one in resolved if not size.product.is_available]
    if withdrawn:
        raise StockError(_("%(product)s n'est plus disponible.") % {"product": withdrawn[0].product.title})
    levels, withdrawn_here = stock_and_withdrawals(store, needs.keys())
    withdrawn = [size for size, _quantity, _extras, _one in resolved if size.product_id in withdrawn_here]
    if withdrawn:
        raise StockError(
            _("%(product)s n'est pas disponible pour le moment dans cette pizzeria.")
            % {"product": withdrawn[0].product.title}
        )
    short = sorted(
        ingredient_id for ingredient_id, amount in needs.items() if levels.get(ingredient_id, 0) < amount
    )
    if short:
        names = {
            line.ingredient_id: line.ingredient.name
            for size, _quantity, _extras, _one in resolved
            for line in size.product.recipe_lines.all()
        }
        names.update({e.ingredient_id: e.ingredient.name for _s, _q, extras, _o in resolved for e in extras})
        raise StockError(shortage_message(names[short[0]], resolved, short[0]))
