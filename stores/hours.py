"""When a store takes orders: its ordering settings, opening intervals, closures and slots.

Pure reads. Every datetime is aware, in Europe/Paris. An opening slot whose closing time is at or
before its opening time ends after midnight, on the next day (Friday 18:00–01:00 ends Saturday
01:00): such an interval belongs to the day it starts on. Arithmetic on instants is done in UTC,
so the days when the clocks change have their real length (a slot is always 15 real minutes).
Beware: Python subtracts two datetimes of the same tzinfo by the wall clock; convert to UTC
first to measure real time across a clock change.
"""

import copy
import datetime
import re
import unicodedata
import zoneinfo

from django.db import connection
from django.db.models import prefetch_related_objects
from wagtail.models import Page

from menu import rows

from .models import OpeningHours, StoreClosure, StoreOrderingSettings, StorePage

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
SLOT_MINUTES = 15
SLOT = datetime.timedelta(minutes=SLOT_MINUTES)


def ordering_settings(store):
    """The store's saved settings, or an unsaved default instance (prefix from the slug).

    Takes the StorePage (or its plain Page). The default's prefix may be another store's: order
    numbers come from `stores.services.saved_ordering_settings`, which saves a free one.
    """
    try:
        return store.ordering_settings
    except StoreOrderingSettings.DoesNotExist:
        pass
    except AttributeError:  # a plain Page rather than the StorePage
        saved = StoreOrderingSettings.objects.filter(store_id=store.pk).first()
        if saved is not None:
            return saved
    default = StoreOrderingSettings(store_id=store.pk, order_prefix=prefix_from_name(store.slug))
    # Only the forward link is cached (`default.store` costs no query); assigning `store=`
    # would also cache the unsaved default as `store.ordering_settings`.
    StoreOrderingSettings._meta.get_field("store").set_cached_value(default, store)
    return default


def prefix_from_name(name):
    """Three uppercase letters A–Z taken from `name` ("OC Pizza Vaise" or "vaise" -> "VAI").

    A leading "OC Pizza" is skipped; the prefix is padded with X when the name is too short.
    """
    return (name_letters(name) or "X")[:3].ljust(3, "X")


def name_letters(name):
    """The letters A–Z of `name`, uppercase, without accents nor a leading "OC Pizza"."""
    ascii_name = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Z]", "", re.sub(r"^\s*oc[\s-]*pizza", "", ascii_name, flags=re.IGNORECASE).upper())


def _local(day, time):
    """The aware Europe/Paris datetime of `time` on `day` (a time skipped by the spring change
    is taken with the winter offset, that is one hour later on the clock: 02:30 -> 03:30)."""
    return datetime.datetime.combine(day, time, tzinfo=PARIS).astimezone(datetime.UTC).astimezone(PARIS)


def with_hours(store):
    """`store` holding its opening hours and closures, read once (one query): placing an order
    asks `is_open_at`, `slot_starts` and `closure_on` about many days, each a query otherwise.

    A StorePage that already holds both (a listing, or an earlier call) comes back as is; else a
    copy is returned, so that a store instance kept by the caller never holds hours read earlier.
    Anything else (a plain Page) comes back unchanged.
    """
    if not isinstance(store, StorePage):
        return store
    cached = getattr(store, "_prefetched_objects_cache", {})
    if "opening_hours" in cached and "closures" in cached:
        return store
    loaded = copy.copy(store)
    loaded._prefetched_objects_cache = {
        name: value for name, value in cached.items() if name not in ("opening_hours", "closures")
    }
    _hold_hours(loaded)
    return loaded


