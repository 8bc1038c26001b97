"""Every write to the stock: each service updates the levels and appends the movements together.

All of them run in one transaction (a savepoint inside the caller's transaction), lock the levels
they change with `select_for_update()` in ingredient id order (a fixed order, so two writers never
deadlock), and refuse bad input with a `StockError` whose message is shown as is; on refusal
nothing is written. A level that goes down to its alert threshold raises one `StockAlert` and,
after commit, one e-mail to the store's managers; it rearms when the level goes back above.
"""

from collections import Counter
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from menu.models import Ingredient
from menu.recipes import UnknownLineError, needs_for_lines

from .exceptions import StockError
from .models import ProductWithdrawal, StockAlert, StockLevel, StockMovement
from .tasks import send_low_stock_alert

Kind = StockMovement.Kind


@transaction.atomic
def restock(*, store, lines, user, supplier="", now=None):
    """Record a delivery: `lines` are `(ingredient, quantity)` with positive quantities.

    Returns the movements written. Raises StockError on an empty delivery, an unknown ingredient
    or a quantity that is not a positive whole number.
    """
    changes = _positive_lines(lines, empty=_("Une livraison doit contenir au moins un ingrédient."))
    return _apply(store=store, changes=changes, kind=Kind.RESTOCK, user=user, note=supplier, now=now)


@transaction.atomic
def record_waste(*, store, lines, user, reason="", now=None):
    """Record thrown-away stock: `lines` are `(ingredient, quantity)` with positive quantities."""
    changes = _positive_lines(lines, empty=_("Indiquez au moins un ingrédient perdu."))
    return _apply(
        store=store,
        changes={ingredient: -quantity for ingredient, quantity in changes.items()},
        kind=Kind.WASTE,
        user=user,
        note=reason,
        now=now,
    )


@transaction.atomic
def count_inventory(*, store, counts, user, counted_after=None, now=None):
    """Record what is on the shelf: `counts` are `(ingredient, counted quantity >= 0)`.

    Each difference with the current level is written as a correction; an ingredient whose count
    matches writes nothing. Returns the corrections written.

    `counted_after` is the id of the store's last movement when the count began (the inventory
    form carries it): movements recorded since — sales during service while the manager counted —
    are applied on top of the count instead of being erased by it.
    """
    counted = {}
    for ingredient, quantity in counts:
        ingredient = _ingredient(ingredient)
        if ingredient in counted:
            raise StockError(_("%(ingredient)s est compté deux fois.") % {"ingredient": ingredient.name})
        counted[ingredient] = whole_number(quantity, ingredient=ingredient, minimum=0)
    if not counted:
        raise StockError(_("Saisissez au moins une quantité comptée."))
    if counted_after is not None:
        _locked_levels(store, sorted(i.id for i in counted), create=True)
        since = dict(
            StockMovement.objects.filter(store=store, ingredient__in=counted, id__gt=counted_after)
            .values("ingredient_id")
            .annotate(total=Sum("quantity"))
            .values_list("ingredient_id", "total")
        )
        counted = {i: max(quantity + since.get(i.id, 0), 0) for i, quantity in counted.items()}
    return _apply(store=store, changes=counted, kind=Kind.CORRECTION, user=user, absolute=True, now=now)


@transaction.atomic
def set_alert_threshold(*, store, ingredient, threshold):
    """Set the level below which the store's managers are alerted (creates an empty level if none)."""
    ingredient = _ingredient(ingredient)
    threshold = whole_number(threshold, ingredient=ingredient, minimum=0)
    level = _locked_levels(store, [ingredient.id], create=True)[ingredient.id]
    level.alert_threshold = threshold
    if level.below_threshold and level.quantity > threshold:
        level.below_threshold = False
        _resolve_alerts(level, timezone.now())
    level.save(update_fields=["alert_threshold", "below_threshold", "updated_at"])
    return level


@transaction.atomic
def reserve_ingredients(*, store, lines, user=None, order_reference="", now=None):
    """Take the ingredients of order `lines` from the store's stock, all or nothing.

    `lines` are `(size, quantity, extras)`: a ProductSize, a number of portions and the chosen
    ProductExtra rows. Runs inside the caller's transaction (as a savepoint) with row locks, so
    concurrent reservations for the last portions cannot both succeed and a level never goes
    below zero. An order (`order_reference`) holds one reservation at a time: to change its lines,
    release them first. Raises StockError naming the first missing ingredient and the line that
    needs it, or for a quantity, size or option that does not exist.
    """
    lines = [(size, whole_number(quantity, minimum=1), extras) for size, quantity, extras in lines]
    needs, resolved = _needs_for_lines(lines)
    if not needs:
        return []
    if order_reference:
        _locked_levels(store, sorted(needs), create=False)  # one reservation of an order at a time
        if _held_for_order(store, order_reference):
            raise StockError(
                _("Les ingrédients de la commande %(reference)s sont déjà réservés.")
                % {"reference": order_reference}
            )
    return _apply(
        store=store,
        changes={ingredient_id: -amount for ingredient_id, amount in needs.items()},
        kind=Kind.SALE,
        user=user,
        order_reference=order_reference,
        now=now,
        resolved=resolved,
    )


