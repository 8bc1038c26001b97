"""Every change of an order: one function per transition, called by the storefront, the staff
screens, the admin, management commands and tests alike.

Each function is one transaction (a savepoint inside the caller's): it locks the order
(`select_for_update`), checks its status, changes it, bumps `Order.version`, writes an
`OrderEvent`, and schedules its e-mail after commit. A refusal raises `OrderError` (or
`TransitionError` for a change the order's status does not allow) with a French message a
customer can read; nothing is written then. Stock follows the order through `stores.services`
with the order number as reference: reserved when placed, released when cancelled or changed,
consumed when the kitchen starts. Money moves through `ordering.payments` with idempotency keys.
"""

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from menu import rows
from menu.promotions import normalise_code
from menu.templatetags.menu_tags import euros
from stores.areas import delivery_quote
from stores.exceptions import StockError
from stores.hours import closure_on, is_open_at, ordering_settings, with_hours
from stores.models import StoreMembership, StoreRole
from stores.services import (
    announce_stock_change,
    consume_reservation,
    release_ingredients,
    reserve_ingredients,
    restore_reservation,
    saved_ordering_settings,
)

from .addresses import Address, LocatedAddress, locate_address, located_address, place_of
from .exceptions import OrderError, PaymentError, PriceChanged, TransitionError
from .models import (
    Order,
    OrderDiscount,
    OrderEvent,
    OrderLine,
    Payment,
    locked_counter,
    order_for_key,
    take_order_number,
    take_store_order_number,
)
from .money import (
    _refund_charges,
    _refundable,
    _settle_difference,
    call_charge,
    close_difference_charge,
    give_back_difference,
    open_difference_charge,
    pay_order,
    reconcile_payments,
    record_payment,
    refund_order,
    settle_pending_charges_of_expired_orders,
    sync_payment,
)
from .payments import NO_CARD_ONLINE, card_payments_online
from .pricing import quote
from .slots import asap_slot, asap_starts, check_slot
from .transitions import (
    _bump,
    _email_on_commit,
    _event,
    _idempotency_key,
    _lock,
    _move,
    _refuse_while_charge_pending,
    _require,
    _synced,
    _user,
    new_event,
    queue_confirmation,
)

__all__ = [
    "UNCHANGED",
    "Address",
    "Contact",
    "LocatedAddress",
    "locate_address",
    "OrderError",
    "PaymentError",
    "PriceChanged",
    "TransitionError",
    "assign_driver",
    "cancel_order",
    "change_order",
    "change_total",
    "expire_unpaid_orders",
    "mark_collected",
    "mark_delivered",
    "mark_ready",
    "pay_order",
    "place_order",
    "reconcile_payments",
    "record_payment",
    "refund_order",
    "send_out",
    "send_out_round",
    "store_drivers",
    "start_preparing",
    "sync_payment",
    "undo_mark_ready",
    "undo_start_preparing",
]

Status = Order.Status
Fulfilment = Order.Fulfilment
Method = Order.PaymentMethod
UNCHANGED = object()  # change_order(slot=UNCHANGED): keep the order's time
PHONE_PATTERN = re.compile(r"\+?[0-9 .()-]{6,30}")


@dataclass(frozen=True)
class Contact:
    name: str
    phone: str
    email: str = ""


# Placing ---------------------------------------------------------------------------------------


def place_order(
    *,
    store,
    lines,
    fulfilment,
    contact,
    address=None,
    slot=None,
    payment_method,
    idempotency_key,
    customer=None,
    source=Order.Source.WEB,
    code="",
    expected_total=None,
    user=None,
    now=None,
    quoted=None,
    key_checked=False,
):
    """Place an order of `lines` (CartLines) at `store`, priced again on the server.

    `slot` None means as soon as possible, else the aware datetime of a slot start (see
    `ordering.slots`). `address` (delivery) is an `ordering.addresses.Address` or `LocatedAddress`:
    geocoded once, before the transaction, unless it carries coordinates; the order keeps it
    normalised with its coordinates, and its delivery band sets the fee and minimum. Refuses
    (OrderError) an address the geocoder refuses, unavailable lines, an address outside the
    delivery area (`OutsideArea`, whose message offers pickup), a delivery below the minimum, a
    closed store, a full or past slot, a payment method the store does not accept, a promotion
    code that does not exist;
    `expected_total` given and different from the new total raises PriceChanged carrying the new
    quote. Reserves the ingredients under the order number. Card online: the order waits for
    `pay_order` (status pending_payment until `expires_at`); otherwise it is received at once and
    confirmed by e-mail.

    Idempotent: the same `idempotency_key` (one per checkout form) returns the order it already
    made (no second order, reservation, charge or mail), also when two requests race: the key is
    looked up first, whatever changed since (the store's hours, its payment methods, its area);
    of two requests that both found none, the second's INSERT fails on the key's unique index, or
    it is refused because the first took the slot or the stock: either way it returns the first's
    order.
    `key_checked`: the caller looked the key up a moment ago and found no order (the checkout
    does, to find a retried POST's order): not read again.

    `quoted`: the `pricing.quote` the caller made of these very lines in this request (the
    checkout prices the cart to show it); taken as the price when it was made for this store,
    fulfilment, code and delivery band, else the lines are priced again. Never from the client.
    """
    key = _idempotency_key(idempotency_key)
    if not key_checked:
        # A form sent again gets its order (and is not geocoded again).
        existing = _order_for_key(key, customer)
        if existing is not None:
            return existing
    if fulfilment == Fulfilment.DELIVERY and address is not None:
        typed = address.address if isinstance(address, LocatedAddress) else address
        # Geocoding may call Google: done here, never inside the transaction and its locks.
        address = located_address(typed)
    try:
        return _place_order(
            store=store,
            lines=lines,
            fulfilment=fulfilment,
            contact=contact,
            address=address,
            slot=slot,
            payment_method=payment_method,
            key=key,
            customer=customer,
            source=source,
            code=code,
            expected_total=expected_total,
            user=user,
            now=now or timezone.now(),
            quoted=quoted,
        )
    except (IntegrityError, OrderError):
        # The same key may have been used by a request that placed its order since the key was
        # looked up (a form sent twice at once, for this store or another): this INSERT failed on
        # the key's unique index, or this order was refused for what that one took (the slot's
        # last place, the last of an ingredient). Its order stands, not the error.
        existing = _order_for_key(key, customer)
        if existing is None:
            raise
        return existing


