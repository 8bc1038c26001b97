"""Every write to the stock: each service updates the levels and appends the movements together
(but a new order's reservation, which its caller may write with the order: `UnwrittenChange`).

A level has two quantities: *on hand* (on the shelf) and *reserved* (held by open orders the
kitchen has not started); what can be sold is on hand − reserved. Reservations, releases and
consumptions follow an order (`order_reference`); deliveries, waste and counts change on hand only.

All services run in one transaction (a savepoint inside the caller's transaction), lock the levels
they change with `select_for_update()` in ingredient id order (a fixed order, so two writers never
deadlock), and refuse bad input with a `StockError` whose message is shown as is; on refusal
nothing is written. A level whose free quantity goes down to its alert threshold raises one
`StockAlert` and, after commit, one e-mail to the store's managers; it rearms when the free
quantity goes back above.
"""

import dataclasses
import itertools
import re
import string
from collections import Counter
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, connection, connections, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from menu import rows
from menu.models import Ingredient
from menu.outbox import enqueue_with_commit
from menu.recipes import UnknownLineError, needs_for_lines

from .exceptions import StockError
from .hours import name_letters, prefix_from_name
from .models import (
    MAX_LEVEL,
    MAX_LINE_QUANTITY,
    ProductWithdrawal,
    StockAlert,
    StockLevel,
    StockMovement,
    StoreOrderingSettings,
    StorePage,
)
from .signals import stock_changed
from .tasks import send_low_stock_alert

Kind = StockMovement.Kind
ORDER_KINDS = [Kind.RESERVATION, Kind.RELEASE, Kind.CONSUMPTION, Kind.RESTORATION]
CONSUMPTION_KINDS = [Kind.CONSUMPTION, Kind.RESTORATION]
ORDER_REFERENCE_LENGTH = StockMovement._meta.get_field("order_reference").max_length
NOTE_LENGTH = StockMovement._meta.get_field("note").max_length


@transaction.atomic
def restock(*, store, lines, user, supplier="", now=None):
    """Record a delivery: `lines` are `(ingredient, quantity)` with positive quantities.

    Raises on hand. Returns the movements written. Raises StockError on an empty delivery, an
    unknown ingredient, a quantity that is not a positive whole number of at most
    MAX_LINE_QUANTITY, or a level that would pass MAX_LEVEL.
    """
    changes = _positive_lines(lines, empty=_("Une livraison doit contenir au moins un ingrédient."))
    return _apply(
        store=store,
        changes={ingredient.id: (quantity, 0) for ingredient, quantity in changes.items()},
        kind=Kind.RESTOCK,
        user=user,
        note=supplier,
        now=now,
    )


@transaction.atomic
def record_waste(*, store, lines, user, reason="", now=None):
    """Record thrown-away stock: `lines` are `(ingredient, quantity)` with positive quantities.

    Lowers on hand (never below 0). Food held by orders can be thrown away too: the level then
    shows a shortage (reserved above on hand) for the manager to act on.
    """
    changes = _positive_lines(lines, empty=_("Indiquez au moins un ingrédient perdu."))
    return _apply(
        store=store,
        changes={ingredient.id: (-quantity, 0) for ingredient, quantity in changes.items()},
        kind=Kind.WASTE,
        user=user,
        note=reason,
        now=now,
    )


