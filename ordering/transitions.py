"""The steps every transition of an order shares: lock it, check its status, move it, bump its
version, write its `OrderEvent`, schedule its e-mail after commit.

Used by `ordering.services` (the order's life) and `ordering.money` (its payments); not an API of
its own.
"""

import re

from django.utils.translation import gettext as _

from menu import outbox, rows

from .exceptions import OrderError, TransitionError
from .models import Order, OrderEvent, Payment
from .tasks import send_order_email, send_placed_order_confirmation

KEY_PATTERN = re.compile(r"[A-Za-z0-9_.:-]{8,64}")


def _idempotency_key(value):
    value = value.strip() if isinstance(value, str) else ""
    if not KEY_PATTERN.fullmatch(value):
        raise OrderError(_("Ce formulaire n'est pas valable : rechargez la page."))
    return value


def _lock(order):
    """The order read again under its row lock (the caller's copy may be stale)."""
    return Order.objects.select_for_update(of=("self",)).select_related("store").get(pk=order.pk)


def _synced(order, locked, result=None):
    """Copy the locked row's fields onto the caller's instance; return `result` or the order."""
    if order is not locked:
        for field in Order._meta.concrete_fields:
            setattr(order, field.attname, getattr(locked, field.attname))
        for cache in ("lines", "discounts", "payments", "events"):
            getattr(order, "_prefetched_objects_cache", {}).pop(cache, None)
    return order if result is None else result


def _require(order, allowed, message):
    if order.status not in allowed:
        raise TransitionError(
            message % {"number": order.number, "status": order.get_status_display().lower()}
        )


def _refuse_while_charge_pending(order):
    """A charge the provider has not settled yet may still succeed: no second charge, no cancel."""
    if order.payments.filter(kind=Payment.Kind.CHARGE, status=Payment.Status.PENDING).exists():
        raise TransitionError(
            _("Votre paiement est en cours de confirmation par la banque : réessayez dans quelques minutes.")
        )


def _bump(order, *, now):
    order.version += 1
    order.updated_at = now
    order.save()


def _move(order, to_status, *, user, now, note=""):
    from_status = order.status
    order.status = to_status
    _bump(order, now=now)
    _event(order, from_status=from_status, user=user, now=now, note=note)


def _event(order, *, from_status, user, now, note=""):
    # `OrderEvent.objects.create`, from a statement built once (every order changed writes one).
    (event,) = rows.insert(
        [new_event(order, from_status=from_status, user=user, now=now, note=note)], signals=True
    )
    return event


def new_event(order, *, from_status, user, now, note=""):
    """The event (not saved) saying `order` moved from `from_status` to its status."""
    return OrderEvent(
        order=order,
        from_status=from_status,
        to_status=order.status,
        user=_user(user),
        created_at=now,
        note=(note or "")[:255],
    )


def _user(user):
    return user if user is not None and user.is_authenticated else None


def _email_on_commit(order, kind):
    """E-mail `order`'s contact about `kind` once the current transaction commits, never if it is
    rolled back: in production the task's row is written in the transaction (an outbox), so a
    worker killed right after the commit loses no e-mail (menu/outbox.py)."""
    outbox.enqueue_with_commit(send_order_email, order.pk, kind)


def queue_confirmation(order):
    """Queue the confirmation of `order`, new and not yet written, in the current transaction, if
    tasks are queued in this database (production's `django_tasks_db`); True if it was.

    The task's row then commits with the order or not at all (an outbox): a worker killed between
    the order's commit and an enqueue after it loses no e-mail, and the row is one statement of
    the order's transaction instead of a transaction of its own after the commit. It is written
    before the placing lock, so it names the order by its idempotency key: the number and the
    primary key are not known yet. False (nothing queued) where tasks run at once (development
    and tests): the caller then sends it after the commit (`_email_on_commit`), as the order
    does not exist before."""
    return outbox.enqueue_in_transaction(send_placed_order_confirmation, order.idempotency_key)