@transaction.atomic
def _place_order(
    *,
    store,
    lines,
    fulfilment,
    contact,
    address,
    slot,
    payment_method,
    key,
    customer,
    source,
    code,
    expected_total,
    user,
    now,
    quoted=None,
):
    if store is None:
        raise OrderError(_("Cette pizzeria ne prend pas de commande."))
    store = with_hours(store)  # "open now?" and the slots read its hours many times
    # The settings the checks and the slots read, as the caller read the store (the checkout: kept
    # with the prices under the database's token, menu/catalogue.py). Not its prefix, the key of
    # the placing lock below, which head office may change: the statement taking the lock reads it
    # (`take_store_order_number`).
    store_settings = ordering_settings(store)
    # Everything that needs no lock is checked and priced before the placing lock below: orders
    # of a store wait for each other from there to the commit.
    if not getattr(store, "live", False):
        raise OrderError(_("Cette pizzeria ne prend pas de commande."))
    if fulfilment not in Fulfilment.values:
        raise OrderError(_("Choisissez la livraison ou le retrait sur place."))
    if source not in Order.Source.values:
        raise OrderError(_("Origine de commande inconnue."))
    _check_payment_method(store_settings, payment_method, source)
    contact = _clean_contact(contact, customer, source)
    address = locate_address(store=store, address=address) if fulfilment == Fulfilment.DELIVERY else None

    priced = _priced(
        store,
        lines,
        fulfilment=fulfilment,
        code=code,
        now=now,
        expected_total=expected_total,
        delivery=address.delivery if address else None,
        quoted=quoted,
    )
    if slot is None:
        _check_open_now(store, now)
        # "As soon as possible" looks among these starts: they follow from the store's hours and
        # lead time (only their load is read under the lock).
        starts = asap_starts(store, now)

    waits_for_payment = payment_method == Method.CARD_ONLINE and priced.total > 0
    status = Status.PENDING_PAYMENT if waits_for_payment else Status.RECEIVED
    order = Order(
        number="",  # taken under the lock below, as the slot
        store=store,
        store_name=store.title,
        customer=customer,
        contact_name=contact.name,
        contact_phone=contact.phone,
        contact_email=contact.email,
        fulfilment=fulfilment,
        street_address=address.street_address if address else "",
        postcode=address.postcode if address else "",
        city=address.city if address else "",
        address_details=address.details if address else "",
        latitude=address.latitude if address else None,
        longitude=address.longitude if address else None,
        asap=slot is None,
        status=status,
        payment_method=payment_method,
        source=source,
        promotion_code=normalise_code(priced.code),
        idempotency_key=key,
        created_at=now,
        updated_at=now,
        expires_at=now + datetime.timedelta(minutes=settings.ORDER_PAYMENT_MINUTES)
        if waits_for_payment
        else None,
        **_amounts(priced),
    )
    # The order, its lines, its discounts and its first event are made before the lock too: only
    # the number and the slot are set under it.
    lines, discounts = _new_lines(order, priced)
    event = new_event(order, from_status="", user=user, now=now)
    # What the order changes in Redis is written after the commit only, and said so before the
    # lock: the store's boards' version and its pages' stock token (the insert's `post_save` and
    # the reservation would write them at once too, under the lock); the order's tracking entry is
    # added after the commit as well (ordering.tracking.new_order_saved).
    from .boards import announce_new_order  # the boards read this module's names

    announce_new_order(order)
    announce_stock_change(store)
    # Where tasks are queued in the database, the confirmation's row is written here, in this
    # transaction and before the lock: committed with the order or not at all.
    confirmation_queued = status == Status.RECEIVED and queue_confirmation(order)

    # Orders of a store on a day are placed one at a time from here on: the slot's capacity and
    # the number are checked and taken under this lock, held until the commit. The key is not
    # looked up again here: a request that placed an order with it since `place_order` looked
    # makes the order's INSERT below fail on the key's unique index (IntegrityError), or took what
    # this one is then refused for (OrderError); this transaction is rolled back (the number goes
    # back to the counter) and `place_order` returns that order.
    day = timezone.localdate(now)
    number = take_store_order_number(store.pk, day)
    if number is None:  # the day's first order (or no saved settings yet; or not PostgreSQL)
        number = take_order_number(saved_ordering_settings(store).order_prefix, day)
    if slot is None:
        chosen = asap_slot(store, fulfilment, now, starts=starts)
        if chosen is None:
            raise OrderError(_("Plus aucun créneau n'est libre : choisissez un créneau plus tard."))
    else:
        chosen = check_slot(store, fulfilment, slot, now)
    order.number, order.promised_at, order.slot_start = number, chosen.promised_at, chosen.start
    # The ingredients' levels locked and the reservation checked under the order's number; then
    # the order, its lines, its discounts, its first event, as `create()` and `bulk_create` would
    # write them (the signals of the order and the event are sent), its stock movements and the
    # levels they change, in one statement (menu/rows.py).
    reservation = _reserve(order, priced, user=user, now=now, new_order=True)
    rows.insert_with_children(
        order,
        lines,
        discounts,
        [event],
        signals=(Order, OrderEvent),
        others=[reservation.movements],
        update=reservation.update,
    )
    if status == Status.RECEIVED and not confirmation_queued:
        _email_on_commit(order, "confirmation")
    return order