@transaction.atomic
def count_inventory(*, store, counts, user, counted_after=None, now=None):
    """Record what is on the shelf: `counts` are `(ingredient, counted quantity >= 0)`.

    Sets on hand to the count and keeps every reservation (the food of open orders is still on the
    shelf, so it was counted). Each difference with the current on hand is written as a
    correction; an ingredient whose count matches writes nothing. Returns the corrections written.

    `counted_after` is the id of the store's last movement when the count began (the inventory
    form carries it): on-hand changes recorded since — the kitchen using stock, a delivery put
    away while the manager counted — are applied on top of the count instead of being erased by
    it. Corrections are left out of that: a count posted twice, or by two managers at once, then
    gives the shelf figure once (the second post finds nothing to change).
    """
    counted = {}
    for ingredient, quantity in counts:
        ingredient = _ingredient(ingredient)
        if ingredient in counted:
            raise StockError(_("%(ingredient)s est compté deux fois.") % {"ingredient": ingredient.name})
        counted[ingredient] = whole_number(quantity, ingredient=ingredient, minimum=0)
    if not counted:
        raise StockError(_("Saisissez au moins une quantité comptée."))
    levels = _locked_levels(store, sorted(i.id for i in counted), create=True)
    since = {}
    if counted_after is not None:
        counted_after = parse_id(counted_after)
        if counted_after is None:
            raise StockError(_("Ce formulaire d'inventaire n'est pas valide : rechargez la page."))
        since = dict(
            StockMovement.objects.filter(store=store, ingredient__in=counted, id__gt=counted_after)
            .exclude(kind=Kind.CORRECTION)
            .values("ingredient_id")
            .annotate(total=Sum("on_hand_change"))
            .values_list("ingredient_id", "total")
        )
    changes = {}
    for ingredient, quantity in counted.items():
        target = min(max(quantity + (since.get(ingredient.id) or 0), 0), MAX_LEVEL)
        changes[ingredient.id] = (target - levels[ingredient.id].on_hand, 0)
    return _apply(store=store, changes=changes, kind=Kind.CORRECTION, user=user, now=now)


@transaction.atomic
def set_alert_threshold(*, store, ingredient, threshold, user=None, now=None):
    """Set the free quantity at or below which the store's managers are alerted.

    Creates an empty level if none; records who set it and when. Raising the threshold above the
    free quantity raises no alert (only a decrease crosses it); lowering it below rearms it.
    """
    now = now or timezone.now()
    ingredient = _ingredient(ingredient)
    threshold = whole_number(threshold, ingredient=ingredient, minimum=0)
    level = _locked_levels(store, [ingredient.id], create=True)[ingredient.id]
    level.alert_threshold = threshold
    level.threshold_set_by = _user(user)
    level.threshold_set_at = now
    if level.below_threshold and level.free > threshold:
        level.below_threshold = False
        _resolve_alerts(level, now)
    level.save(
        update_fields=[
            "alert_threshold",
            "threshold_set_by",
            "threshold_set_at",
            "below_threshold",
            "updated_at",
        ]
    )
    return level


def announce_stock_change(store):
    """What the store can sell is about to change in the current transaction: say so, for after the
    commit only (`stores.signals.stock_changed` with `after_commit_only`: its receiver stops
    serving the store's pages once the transaction commits). Placing an order calls it, then
    reserves with `announced=True`.

    Not at once as well, as other changes of the stock are announced: the page cache keys each
    stored page by the stock token read before the page read the stock, so a page drawn before the
    commit is keyed by a token the write after the commit replaces. Between the commit and that
    write (a moment), a page stored earlier may still be served, as it may be with a write before
    the commit too (stored under that token). Under load a round trip to Redis is one of the
    longest waits of an order (docs/performance.md)."""
    stock_changed.send(sender=StockLevel, store_id=store.pk, after_commit_only=True)