@transaction.atomic
def release_ingredients(*, store, order_reference, user=None, now=None):
    """Give back what the order `order_reference` still holds at `store` (a cancellation).

    What comes back is what the reservation took, read from the order's own movements: a recipe
    edited since changes nothing, and releasing twice gives nothing the second time.
    """
    if not order_reference:
        raise StockError(_("Indiquez la référence de la commande à annuler."))
    ingredient_ids = sorted(_held_for_order(store, order_reference))
    if not ingredient_ids:
        return []
    _locked_levels(store, ingredient_ids, create=False)
    held = _held_for_order(store, order_reference)  # again, under the locks: a concurrent release won
    if not held:
        return []
    return _apply(
        store=store,
        changes=held,
        kind=Kind.CANCELLATION,
        user=user,
        order_reference=order_reference,
        now=now,
    )


@transaction.atomic
def withdraw_product(*, store, product, user, reason=""):
    """Take `product` off `store`'s menu until `restore_product` (the stock is not touched)."""
    withdrawal, _created = ProductWithdrawal.objects.update_or_create(
        store=store,
        product=product,
        defaults={"reason": reason.strip()[:120], "user": user if user and user.is_authenticated else None},
    )
    return withdrawal


@transaction.atomic
def restore_product(*, store, product, user):
    """Put `product` back on `store`'s menu (what it can make still depends on its stock)."""
    ProductWithdrawal.objects.filter(store=store, product=product).delete()


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
    """{ingredient id: quantity} that the order's sales took and no cancellation gave back yet."""
    totals = (
        StockMovement.objects.filter(
            store=store, order_reference=order_reference, kind__in=[Kind.SALE, Kind.CANCELLATION]
        )
        .values("ingredient_id")
        .annotate(total=Sum("quantity"))
    )
    return {row["ingredient_id"]: -row["total"] for row in totals if row["total"] < 0}


def _apply(*, store, changes, kind, user, note="", order_reference="", now=None, absolute=False, resolved=()):
    """Change the levels of `changes` ({ingredient or id: delta}, or the new quantity if `absolute`)."""
    now = now or timezone.now()
    changes = {getattr(key, "pk", key): value for key, value in changes.items()}
    ids = sorted(changes)
    levels = _locked_levels(store, ids, create=absolute or all(v > 0 for v in changes.values()))
    movements = []
    alerts = []
    for ingredient_id in ids:
        level = levels.get(ingredient_id)
        current = level.quantity if level else 0
        delta = changes[ingredient_id] - current if absolute else changes[ingredient_id]
        if delta == 0:
            continue
        if current + delta < 0:
            name = Ingredient.objects.get(id=ingredient_id).name
            if resolved:
                raise StockError(shortage_message(name, resolved, ingredient_id))
            raise StockError(
                _("Il ne reste que %(quantity)s de %(ingredient)s : impossible d'en retirer %(asked)s.")
                % {"quantity": current, "ingredient": name.lower(), "asked": -delta}
            )
        level.quantity = current + delta
        # Only a decrease crosses the threshold: a delivery that leaves the level low raises nothing.
        if delta < 0 and not level.below_threshold and level.quantity <= level.alert_threshold:
            level.below_threshold = True
            alerts.append(
                StockAlert(
                    store=store,
                    ingredient_id=ingredient_id,
                    quantity=level.quantity,
                    threshold=level.alert_threshold,
                    created_at=now,
                )
            )
        elif level.below_threshold and level.quantity > level.alert_threshold:
            level.below_threshold = False
            _resolve_alerts(level, now)
        level.save(update_fields=["quantity", "below_threshold", "updated_at"])
        movements.append(
            StockMovement(
                store=store,
                ingredient_id=ingredient_id,
                kind=kind,
                quantity=delta,
                level_after=level.quantity,
                user=user if user and user.is_authenticated else None,
                order_reference=order_reference,
                note=note,
                created_at=now,
            )
        )
    StockMovement.objects.bulk_create(movements)
    for alert in alerts:
        alert.save()
        transaction.on_commit(lambda alert_id=alert.id: send_low_stock_alert.enqueue(alert_id))
    return movements


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
    locked = (
        StockLevel.objects.select_for_update()
        .filter(store=store, ingredient_id__in=ingredient_ids)
        .order_by("ingredient_id")
    )
    return {level.ingredient_id: level for level in locked}


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


def whole_number(value, *, ingredient=None, minimum):
    """`value` as an int >= minimum; strings of digits are accepted, floats and fractions are not."""
    if isinstance(value, bool):
        value = None
    elif isinstance(value, str):
        try:
            value = Decimal(value.strip())
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
    else:
        return value
    if ingredient is not None:
        message = f"{ingredient.name} : {message}"
    raise StockError(message)


def last_movement_id(store):
    """The id of the store's latest movement (0 if none): where an inventory count begins."""
    return StockMovement.objects.filter(store=store).order_by("-id").values_list("id", flat=True).first() or 0