# The kitchen and the delivery ------------------------------------------------------------------


@transaction.atomic
def start_preparing(order, *, user=None, now=None):
    """The kitchen starts the order (received → preparing); its reserved ingredients are used."""
    now = now or timezone.now()
    locked = _lock(order)
    _require(
        locked,
        {Status.RECEIVED},
        _("La commande %(number)s ne peut pas passer en préparation : elle est %(status)s."),
    )
    if locked.store_id:
        consume_reservation(store=locked.store, order_reference=locked.number, user=_user(user), now=now)
    _move(locked, Status.PREPARING, user=user, now=now)
    return _synced(order, locked)


@transaction.atomic
def mark_ready(order, *, user=None, now=None):
    """The order is ready (preparing → ready); a pickup customer is told by e-mail."""
    now = now or timezone.now()
    locked = _lock(order)
    _require(
        locked, {Status.PREPARING}, _("La commande %(number)s ne peut pas être prête : elle est %(status)s.")
    )
    _move(locked, Status.READY, user=user, now=now)
    if locked.fulfilment == Fulfilment.PICKUP:
        _email_on_commit(locked, "ready")
    return _synced(order, locked)


# A tap on the kitchen board may be undone for this long, if nothing happened to the order since
# (docs/architecture.md, "Kitchen board"): long enough to notice a mis-tap, short enough that
# nobody undoes work the kitchen really did.
KITCHEN_UNDO_DELAY = datetime.timedelta(minutes=2)

# The kitchen's taps that may be undone: (from, to) of the event → the undo's service name.
KITCHEN_UNDOS = {
    (Status.RECEIVED, Status.PREPARING): "undo_start_preparing",
    (Status.PREPARING, Status.READY): "undo_mark_ready",
}


def kitchen_undo(order, last_event, *, now=None):
    """The name of the service that would undo the order's last kitchen tap (`last_event`, the
    order's latest OrderEvent), or None: the tap is too old, or something happened since."""
    now = now or timezone.now()
    if last_event is None or last_event.to_status != order.status:
        return None
    if now - last_event.created_at > KITCHEN_UNDO_DELAY:
        return None
    return KITCHEN_UNDOS.get((last_event.from_status, last_event.to_status))