def reserve_ingredients(
    *, store, lines, order_reference, user=None, now=None, new_order=False, announced=False, unwritten=False
):
    """Hold the ingredients of order `lines` at the store, all or nothing (placing an order).

    `lines` are `(size, quantity, extras)`: a ProductSize, a number of portions and the chosen
    ProductExtra rows; `order_reference` (required, at most 40 characters) names the order that
    will release or consume them. Raises reserved; refuses when on hand − reserved is short. Runs inside the
    caller's transaction (as a savepoint) with row locks, so concurrent reservations for the last
    portions cannot both succeed. An order (`order_reference`) holds one reservation at a time: to
    change its lines, release them first. Raises StockError naming the first missing ingredient
    and the line that needs it, or for a quantity, size or option that does not exist.

    `new_order`: the caller's transaction is placing the order (it then fails as a whole on a
    refusal); the order is written in it before or, with `unwritten`, after this call. Such an
    order holds nothing yet, so what it holds is not read, and no savepoint is made: both cost a
    round trip each while the store's placing lock is held (docs/performance.md).

    `announced`: the caller sent `announce_stock_change` in this transaction: not sent again.

    `unwritten` (with `new_order`): the levels are locked and the reservation checked, but its
    movements and the levels' UPDATE are handed back (`UnwrittenChange`) for the caller to write
    in a statement of its own, next: placing an order writes them with the order
    (`menu.rows.insert_with_children`), one round trip fewer under the placing lock.
    """
    if unwritten and not new_order:
        raise ValueError("reserve_ingredients(unwritten=True) is for a new order only")
    with transaction.atomic(savepoint=not new_order):
        order_reference = _order_reference(
            order_reference, missing=_("Indiquez la référence de la commande.")
        )
        lines = [(size, whole_number(quantity, minimum=1), extras) for size, quantity, extras in lines]
        needs, resolved = _needs_for_lines(lines)
        if not needs:
            return UnwrittenChange([], None) if unwritten else []
        # Locked first: one reservation of an order at a time.
        levels = _locked_levels(store, sorted(needs), create=False)
        if not new_order and _held_for_order(store, order_reference):
            raise StockError(
                _("Les ingrédients de la commande %(reference)s sont déjà réservés.")
                % {"reference": order_reference}
            )
        return _apply(
            store=store,
            changes={ingredient_id: (0, amount) for ingredient_id, amount in needs.items()},
            kind=Kind.RESERVATION,
            user=user,
            order_reference=order_reference,
            now=now,
            resolved=resolved,
            levels=levels,
            announced=announced,
            unwritten=unwritten,
        )


@dataclasses.dataclass(frozen=True)
class UnwrittenChange:
    """A stock change checked under the locks of its levels but not yet written: its `movements`
    (new StockMovement instances) and `update`, the UPDATE of its levels as `menu.rows.insert`
    takes it (None: nothing left to write). The caller writes both before anything else reads
    those levels in its transaction."""

    movements: list
    update: tuple | None


@transaction.atomic
def release_ingredients(*, store, order_reference, user=None, now=None):
    """Give back what the order `order_reference` still holds at `store` (cancel or change before
    the kitchen starts): lowers reserved, on hand is untouched.

    What comes back is what the reservation took, read from the order's own movements: a recipe
    edited since changes nothing, releasing twice gives nothing the second time, and an order whose
    ingredients were consumed gives nothing back (the food is gone and already counted as used).
    """
    order_reference = _order_reference(
        order_reference, missing=_("Indiquez la référence de la commande à annuler.")
    )
    held = _held_locked(store, order_reference)
    return _apply(
        store=store,
        changes={ingredient_id: (0, -amount) for ingredient_id, amount in held.items()},
        kind=Kind.RELEASE,
        user=user,
        order_reference=order_reference,
        now=now,
    )


@transaction.atomic
def consume_reservation(*, store, order_reference, user=None, now=None):
    """The kitchen starts the order `order_reference`: what it holds moves from reserved to used.

    On hand and reserved both go down by the order's share; calling it again consumes nothing.
    If a count found less on the shelf than was reserved, on hand goes down to 0 at most (the
    kitchen can use only what is there) while the whole reservation is lifted.
    """
    order_reference = _order_reference(
        order_reference, missing=_("Indiquez la référence de la commande à préparer.")
    )
    held = _held_locked(store, order_reference)
    levels = _locked_levels(store, sorted(held), create=False) if held else {}
    return _apply(
        store=store,
        changes={
            ingredient_id: (-min(amount, levels[ingredient_id].on_hand), -amount)
            for ingredient_id, amount in held.items()
        },
        kind=Kind.CONSUMPTION,
        user=user,
        order_reference=order_reference,
        now=now,
    )


