"""When an order can be ready: 15-minute kitchen slots, their capacity, and "as soon as possible".

A slot is a quarter of an hour in which the kitchen finishes orders (`Order.slot_start`); each
store takes at most `slot_capacity` orders per slot (orders not cancelled count). A pickup order
is promised at its slot's start; a delivery order `delivery_minutes` later. A slot can be chosen
when it starts at least `lead_time_minutes` from now, inside the opening hours (`stores.hours`,
closures excluded), with capacity left.
"""

import datetime
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from menu import rows
from stores.hours import (
    PARIS,
    SLOT,
    SLOT_MINUTES,
    closure_on,
    opening_intervals,
    ordering_settings,
    slot_moments,
    slot_starts,
)

from .exceptions import OrderError
from .models import Order

MAX_DAYS_AHEAD = 7  # a slot may be chosen up to a week ahead
ASAP_DAYS = 2  # the slots offered, and those "as soon as possible" looks among: today and tomorrow


@dataclass(frozen=True)
class Slot:
    start: datetime.datetime  # the kitchen slot (Order.slot_start)
    promised_at: datetime.datetime  # when the customer gets the order
    remaining: int  # orders the slot can still take


def promised_time(store, fulfilment, start, settings=None):
    """When an order finished in the slot `start` reaches the customer."""
    settings = settings or ordering_settings(store)
    if fulfilment == Order.Fulfilment.DELIVERY:
        # Added in UTC: an aware datetime's own arithmetic follows the wall clock, which is an hour
        # off across a change of time.
        return _later(start, minutes=settings.delivery_minutes)
    return start


def _later(moment, *, minutes):
    """`moment` plus `minutes` of elapsed time, in Paris time."""
    return (moment.astimezone(datetime.UTC) + datetime.timedelta(minutes=minutes)).astimezone(PARIS)


def _earliest(now, settings):
    """The first moment (UTC) a slot may start at: now plus the kitchen's lead time."""
    return now.astimezone(datetime.UTC) + datetime.timedelta(minutes=settings.lead_time_minutes)