def _require_undo(locked, service, now):
    last = OrderEvent.objects.filter(order=locked).order_by("-created_at", "-id").first()
    if kitchen_undo(locked, last, now=now) == service:
        return
    transition = {name: pair for pair, name in KITCHEN_UNDOS.items()}[service]
    if last is not None and (last.from_status, last.to_status) == transition:
        raise TransitionError(
            _(
                "Trop tard pour annuler : la commande %(number)s est %(status)s depuis plus de "
                "%(minutes)s minutes. Rien n'a été changé."
            )
            % {
                "number": locked.number,
                "status": locked.get_status_display().lower(),
                "minutes": int(KITCHEN_UNDO_DELAY.total_seconds() // 60),
            }
        )
    raise TransitionError(
        _(
            "Rien à annuler : la commande %(number)s a changé depuis (elle est %(status)s). "
            "Rien n'a été changé."
        )
        % {"number": locked.number, "status": locked.get_status_display().lower()}
    )


@transaction.atomic
def undo_start_preparing(order, *, user=None, now=None):
    """Undo a mis-tap on "start" (preparing → received) within KITCHEN_UNDO_DELAY, if nothing
    happened to the order since: what the start consumed goes back into the stock exactly (on hand
    and the reservation, `stores.services.restore_reservation`), the customer may change or
    cancel again, and an OrderEvent says it was a correction. Raises TransitionError otherwise
    (nothing written)."""
    now = now or timezone.now()
    locked = _lock(order)
    _require(
        locked,
        {Status.PREPARING},
        _("La commande %(number)s ne peut pas revenir en attente : elle est %(status)s."),
    )
    _require_undo(locked, "undo_start_preparing", now)
    note = _("Annulation d'une erreur de saisie (préparation commencée par erreur)")
    if locked.store_id:
        restore_reservation(
            store=locked.store, order_reference=locked.number, user=_user(user), note=note, now=now
        )
    _move(locked, Status.RECEIVED, user=user, now=now, note=note)
    return _synced(order, locked)


@transaction.atomic
def undo_mark_ready(order, *, user=None, now=None):
    """Undo a mis-tap on "ready" (ready → preparing) within KITCHEN_UNDO_DELAY, if nothing
    happened to the order since (no driver left with it, nobody collected it), with its own
    OrderEvent. The "ready" e-mail of a pickup order, already sent, cannot be taken back. Raises
    TransitionError otherwise (nothing written)."""
    now = now or timezone.now()
    locked = _lock(order)
    _require(
        locked,
        {Status.READY},
        _("La commande %(number)s ne peut pas revenir en préparation : elle est %(status)s."),
    )
    _require_undo(locked, "undo_mark_ready", now)
    note = _("Annulation d'une erreur de saisie (marquée prête par erreur)")
    _move(locked, Status.PREPARING, user=user, now=now, note=note)
    return _synced(order, locked)


@transaction.atomic
def send_out(order, *, user=None, now=None):
    """A driver leaves with the order (ready → out_for_delivery); the customer is told by e-mail."""
    now = now or timezone.now()
    locked = _lock(order)
    if locked.fulfilment != Fulfilment.DELIVERY:
        raise TransitionError(
            _("La commande %(number)s est à emporter : elle ne part pas en livraison.")
            % {"number": locked.number}
        )
    _require(
        locked,
        {Status.READY},
        _("La commande %(number)s ne peut pas partir en livraison : elle est %(status)s."),
    )
    _move(locked, Status.OUT_FOR_DELIVERY, user=user, now=now)
    _email_on_commit(locked, "out_for_delivery")
    return _synced(order, locked)


@transaction.atomic
def mark_delivered(order, *, payment_method="", amount_received=None, user=None, now=None):
    """The driver handed the order over (out_for_delivery → delivered).

    An order that still owes money is delivered only with the payment handed over: the driver
    gives `payment_method` (cash, card terminal, meal voucher, cheque) and `amount_received`,
    recorded by `record_payment` (change computed there) in the same transaction, so a refused
    payment delivers nothing. Without it, OrderError and nothing written. A payment given for an
    order that owes nothing is refused too (it would be collected twice).
    """
    now = now or timezone.now()
    locked = _lock(order)
    _require(
        locked,
        {Status.OUT_FOR_DELIVERY},
        _("La commande %(number)s ne peut pas être livrée : elle est %(status)s."),
    )
    _take_payment(locked, payment_method, amount_received, user=user, now=now, done=_("livrée"))
    _move(locked, Status.DELIVERED, user=user, now=now)
    return _synced(order, locked)


@transaction.atomic
def mark_collected(order, *, payment_method="", amount_received=None, user=None, now=None):
    """The customer collected the order at the counter (ready → collected).

    Like `mark_delivered`: an order that still owes money is collected only with the payment
    handed over at the counter (`payment_method`, `amount_received`), in the same transaction.
    """
    now = now or timezone.now()
    locked = _lock(order)
    if locked.fulfilment != Fulfilment.PICKUP:
        raise TransitionError(
            _("La commande %(number)s est à livrer : elle ne se retire pas au comptoir.")
            % {"number": locked.number}
        )
    _require(
        locked, {Status.READY}, _("La commande %(number)s ne peut pas être retirée : elle est %(status)s.")
    )
    _take_payment(locked, payment_method, amount_received, user=user, now=now, done=_("retirée"))
    _move(locked, Status.COLLECTED, user=user, now=now)
    return _synced(order, locked)


def _take_payment(locked, payment_method, amount_received, *, user, now, done):
    """Record what the customer hands over when the order leaves our hands, if anything is due."""
    if not payment_method and amount_received in (None, ""):
        due = locked.amount_due()
        if due > 0:
            raise OrderError(
                _(
                    "La commande %(number)s n'est pas payée : encaissez %(due)s (moyen de paiement "
                    "et montant reçu) avant de la marquer %(done)s."
                )
                % {"number": locked.number, "due": euros(due), "done": done}
            )
        return None
    return record_payment(locked, method=payment_method, amount_received=amount_received, user=user, now=now)


# The drivers -----------------------------------------------------------------------------------


def store_drivers(store):
    """The active users with a driver's membership in `store` (the ones orders go to), by name."""
    from django.contrib.auth import get_user_model

    memberships = StoreMembership.objects.filter(store=store, role=StoreRole.DRIVER)
    return (
        get_user_model()
        .objects.filter(is_active=True, id__in=memberships.values("user_id"))
        .order_by("first_name", "last_name", "email")
    )


def driver_name(user):
    return user.get_full_name() or user.email


@transaction.atomic
def assign_driver(order, *, driver, user=None, unless_taken=False, now=None):
    """Give a ready delivery order to `driver` (None: take it back from its driver).

    `unless_taken`: a driver taking an order for themselves, which they may do only if no other
    driver has it: checked under the order's lock, so two drivers tapping at once cannot take it
    from each other.

    The driver must be an active user with a driver's membership in the order's store. Only a
    delivery order that is ready (not yet out) is assigned. Bumps the version and writes an
    OrderEvent (same status, the driver in the note); giving it to the driver it already has
    writes nothing. Refusals: OrderError / TransitionError, nothing written.
    """
    now = now or timezone.now()
    locked = _lock(order)
    if locked.fulfilment != Fulfilment.DELIVERY:
        raise TransitionError(
            _("La commande %(number)s est à emporter : elle n'a pas de livreur.") % {"number": locked.number}
        )
    _require(
        locked,
        {Status.READY},
        _("La commande %(number)s ne peut pas être confiée à un livreur : elle est %(status)s."),
    )
    if driver is not None and not store_drivers(locked.store_id).filter(pk=driver.pk).exists():
        raise OrderError(
            _("%(name)s n'est pas livreur de %(store)s.")
            % {"name": driver_name(driver), "store": locked.store_name}
        )
    if locked.driver_id == getattr(driver, "pk", None):
        return _synced(order, locked)
    if unless_taken and locked.driver_id is not None:
        raise OrderError(_("Cette commande est confiée à un autre livreur."))
    note = _("Confiée à %(name)s") % {"name": driver_name(driver)} if driver else _("Livreur retiré")
    locked.driver = driver
    _bump(locked, now=now)
    _event(locked, from_status=locked.status, user=user, now=now, note=note)
    return _synced(order, locked)


@transaction.atomic
def send_out_round(orders, *, driver, user=None, now=None):
    """The driver leaves with their round: each of `orders` (ready, assigned to `driver`) goes
    out for delivery (`send_out`), all or none. An order given to someone else meanwhile, or no
    longer ready, refuses the whole round (TransitionError / OrderError, nothing written).
    Returns the orders sent out."""
    now = now or timezone.now()
    orders = sorted(orders, key=lambda order: order.pk)  # locks in a fixed order
    if not orders:
        raise OrderError(_("Aucune commande prête pour ce livreur."))
    for order in orders:
        # send_out's own refusals first (a pickup, a cancelled order…); then whose it is. Any
        # refusal rolls the whole round back, e-mails included (they wait for the commit).
        sent = send_out(order, user=user, now=now)
        if sent.driver_id != driver.pk:
            raise TransitionError(
                _("La commande %(number)s n'est pas confiée à %(name)s : rechargez la page.")
                % {"number": sent.number, "name": driver_name(driver)}
            )
    return orders


# Cancelling and changing -----------------------------------------------------------------------


@transaction.atomic
def cancel_order(order, *, user=None, reason="", by_customer=False, now=None):
    """Cancel the order: its stock is released (nothing comes back once the kitchen started), a
    card payment online is refunded in full through the provider (a payment handed over is given
    back by staff), the customer is told by e-mail.

    A customer (`by_customer`) may cancel until the kitchen starts; staff may cancel later, with
    a reason. Raises PaymentError if the refund fails (then nothing is cancelled).
    """
    now = now or timezone.now()
    locked = _lock(order)
    reason = (reason or "").strip()[:200]
    if by_customer:
        if locked.status in (Status.PREPARING, Status.READY, Status.OUT_FOR_DELIVERY):
            raise TransitionError(
                _(
                    "La préparation de votre commande a commencé : elle ne peut plus être annulée. "
                    "Appelez la pizzeria."
                )
            )
        _require(
            locked,
            {Status.PENDING_PAYMENT, Status.RECEIVED},
            _("La commande %(number)s ne peut pas être annulée : elle est %(status)s."),
        )
    else:
        _require(
            locked,
            {
                Status.PENDING_PAYMENT,
                Status.RECEIVED,
                Status.PREPARING,
                Status.READY,
                Status.OUT_FOR_DELIVERY,
            },
            _("La commande %(number)s ne peut pas être annulée : elle est %(status)s."),
        )
        if locked.status not in (Status.PENDING_PAYMENT, Status.RECEIVED) and not reason:
            raise OrderError(_("Indiquez le motif de l'annulation."))
    _refuse_while_charge_pending(locked)  # it could not be refunded: the money would stay taken
    if locked.store_id:
        release_ingredients(store=locked.store, order_reference=locked.number, user=_user(user), now=now)
    # What was paid by card online goes back through the provider; money handed over goes back
    # by hand (staff), so it is not refunded here.
    refundable = _refundable(locked)
    if refundable > 0:
        _refund_charges(locked, refundable, reason=reason or _("Commande annulée"), user=user, now=now)
    locked.cancel_reason = reason
    locked.expires_at = None
    _move(locked, Status.CANCELLED, user=user, now=now, note=reason)
    _email_on_commit(locked, "cancelled")
    return _synced(order, locked)


def change_order(
    order,
    *,
    lines=None,
    slot=UNCHANGED,
    user=None,
    expected_total=None,
    source_token="",
    verification_token="",
    now=None,
):
    """Change the lines and/or the time of an order the kitchen has not started (received).

    `lines` (CartLines) replace the order's lines, priced again (with the order's promotion
    code); the stock follows: the old reservation is released and the new lines reserved, in
    the same transaction. `slot`: UNCHANGED keeps the time, None means as soon as possible, else
    a slot start. A card-paid order is settled through the provider: a lower total is refunded;
    a higher total is charged first with `source_token` (a new card token: PaymentError without
    one; `verification_token` when the card form ran 3-D Secure) — the charge row is committed
    with its key before the provider is called, and the change is applied once the charge
    succeeded (declined or not confirmed: PaymentError, nothing
    changed; a change that can no longer be applied by then gives the charge back).
    `expected_total` given and different raises PriceChanged carrying the new quote. Refused
    while a card charge of the order is still pending.
    """
    now = now or timezone.now()
    change = {"lines": lines, "slot": slot, "user": user, "expected_total": expected_total, "now": now}
    charge = _open_change(order, source_token=source_token, **change)
    if charge is None:
        return _change(order, **change)
    outcome = call_charge(charge, source_token=source_token, verification_token=verification_token)
    changed, error = _change_after_charge(order, charge, outcome, **change)
    if error is not None:
        raise error
    return changed


class _DryRun(Exception):
    """Rolls back a change tried only to learn its new total."""

    def __init__(self, total):
        super().__init__(total)
        self.total = total


@transaction.atomic
def _open_change(order, *, source_token, lines, slot, user, expected_total, now):
    """A change of a card-paid order's lines is tried (then rolled back) to learn its total; a
    higher total gets its pending charge committed here. Returns that charge, or None."""
    locked = _lock(order)
    _require_changeable(locked)
    if lines is None or locked.payment_method != Method.CARD_ONLINE:
        return None
    _refuse_while_charge_pending(locked)
    try:
        with transaction.atomic():
            _apply_change(locked, lines=lines, slot=slot, user=user, expected_total=expected_total, now=now)
            raise _DryRun(locked.total)
    except _DryRun as dry_run:
        new_total = dry_run.total
    locked.refresh_from_db()
    return open_difference_charge(locked, new_total=new_total, source_token=source_token, user=user, now=now)


@transaction.atomic
def change_total(order, *, lines, slot=UNCHANGED, user=None, now=None):
    """The total the order would have with `lines` (and `slot`), priced as `change_order` would
    and rolled back: what a change page shows before asking for a card. OrderError if the change
    could not be made."""
    now = now or timezone.now()
    locked = _lock(order)
    _require_changeable(locked)
    try:
        with transaction.atomic():
            _apply_change(locked, lines=lines, slot=slot, user=user, expected_total=None, now=now)
            raise _DryRun(locked.total)
    except _DryRun as dry_run:
        return dry_run.total


@transaction.atomic
def _change(order, *, lines, slot, user, expected_total, now):
    locked = _lock(order)
    _require_changeable(locked)
    if lines is None and slot is UNCHANGED:
        return _synced(order, locked)
    notes = _apply_change(locked, lines=lines, slot=slot, user=user, expected_total=expected_total, now=now)
    if locked.payment_method == Method.CARD_ONLINE:
        _settle_difference(locked, user=user, now=now)
    _changed(locked, notes, user=user, now=now)
    return _synced(order, locked)


def _change_after_charge(order, charge, outcome, *, lines, slot, user, expected_total, now):
    """The difference's answer recorded and, if it succeeded, the change applied, in one
    transaction. Returns (order, error to raise or None) so that the record is committed."""
    with transaction.atomic():
        locked = _lock(order)
        charge = Payment.objects.select_for_update().get(pk=charge.pk)
        error = close_difference_charge(locked, charge, outcome, now=now)
        if error is not None:
            return _synced(order, locked), error
        try:
            with transaction.atomic():
                _require_changeable(locked)
                notes = _apply_change(
                    locked, lines=lines, slot=slot, user=user, expected_total=expected_total, now=now
                )
                notes.append(_("différence de %(amount)s payée") % {"amount": euros(charge.amount)})
                _changed(locked, notes, user=user, now=now)
        except OrderError as refused:
            locked.refresh_from_db()
            give_back_difference(locked, charge, now=now)
            return _synced(order, locked), refused
        return _synced(order, locked), None


def _apply_change(locked, *, lines, slot, user, expected_total, now):
    """Change the locked order's time and/or lines (stock included); returns the notes."""
    store = locked.store
    if store is None or not store.live:
        raise OrderError(
            _("Cette pizzeria ne prend plus de commande : la commande ne peut pas être modifiée.")
        )
    notes = []
    if slot is not UNCHANGED:
        locked_counter(saved_ordering_settings(store).order_prefix, timezone.localdate(now))
        if slot is None:
            _check_open_now(store, now)
            chosen = asap_slot(store, locked.fulfilment, now, exclude_order=locked)
            if chosen is None:
                raise OrderError(_("Plus aucun créneau n'est libre : choisissez un créneau plus tard."))
        else:
            chosen = check_slot(store, locked.fulfilment, slot, now, exclude_order=locked)
        locked.asap = slot is None
        locked.slot_start = chosen.start
        locked.promised_at = chosen.promised_at
        notes.append(_("Heure modifiée"))
    if lines is not None:
        release_ingredients(store=store, order_reference=locked.number, user=_user(user), now=now)
        priced = _priced(
            store,
            lines,
            fulfilment=locked.fulfilment,
            code=locked.promotion_code,
            now=now,
            expected_total=expected_total,
            ignore_code_error=True,
            delivery=order_delivery_quote(locked),
        )
        for name, value in _amounts(priced).items():
            setattr(locked, name, value)
        locked.lines.all().delete()
        locked.discounts.all().delete()
        _write_lines(locked, priced)
        _reserve(locked, priced, user=user, now=now)
        notes.append(_("Articles modifiés"))
    return notes


def _changed(locked, notes, *, user, now):
    _bump(locked, now=now)
    _event(locked, from_status=locked.status, user=user, now=now, note=", ".join(notes))
    _email_on_commit(locked, "changed")


def expire_unpaid_orders(*, now=None):
    """Cancel the orders whose online payment did not arrive in time, releasing their stock.

    Each order is expired in its own transaction, under its lock, only if it still waits for its
    payment: running it twice, or beside a payment finishing, expires nothing twice. An order
    whose payment the provider has not settled yet (pending) is left alone. Returns how many
    orders were expired.
    """
    now = now or timezone.now()
    settle_pending_charges_of_expired_orders(now=now)
    candidates = Order.objects.filter(status=Status.PENDING_PAYMENT, expires_at__lte=now).values_list(
        "id", flat=True
    )
    expired = 0
    for order_id in list(candidates):
        with transaction.atomic():
            order = (
                Order.objects.select_for_update(of=("self",))
                .select_related("store")
                .filter(pk=order_id, status=Status.PENDING_PAYMENT, expires_at__lte=now)
                .first()
            )
            if order is None or order.payments.filter(status=Payment.Status.PENDING).exists():
                continue
            if order.store_id:
                release_ingredients(store=order.store, order_reference=order.number, now=now)
            order.cancel_reason = _("Paiement non reçu à temps")
            order.expires_at = None
            _move(order, Status.CANCELLED, user=None, now=now, note=order.cancel_reason)
            expired += 1
    return expired


# Internals -------------------------------------------------------------------------------------


def _order_for_key(key, customer):
    order = order_for_key(key)
    if order is not None and order.customer_id != getattr(customer, "pk", None):
        raise OrderError(_("Ce formulaire a déjà servi : rechargez la page."))
    return order


def _require_changeable(order):
    if order.status == Status.RECEIVED:
        return
    if order.status in (Status.PREPARING, Status.READY, Status.OUT_FOR_DELIVERY):
        raise TransitionError(
            _("La préparation de votre commande a commencé : elle ne peut plus être modifiée.")
        )
    if order.status == Status.PENDING_PAYMENT:
        raise TransitionError(_("Cette commande attend son paiement : payez-la ou annulez-la."))
    if order.status == Status.CANCELLED:
        raise TransitionError(_("Cette commande est annulée : elle ne peut plus être modifiée."))
    raise TransitionError(_("Cette commande est terminée : elle ne peut plus être modifiée."))


def _check_open_now(store, now):
    if is_open_at(store, now):
        return
    closure = closure_on(store, timezone.localdate(now))
    if closure is not None and closure.message:
        raise OrderError(
            _("La pizzeria est fermée : %(message)s Choisissez un créneau pour plus tard.")
            % {"message": closure.message}
        )
    raise OrderError(_("La pizzeria est fermée en ce moment : choisissez un créneau pour plus tard."))


def _check_payment_method(store_settings, method, source):
    if method not in Method.values:
        raise OrderError(_("Choisissez un moyen de paiement."))
    if source != Order.Source.WEB:
        return  # staff take what the customer hands over
    if method == Method.CARD_ONLINE:
        if not card_payments_online():
            raise OrderError(NO_CARD_ONLINE)
        accepted = store_settings.online_payment
    else:
        accepted = method in (store_settings.accepted_payments or [])
    if not accepted:
        raise OrderError(_("Cette pizzeria n'accepte pas ce moyen de paiement."))


def _clean_contact(contact, customer, source):
    name = (contact.name or "").strip()
    phone = (contact.phone or "").strip()
    email = (contact.email or "").strip() or (getattr(customer, "email", "") or "")
    if not name or len(name) > 150:
        raise OrderError(_("Indiquez votre nom."))
    if not PHONE_PATTERN.fullmatch(phone) or len(re.sub(r"[^0-9]", "", phone)) < 6:
        raise OrderError(_("Indiquez un numéro de téléphone valable."))
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise OrderError(_("Indiquez une adresse e-mail valable.")) from None
    elif source == Order.Source.WEB:
        raise OrderError(_("Indiquez votre adresse e-mail : nous y envoyons la confirmation."))
    return Contact(name=name, phone=phone, email=email)


def _priced(
    store,
    lines,
    *,
    fulfilment,
    code,
    now,
    expected_total,
    ignore_code_error=False,
    delivery=None,
    quoted=None,
):
    lines = list(lines)
    if _quoted_for(quoted, store=store, lines=lines, fulfilment=fulfilment, code=code, delivery=delivery):
        priced = quoted
    else:
        priced = quote(store, lines, fulfilment=fulfilment, code=code, now=now, delivery=delivery)
    if priced.code_error and not ignore_code_error:
        raise OrderError(priced.code_error)
    if priced.problems:
        raise OrderError(" ".join(str(problem) for problem in priced.problems))
    if expected_total is not None and _decimal(expected_total) != priced.total:
        raise PriceChanged(
            _("Le total a changé depuis que vous avez rempli votre panier : il est maintenant de %(total)s.")
            % {"total": euros(priced.total)},
            quote=priced,
        )
    return priced


def _quoted_for(quoted, *, store, lines, fulfilment, code, delivery):
    """Whether `quoted` (a Quote or None) prices exactly `lines` at `store` for this fulfilment,
    code and delivery band."""
    return (
        quoted is not None
        and getattr(quoted.store, "pk", None) == store.pk
        and quoted.fulfilment == fulfilment
        and quoted.code == (code or "").strip()
        and quoted.delivery == (delivery if fulfilment == Fulfilment.DELIVERY else None)
        and [line.line for line in quoted.lines] == lines
    )


def order_delivery_quote(order):
    """The delivery area's quote for a delivery order's stored coordinates (None: pickup, or an
    order placed before addresses were geocoded, priced with the store's own fee)."""
    if order.fulfilment != Fulfilment.DELIVERY or order.latitude is None or order.longitude is None:
        return None
    quote = delivery_quote(order.store, place_of(order))
    return quote if quote.covered else None  # the area changed since: the store's own fee


def _decimal(value):
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _amounts(priced):
    return {
        "subtotal": priced.subtotal,
        "discount_total": priced.discount_total,
        "delivery_fee": priced.delivery_fee,
        "total": priced.total,
    }


def _write_lines(order, priced):
    lines, discounts = _new_lines(order, priced)
    rows.insert(lines)
    rows.insert(discounts)


def _new_lines(order, priced):
    """The lines and discounts (not saved) of `order` priced as `priced`."""
    return (
        [
            OrderLine(
                order=order,
                product=line.product,
                size=line.size,
                product_name=line.product.title,
                size_name=line.size.name,
                category=line.category,
                extras=[
                    {"id": extra.id, "name": extra.name, "kind": extra.kind, "price": str(extra.price)}
                    for extra in line.extras
                ],
                quantity=line.quantity,
                unit_price=line.unit_price,
                vat_rate=line.vat_rate,
                total=line.total,
                sort_order=position,
            )
            for position, line in enumerate(priced.lines)
        ],
        [
            OrderDiscount(
                order=order,
                label=str(discount.label)[:200],
                amount=discount.amount,
                vat_rate=discount.vat_rate,
                promotion_id=discount.promotion_id,
            )
            for discount in priced.discounts
        ],
    )


def _reserve(order, priced, *, user, now, new_order=False):
    """Reserve the ingredients of `priced` under the order's number. For a `new_order` (not yet
    written), the levels are locked and the reservation checked, but what it writes is returned
    (`stores.services.UnwrittenChange`) to be written with the order."""
    try:
        return reserve_ingredients(
            store=order.store,
            lines=[(line.size, line.quantity, line.extras) for line in priced.lines],
            order_reference=order.number,
            user=_user(user),
            now=now,
            new_order=new_order,
            announced=new_order,  # `_place_order` announced it before its lock
            unwritten=new_order,
        )
    except StockError as error:
        raise OrderError(str(error)) from None