@transaction.atomic
def restore_reservation(*, store, order_reference, user=None, note="", now=None):
    """Undo `consume_reservation` of the order `order_reference` (the kitchen started it by mistake):
    what its consumptions took comes back exactly, on hand and reserved alike, and the order holds
    its reservation again (a later `consume_reservation` or `release_ingredients` sees it).

    The amounts are read from the order's own movements (its consumptions minus what was already
    restored), never from the recipe: a recipe edited since changes nothing, restoring twice gives
    nothing the second time. No check of what is free: the reservation was the order's before the
    mis-tap and the food never left the shelf, so putting it back is always true to the shelf.
    """
    order_reference = _order_reference(
        order_reference, missing=_("Indiquez la référence de la commande à remettre en attente.")
    )
    consumed = _consumed_locked(store, order_reference)
    return _apply(
        store=store,
        changes={
            ingredient_id: (-on_hand, -reserved) for ingredient_id, (on_hand, reserved) in consumed.items()
        },
        kind=Kind.RESTORATION,
        user=user,
        note=note,
        order_reference=order_reference,
        now=now,
        check_free=False,
    )


@transaction.atomic
def withdraw_product(*, store, product, user, reason="", now=None):
    """Take `product` off `store`'s menu until `restore_product` (the stock is not touched).

    Withdrawing a product already withdrawn updates the reason of the open withdrawal.
    """
    withdrawal = (
        ProductWithdrawal.objects.select_for_update().active().filter(store=store, product=product).first()
    )
    reason = reason.strip()[:120]
    if withdrawal is None:
        return ProductWithdrawal.objects.create(
            store=store, product=product, reason=reason, user=_user(user), created_at=now or timezone.now()
        )
    withdrawal.reason = reason
    withdrawal.save(update_fields=["reason"])
    return withdrawal


@transaction.atomic
def restore_product(*, store, product, user, now=None):
    """Put `product` back on `store`'s menu, recording who and when (what it can make still depends
    on its stock). Returns the withdrawal closed, or None if the product was not withdrawn."""
    withdrawal = (
        ProductWithdrawal.objects.select_for_update().active().filter(store=store, product=product).first()
    )
    if withdrawal is None:
        return None
    withdrawal.restored_at = now or timezone.now()
    withdrawal.restored_by = _user(user)
    withdrawal.save(update_fields=["restored_at", "restored_by"])
    return withdrawal


def shortage_message(ingredient_name, resolved, ingredient_id):
    """« Plus assez de mozzarella pour Regina (Grande). » for the first line using the ingredient."""
    for size, _quantity, _extras, one in resolved:
        if ingredient_id in one:
            return _("Plus assez de %(ingredient)s pour %(product)s (%(size)s).") % {
                "ingredient": ingredient_name.lower(),
                "product": size.product.title,
                "size": size.name,
            }
    return _("Plus assez de %(ingredient)s.") % {"ingredient": ingredient_name.lower()}


# Internals ------------------------------------------------------------------------------------


def _needs_for_lines(lines):
    try:
        return needs_for_lines(lines)
    except UnknownLineError as error:
        raise StockError(str(error)) from None