def slot_load(store, starts, *, exclude_order=None):
    """{slot start in UTC: number of orders not cancelled in it} for `starts`, in one query.

    Keyed in UTC: two Paris times of the hour the clocks go back (02:15 CEST and 02:15 CET) are
    equal to Python, and never equal to a time of another zone.

    The query reads the range from the first start to the last, not the list of starts: two days
    of quarter hours made an IN of about 150 timestamps, whose compilation was most of the query's
    cost (1.7 → 0.85 ms on PostgreSQL, the bench's store). A slot in the range but not in `starts`
    is left out.
    """
    if not starts:
        return {}
    wanted = {start.astimezone(datetime.UTC) for start in starts}
    adapt = connection.ops.adapt_datetimefield_value
    table, id_, store_, slot, status = rows.names(Order, "id", "store", "slot_start", "status")
    params = [store.pk, adapt(min(wanted)), adapt(max(wanted)), str(Order.Status.CANCELLED)]
    other = ""
    if exclude_order is not None:
        other = f" AND {id_} <> %s"
        params.append(exclude_order.pk)
    # Hand-written (every order placed as soon as possible asks, under the placing lock): the ORM
    # took 0.8 ms to build it. Names from the model's options, quoted; values are parameters.
    sql = (
        f"SELECT {slot}, COUNT(*) FROM {table} WHERE {store_} = %s "  # noqa: S608
        f"AND {slot} >= %s AND {slot} <= %s AND {status} <> %s{other} GROUP BY {slot}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    load = {}
    for raw, count in found:
        start = rows.value(Order, "slot_start", raw).astimezone(datetime.UTC)
        if start in wanted:
            load[start] = count
    return load


def available_slots(store, fulfilment, now=None, days=ASAP_DAYS, *, exclude_order=None):
    """The slots a customer can choose from now on, over `days` days (today first), each with
    capacity left. `exclude_order` is left out of the counts (an order moving to another slot)."""
    now = timezone.localtime(now or timezone.now())
    settings = ordering_settings(store)
    starts = _candidate_moments(store, now, settings, days)
    load = slot_load(store, starts, exclude_order=exclude_order)
    return [
        _slot(store, fulfilment, moment, remaining, settings)
        for moment in starts
        if (remaining := settings.slot_capacity - load.get(moment, 0)) > 0
    ]


def _candidate_moments(store, now, settings, days):
    """The slot starts (UTC, in order) from now + the lead time, over `days` days."""
    earliest = _earliest(now, settings)
    today = now.date()
    starts = set()  # in UTC, compared and sorted as moments (not as Paris wall-clock times)
    # An interval that started yesterday may run past midnight into today.
    for offset in range(-1, days):
        starts.update(
            moment
            for moment in slot_moments(store, today + datetime.timedelta(days=offset))
            if moment >= earliest
        )
    return sorted(starts)


def _slot(store, fulfilment, moment, remaining, settings):
    start = moment.astimezone(PARIS)
    return Slot(
        start=start, promised_at=promised_time(store, fulfilment, start, settings), remaining=remaining
    )


def asap_starts(store, now=None):
    """The slot starts "as soon as possible" chooses from at `now` (`asap_slot`'s `starts`)."""
    now = timezone.localtime(now or timezone.now())
    return _candidate_moments(store, now, ordering_settings(store), ASAP_DAYS)


def asap_slot(store, fulfilment, now=None, *, exclude_order=None, slots=None, starts=None):
    """The first slot with capacity left at or after now + the kitchen's lead time, within the
    opening under way (None when closed now, or when the kitchen cannot make it before closing:
    "as soon as possible" never means the next opening). `slots`: what `available_slots` just
    gave for the same store, fulfilment and moment (not read again). `starts`: what
    `asap_starts` gave for the same store and moment, worked out before the placing lock was
    taken (only their load is read under it)."""
    now = timezone.localtime(now or timezone.now())
    if slots is None:
        first = _first_free_slot(store, fulfilment, now, exclude_order, starts)
    else:
        first = slots[0] if slots else None
    if first is None or not _open_from_until(store, now, first.start.astimezone(datetime.UTC) + SLOT):
        return None
    return first


def _first_free_slot(store, fulfilment, now, exclude_order, starts=None):
    """`available_slots(…)[0]` (or None) without making the others: every order placed as soon
    as possible asks, under the placing lock, and two days hold about 190 slots."""
    settings = ordering_settings(store)
    if starts is None:
        starts = _candidate_moments(store, now, settings, ASAP_DAYS)
    load = slot_load(store, starts, exclude_order=exclude_order)
    for moment in starts:
        if (remaining := settings.slot_capacity - load.get(moment, 0)) > 0:
            return _slot(store, fulfilment, moment, remaining, settings)
    return None


def _open_from_until(store, now, until):
    """Whether the store is open from `now` until `until` without a break (an opening that the
    next one follows within a slot runs on: 00:00–23:59 every day never closes)."""
    moment = now.astimezone(datetime.UTC)
    closes = None
    for day in (now.date() - datetime.timedelta(days=1), now.date()):
        for start, end in _open_intervals(store, day):
            if start <= moment < end:
                closes = max(closes or end, end)
    while closes is not None and closes < until:
        day = closes.astimezone(PARIS).date()
        following = [
            end
            for next_day in (day, day + datetime.timedelta(days=1))
            for start, end in _open_intervals(store, next_day)
            if start <= closes + SLOT and end > closes
        ]
        closes = max(following, default=None)
    return closes is not None


def _open_intervals(store, day):
    """The intervals starting on `day` in UTC, none on a closure day."""
    if closure_on(store, day) is not None:
        return []
    return [
        (start.astimezone(datetime.UTC), end.astimezone(datetime.UTC))
        for start, end in opening_intervals(store, day)
    ]


def asap_time(store, fulfilment, now=None, *, slots=None):
    """The time promised to an order placed now "as soon as possible" (None if none can be)."""
    slot = asap_slot(store, fulfilment, now, slots=slots)
    return slot.promised_at if slot else None


def check_slot(store, fulfilment, start, now=None, *, exclude_order=None):
    """The Slot starting at `start` if a customer can choose it now; else raises OrderError saying
    why (past or too near, too far ahead, store closed or not a slot start, full)."""
    now = timezone.localtime(now or timezone.now())
    if not isinstance(start, datetime.datetime) or timezone.is_naive(start):
        raise OrderError(_("Choisissez un créneau dans la liste."))
    start = timezone.localtime(start)
    settings = ordering_settings(store)
    if start.astimezone(datetime.UTC) < _earliest(now, settings):
        raise OrderError(_("Ce créneau est passé ou trop proche : choisissez-en un autre."))
    if (start.date() - now.date()).days > MAX_DAYS_AHEAD:
        raise OrderError(_("Ce créneau est trop lointain : choisissez-en un autre."))
    day = start.date()
    if start not in slot_starts(store, day) and start not in slot_starts(
        store, day - datetime.timedelta(days=1)
    ):
        closure = closure_on(store, day)
        if closure is not None:
            raise OrderError(
                _("La pizzeria est fermée ce jour-là : %(message)s") % {"message": closure.message}
                if closure.message
                else _("La pizzeria est fermée ce jour-là.")
            )
        raise OrderError(_("La pizzeria est fermée à cette heure-là : choisissez un autre créneau."))
    load = slot_load(store, [start], exclude_order=exclude_order)
    remaining = settings.slot_capacity - load.get(start.astimezone(datetime.UTC), 0)
    if remaining <= 0:
        raise OrderError(_("Ce créneau est complet : choisissez-en un autre."))
    return Slot(
        start=start, promised_at=promised_time(store, fulfilment, start, settings), remaining=remaining
    )


__all__ = ["SLOT_MINUTES", "Slot", "asap_slot", "asap_time", "available_slots", "check_slot", "slot_load"]