def read_store_for_order(store_id):
    """The live StorePage `store_id` with its ordering settings, opening hours and closures, or
    None: what `StorePage.objects.live().select_related("ordering_settings")` then `with_hours`
    give, in two hand-written queries instead of three built by the ORM (a cart's store is read
    so by every order placed; the ORM took 1.5 ms to build the first). Every field is read."""
    page_names = [field.attname for field in StorePage._meta.concrete_fields]
    settings_names = [field.attname for field in StoreOrderingSettings._meta.concrete_fields]
    pages, page_id, live = rows.names(Page, "id", "live")
    stores, ptr = rows.names(StorePage, "page_ptr")
    settings_table, settings_store = rows.names(StoreOrderingSettings, "store")
    # Names from the models' options, quoted; values are parameters.
    sql = (
        f"SELECT {rows.select_list(StorePage, page_names, {Page: 'p', StorePage: 's'})}, "  # noqa: S608
        f"{rows.select_list(StoreOrderingSettings, settings_names, 'o')} "
        f"FROM {pages} p JOIN {stores} s ON s.{ptr} = p.{page_id} "
        f"LEFT JOIN {settings_table} o ON o.{settings_store} = p.{page_id} "
        f"WHERE p.{page_id} = %s AND p.{live} = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [store_id, True])
        row = cursor.fetchone()
    if row is None:
        return None
    store = rows.instance(StorePage, page_names, row[: len(page_names)])
    settings_row = row[len(page_names) :]
    settings = None
    if settings_row[0] is not None:
        settings = rows.instance(StoreOrderingSettings, settings_names, settings_row)
    relation = StorePage.ordering_settings.related  # cached both ways, as select_related does
    relation.set_cached_value(store, settings)
    if settings is not None:
        relation.field.set_cached_value(settings, store)
    _hold_hours(store)  # a new instance: no copy needed (see with_hours)
    return store


HOUR_FIELDS = ("id", "sort_order", "store_id", "weekday", "opens", "closes")
CLOSURE_FIELDS = ("id", "store_id", "starts_on", "ends_on", "message")


def _hold_hours(store):
    """Read the store's hours and closures (one query) into `store`, as a prefetch of both."""
    hours, closures = _read_hours(store.pk)
    rows.prefetched(store, "opening_hours", hours)
    rows.prefetched(store, "closures", closures)


def _read_hours(store_id):
    """([OpeningHours], [StoreClosure]) of the store, in their models' order, in one query written
    by hand: the two prefetches it replaces cost a store's checkout 1.2 ms of ORM for 0.3 of
    PostgreSQL (docs/performance.md)."""
    hour_columns = rows.select_list(OpeningHours, HOUR_FIELDS, "h")
    closure_columns = rows.select_list(StoreClosure, CLOSURE_FIELDS, "c")
    blank_hours = ", ".join(["NULL"] * len(HOUR_FIELDS))
    blank_closures = ", ".join(["NULL"] * len(CLOSURE_FIELDS))
    hours_table, hours_store = rows.names(OpeningHours, "store")
    closures_table, closures_store = rows.names(StoreClosure, "store")
    # Names from the models' options, quoted; the store's id is a parameter.
    sql = (
        f"SELECT 0, {hour_columns}, {blank_closures} FROM {hours_table} h "  # noqa: S608
        f"WHERE h.{hours_store} = %s UNION ALL "
        f"SELECT 1, {blank_hours}, {closure_columns} FROM {closures_table} c WHERE c.{closures_store} = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [store_id, store_id])
        found = cursor.fetchall()
    width = len(HOUR_FIELDS)
    hours = [rows.instance(OpeningHours, HOUR_FIELDS, row[1 : 1 + width]) for row in found if row[0] == 0]
    closures = [rows.instance(StoreClosure, CLOSURE_FIELDS, row[1 + width :]) for row in found if row[0] == 1]
    hours.sort(key=lambda hour: (hour.sort_order is None, hour.sort_order or 0, hour.pk))
    closures.sort(key=lambda closure: (closure.starts_on, closure.pk))
    return hours, closures


def _hours_of(store):
    # Uses a prefetch when the caller made one (StoreQuerySet.for_listing).
    if isinstance(store, StorePage):
        return list(store.opening_hours.all())
    return list(OpeningHours.objects.filter(store_id=store.pk))


def opening_intervals(store, day):
    """The (opens, closes) intervals that start on `day`, in order; one that ends after midnight
    closes on the next day. Closures are not taken off (see `closure_on`)."""
    intervals = []
    for slot in _hours_of(store):
        if slot.weekday != day.weekday():
            continue
        end_day = day + datetime.timedelta(days=1) if slot.closes <= slot.opens else day
        start, end = _local(day, slot.opens), _local(end_day, slot.closes)
        if end.astimezone(datetime.UTC) > start.astimezone(datetime.UTC):
            intervals.append((start, end))
    return sorted(intervals, key=lambda interval: interval[0].astimezone(datetime.UTC))


def closure_on(store, day):
    """The exceptional closure covering `day`, or None (read from a prefetch of `closures`
    when the caller made one, as `StoreQuerySet.for_listing` does)."""
    prefetched = getattr(store, "_prefetched_objects_cache", {}).get("closures")
    if prefetched is not None:
        covering = [c for c in prefetched if c.starts_on <= day <= c.ends_on]
        return min(covering, key=lambda c: (c.starts_on, c.id), default=None)
    return StoreClosure.objects.filter(store=store).on(day).order_by("starts_on", "id").first()


def is_open_at(store, at):
    """True when `at` falls inside an opening interval started that day or the day before, and
    no closure covers the day that interval started on."""
    utc = at.astimezone(datetime.UTC)
    today = at.astimezone(PARIS).date()
    for day in (today - datetime.timedelta(days=1), today):
        for start, end in opening_intervals(store, day):
            if (
                start.astimezone(datetime.UTC) <= utc < end.astimezone(datetime.UTC)
                and closure_on(store, day) is None
            ):
                return True
    return False


def slot_starts(store, day):
    """Every 15-minute slot start in the intervals starting on `day` (on the quarter hours; a
    slot ends by its interval's end); none on a closure day."""
    return [moment.astimezone(PARIS) for moment in slot_moments(store, day)]


def slot_moments(store, day):
    """`slot_starts` in UTC, in order: what a caller comparing moments needs (Python compares
    same-tzinfo datetimes by the wall clock)."""
    intervals = opening_intervals(store, day)
    if not intervals or closure_on(store, day) is not None:
        return []
    starts = []  # in UTC: Python compares same-tzinfo datetimes by the wall clock
    for start, end in intervals:
        moment = _round_up_to_slot(start.astimezone(datetime.UTC))
        end = end.astimezone(datetime.UTC)
        while moment + SLOT <= end:
            if not starts or moment > starts[-1]:  # two overlapping intervals give each slot once
                starts.append(moment)
            moment += SLOT
    return starts


def _round_up_to_slot(moment):
    """`moment` (UTC) rounded up to the next quarter hour (Paris offsets are whole hours)."""
    floor = moment.replace(minute=moment.minute - moment.minute % SLOT_MINUTES, second=0, microsecond=0)
    return floor if floor == moment else floor + SLOT


# How far `next_opening` looks: an exceptional closure may last weeks (works), not a year.
NEXT_OPENING_DAYS = 92


def next_opening(store, now):
    """When the store next opens after `now` (an aware datetime, Europe/Paris), or None when it
    has no opening within `NEXT_OPENING_DAYS` days (no hours at all, or a long closure).

    The start of the first opening interval after `now` on a day no closure covers; while the
    store is open, that is the interval after the current one.
    """
    utc = now.astimezone(datetime.UTC)
    today = now.astimezone(PARIS).date()
    if isinstance(store, StorePage):
        # Read hours and closures once, not once per day looked at (a listing already did).
        cached = getattr(store, "_prefetched_objects_cache", {})
        missing = [name for name in ("opening_hours", "closures") if name not in cached]
        if missing:
            prefetch_related_objects([store], *missing)
    if not _hours_of(store):
        return None
    for offset in range(NEXT_OPENING_DAYS + 1):
        day = today + datetime.timedelta(days=offset)
        for start, _end in opening_intervals(store, day):
            if start.astimezone(datetime.UTC) > utc and closure_on(store, day) is None:
                return start
    return None