def _held_for_order(store, order_reference):
    """{ingredient id: quantity} that the order reserved and has neither released nor consumed.

    Hand-written: every order placed asks it (to refuse a second reservation), and the ORM took
    0.9 ms to build what PostgreSQL answers in 0.3 (docs/performance.md).
    """
    table, ingredient, reserved, store_, reference, kind = rows.names(
        StockMovement, "ingredient", "reserved_change", "store", "order_reference", "kind"
    )
    kinds = ", ".join(["%s"] * len(ORDER_KINDS))
    # Names from the model's options, quoted; every value is a parameter.
    sql = (
        f"SELECT {ingredient}, SUM({reserved}) FROM {table} "  # noqa: S608
        f"WHERE {store_} = %s AND {reference} = %s AND {kind} IN ({kinds}) GROUP BY {ingredient}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [store.pk, order_reference, *(str(kind) for kind in ORDER_KINDS)])
        return {ingredient_id: total for ingredient_id, total in cursor.fetchall() if total > 0}


def _consumed(store, order_reference):
    """{ingredient id: (on hand change, reserved change)} of the order's consumptions not restored
    yet (both ≤ 0, one of them < 0)."""
    totals = (
        StockMovement.objects.filter(store=store, order_reference=order_reference, kind__in=CONSUMPTION_KINDS)
        .values("ingredient_id")
        .annotate(on_hand=Sum("on_hand_change"), reserved=Sum("reserved_change"))
    )
    return {
        row["ingredient_id"]: (row["on_hand"], row["reserved"])
        for row in totals
        if row["on_hand"] < 0 or row["reserved"] < 0
    }


def _consumed_locked(store, order_reference):
    """What the order consumed, read again under the locks of its levels."""
    ingredient_ids = sorted(_consumed(store, order_reference))
    if not ingredient_ids:
        return {}
    _locked_levels(store, ingredient_ids, create=False)
    return _consumed(store, order_reference)


def _held_locked(store, order_reference):
    """What the order holds, read again under the locks of its levels (a concurrent writer won)."""
    ingredient_ids = sorted(_held_for_order(store, order_reference))
    if not ingredient_ids:
        return {}
    _locked_levels(store, ingredient_ids, create=False)
    return _held_for_order(store, order_reference)


LEVEL_COLUMNS = ("on_hand", "reserved", "below_threshold", "updated_at")
INSERTED_AT_ONCE = 50  # movements written by one hand-written INSERT; more go through bulk_create


def _levels_update(levels):
    """The UPDATE writing the changed columns of `levels` (rows this transaction locked) at once,
    as `menu.rows.insert(…, update=)` takes it: ([the new values' expression], statement, params).

    Hand-written: `bulk_update` writes each column as a CASE over the ids, whose compilation cost
    2.6 ms for an order's 5 levels against 0.35 ms for this statement (PostgreSQL, 300 runs each).
    `UPDATE … FROM` a common table expression is understood by PostgreSQL and by SQLite ≥ 3.33.
    """
    if any(level.pk is None for level in levels):
        raise ValueError("_levels_update: every level must have been saved (locked) first")
    fields = [StockLevel._meta.get_field(name) for name in LEVEL_COLUMNS]
    qn = connection.ops.quote_name
    table = qn(StockLevel._meta.db_table)
    columns = ", ".join(qn(field.column) for field in fields)
    row = "(" + ", ".join(["%s"] * (len(fields) + 1)) + ")"
    assignments = ", ".join(f"{qn(field.column)} = new.{qn(field.column)}" for field in fields)
    # Names from the model's options, quoted; every value is a parameter.
    values = f"new ({qn('id')}, {columns}) AS (VALUES {', '.join([row] * len(levels))})"
    statement = f"UPDATE {table} SET {assignments} FROM new WHERE {table}.{qn('id')} = new.{qn('id')}"  # noqa: S608
    wrapper = connections[connection.alias]  # the proxy resolves it again on each attribute read
    params = [
        value
        for level in levels
        for value in (
            level.pk,
            *(field.get_db_prep_value(getattr(level, field.attname), wrapper) for field in fields),
        )
    ]
    return [values], statement, params


def _apply(
    *,
    store,
    changes,
    kind,
    user,
    note="",
    order_reference="",
    now=None,
    resolved=(),
    check_free=True,
    levels=None,
    announced=False,
    unwritten=False,
):
    """Change the levels by `changes` ({ingredient id: (on hand delta, reserved delta)}).

    Refuses (StockError) on hand going below 0, a reservation beyond what is free (unless
    `check_free` is off), or a level passing MAX_LEVEL; raises and resolves low-stock alerts on
    the free quantity. `levels` are the levels of `changes` the caller already locked in this
    transaction (`_locked_levels`, none to create); else they are locked here. The changed levels
    are written in one UPDATE and the movements in one INSERT, whatever their number.
    `announced`: `stock_changed` was sent for this change already (`announce_stock_change`).
    `unwritten`: an order's few movements and the levels' UPDATE are not written but returned
    (`UnwrittenChange`, see `reserve_ingredients`); a change too large for one statement is
    written here (nothing is then left to write).
    """
    now = now or timezone.now()
    ids = sorted(changes)
    creating = any(on_hand > 0 for on_hand, _reserved in changes.values())
    if levels is None or creating or not set(ids) <= levels.keys():
        levels = _locked_levels(store, ids, create=creating)
    changed = []
    movements = []
    alerts = []
    free_changed = False  # a consumption moves reserved units out of stock: nothing more is free
    for ingredient_id in ids:
        on_hand_delta, reserved_delta = changes[ingredient_id]
        if on_hand_delta == 0 and reserved_delta == 0:
            continue
        level = levels.get(ingredient_id) or StockLevel(store=store, ingredient_id=ingredient_id)
        free_before = level.free
        if check_free and reserved_delta > 0 and level.free < reserved_delta:
            raise StockError(shortage_message(_ingredient_name(ingredient_id), resolved, ingredient_id))
        if level.on_hand + on_hand_delta < 0:
            raise StockError(
                _("Il ne reste que %(quantity)s de %(ingredient)s : impossible d'en retirer %(asked)s.")
                % {
                    "quantity": level.on_hand,
                    "ingredient": _ingredient_name(ingredient_id).lower(),
                    "asked": -on_hand_delta,
                }
            )
        if level.on_hand + on_hand_delta > MAX_LEVEL or level.reserved + reserved_delta > MAX_LEVEL:
            raise StockError(
                _("Quantité trop grande : le stock de %(ingredient)s dépasserait %(maximum)s.")
                % {"ingredient": _ingredient_name(ingredient_id).lower(), "maximum": MAX_LEVEL}
            )
        level.on_hand += on_hand_delta
        level.reserved = max(level.reserved + reserved_delta, 0)
        free_changed = free_changed or level.free != free_before
        # Only a decrease of what is free crosses the threshold: a delivery that leaves the level
        # low raises nothing.
        if level.free < free_before and not level.below_threshold and level.is_low:
            level.below_threshold = True
            alerts.append(
                StockAlert(
                    store=store,
                    ingredient_id=ingredient_id,
                    quantity=level.free,
                    threshold=level.alert_threshold,
                    created_at=now,
                )
            )
        elif level.below_threshold and not level.is_low:
            level.below_threshold = False
            _resolve_alerts(level, now)
        level.updated_at = timezone.now()  # what auto_now gives a save(): `_levels_update` gives none
        changed.append(level)
        movements.append(
            StockMovement(
                store=store,
                ingredient_id=ingredient_id,
                kind=kind,
                on_hand_change=on_hand_delta,
                reserved_change=reserved_delta,
                on_hand_after=level.on_hand,
                reserved_after=level.reserved,
                user=_user(user),
                order_reference=order_reference,
                note=(note or "").strip()[:NOTE_LENGTH],  # a supplier or a reason, as the form bounds it
                created_at=now,
            )
        )
    left = UnwrittenChange([], None)  # what the caller writes (`unwritten`): nothing, unless below
    if changed and len(movements) <= INSERTED_AT_ONCE:
        # An order's few: the levels and the movements in one round trip, the movements' statement
        # built once (menu/rows.py); or in the caller's own statement.
        if unwritten:
            left = UnwrittenChange(movements, _levels_update(changed))
        else:
            rows.insert(movements, update=_levels_update(changed))
    elif changed:
        rows.execute(_levels_update(changed))
        StockMovement.objects.bulk_create(movements)  # a whole delivery or count, in batches
    if free_changed and not announced:
        stock_changed.send(sender=StockLevel, store_id=store.pk)  # what is free has changed
    for alert in alerts:
        alert.save()
        enqueue_with_commit(send_low_stock_alert, alert.id)  # committed with the alert (menu/outbox.py)
    return left if unwritten else movements


def _order_reference(value, *, missing):
    """The order's reference, required: a reservation nobody can name could never be released."""
    value = (value or "").strip() if isinstance(value, str) else ""
    if not value:
        raise StockError(missing)
    if len(value) > ORDER_REFERENCE_LENGTH:
        raise StockError(
            _("La référence de commande ne peut pas dépasser %(length)s caractères.")
            % {"length": ORDER_REFERENCE_LENGTH}
        )
    return value


def _ingredient_name(ingredient_id):
    return Ingredient.objects.values_list("name", flat=True).get(id=ingredient_id)


def _user(user):
    return user if user is not None and user.is_authenticated else None


def _locked_levels(store, ingredient_ids, *, create):
    """The store's levels for these ingredients, locked in ingredient id order ({id: level})."""
    if create:
        existing = set(
            StockLevel.objects.filter(store=store, ingredient_id__in=ingredient_ids).values_list(
                "ingredient_id", flat=True
            )
        )
        for ingredient_id in ingredient_ids:
            if ingredient_id not in existing:
                StockLevel.objects.get_or_create(store=store, ingredient_id=ingredient_id)
    return {level.ingredient_id: level for level in _lock_levels(store, ingredient_ids)}


def _lock_levels(store, ingredient_ids):
    """SELECT … FOR UPDATE of the levels, in ingredient id order (two writers lock in the same
    order: no deadlock), written by hand: every order placed, changed or cancelled asks, and the
    ORM took 0.7 ms to build it. SQLite has no row locks: the first write locks the database."""
    lock = rows.for_update("_lock_levels()")
    ingredient_ids = sorted(set(ingredient_ids))
    if not ingredient_ids:
        return []
    names = [field.attname for field in StockLevel._meta.concrete_fields]
    table, store_, ingredient = rows.names(StockLevel, "store", "ingredient")
    listed = ", ".join(["%s"] * len(ingredient_ids))
    # Names from the model's options, quoted; values are parameters.
    sql = (
        f"SELECT {rows.select_list(StockLevel, names, 'l')} FROM {table} l "  # noqa: S608
        f"WHERE l.{store_} = %s AND l.{ingredient} IN ({listed}) ORDER BY l.{ingredient}{lock}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [store.pk, *ingredient_ids])
        return [rows.instance(StockLevel, names, row) for row in cursor.fetchall()]


def _resolve_alerts(level, now):
    StockAlert.objects.filter(
        store_id=level.store_id, ingredient_id=level.ingredient_id, resolved_at__isnull=True
    ).update(resolved_at=now)


def _positive_lines(lines, *, empty):
    changes = Counter()
    for ingredient, quantity in lines:
        ingredient = _ingredient(ingredient)
        changes[ingredient] += whole_number(quantity, ingredient=ingredient, minimum=1)
    if not changes:
        raise StockError(empty)
    return changes


def _ingredient(value):
    if isinstance(value, Ingredient):
        return value
    try:
        return Ingredient.objects.get(pk=value)
    except (Ingredient.DoesNotExist, ValueError, TypeError):
        raise StockError(_("Ingrédient inconnu : %(value)s.") % {"value": value}) from None


def whole_number(value, *, ingredient=None, minimum, maximum=MAX_LINE_QUANTITY):
    """`value` as an int in [minimum, maximum]; strings of digits are accepted, floats, fractions
    and numbers past `maximum` (a sane bound per line) are not."""
    if isinstance(value, bool):
        value = None
    elif isinstance(value, str):
        value = value.strip()
        try:
            value = (
                Decimal(value)
                if re.fullmatch(r"[+-]?[0-9]{1,100}(\.[0-9]{1,100})?", value, flags=re.ASCII)
                else None
            )
        except InvalidOperation:
            value = None
    if isinstance(value, Decimal):
        value = int(value) if value.is_finite() and value == value.to_integral_value() else None
    if not isinstance(value, int):
        message = _("La quantité doit être un nombre entier.")
    elif value < minimum:
        message = (
            _("La quantité ne peut pas être négative.")
            if minimum == 0
            else _("La quantité doit être positive.")
        )
    elif value > maximum:
        message = _("La quantité ne peut pas dépasser %(maximum)s.") % {"maximum": _thousands(maximum)}
    else:
        return value
    if ingredient is not None:
        message = f"{ingredient.name} : {message}"
    raise StockError(message)


def _thousands(number):
    """1000000 as « 1 000 000 » (French thousands, narrow no-break spaces)."""
    return f"{number:,}".replace(",", "\u202f")


def parse_id(value):
    """An id from a form or a URL: digits only (no «²», no sign, no spaces), within a bigint."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,18}", value, flags=re.ASCII):
        return int(value)
    return None


def last_movement_id(store):
    """The id of the store's latest movement (0 if none): where an inventory count begins."""
    return StockMovement.objects.filter(store=store).order_by("-id").values_list("id", flat=True).first() or 0


# Ordering settings -------------------------------------------------------------------------------


def free_order_prefix(name, *, store_id=None):
    """A prefix of order numbers no other store has saved, as close to `name` as possible.

    Tries `prefix_from_name(name)` first ("lyon-3" -> "LYO"), then other letters of the name in
    their order ("LYN", "LON"…), then any three letters: two stores never share a prefix, so
    their order numbers never mix. One query.
    """
    taken = set(
        StoreOrderingSettings.objects.exclude(store_id=store_id).values_list("order_prefix", flat=True)
    )
    for candidate in _prefix_candidates(name):
        if candidate not in taken:
            return candidate
    raise RuntimeError("Every order prefix is taken.")  # 17,576 stores


def _prefix_candidates(name):
    first = prefix_from_name(name)
    yield first
    letters = name_letters(name)
    for second, third in itertools.combinations(range(1, len(letters)), 2):
        yield letters[0] + letters[second] + letters[third]
    for second, third in itertools.product(string.ascii_uppercase, repeat=2):
        yield first[0] + second + third
    for candidate in itertools.product(string.ascii_uppercase, repeat=3):
        yield "".join(candidate)


def saved_ordering_settings(store):
    """The store's saved ordering settings, created with the defaults and a free prefix (see
    `free_order_prefix`, from the slug) when it has none yet: what numbers its orders.

    Safe beside another request doing the same for this store or another one. Always read from
    the database (placing the day's first order of a store calls it in its transaction: the prefix
    names the lock that serialises a store's orders, and head office may change it; the next
    orders read it in the locking statement, `ordering.models.take_store_order_number`), by a
    hand-written query.
    """
    found = _read_saved_settings(store.pk)
    for _attempt in range(5):
        if found is not None:
            return found
        prefix = free_order_prefix(store.slug, store_id=store.pk)
        try:
            with transaction.atomic():
                created = StoreOrderingSettings.objects.create(store_id=store.pk, order_prefix=prefix)
        except IntegrityError:  # this store's row, or this prefix, was just saved by another request
            found = _read_saved_settings(store.pk)
            continue
        if isinstance(store, StorePage):
            # Only the forward link is cached: the store may be shared by the process's requests
            # (`menu.catalogue`), and this row is rolled back with an order that is refused.
            StoreOrderingSettings._meta.get_field("store").set_cached_value(created, store)
        return created
    raise RuntimeError(f"No free order prefix could be saved for store {store.pk}.")


def _read_saved_settings(store_id):
    """The store's saved StoreOrderingSettings or None, in a statement written by hand: every order
    placed asks, and the ORM took 0.7 ms to build it."""
    names = [field.attname for field in StoreOrderingSettings._meta.concrete_fields]
    table, store_ = rows.names(StoreOrderingSettings, "store")
    # Names from the model's options, quoted; the store's id is a parameter.
    sql = f"SELECT {rows.select_list(StoreOrderingSettings, names, 'o')} FROM {table} o WHERE o.{store_} = %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [store_id])
        row = cursor.fetchone()
    return None if row is None else rows.instance(StoreOrderingSettings, names, row)
