"""What the staff boards read: their orders, and their state for the live polls (an ETag).

A board's page carries the ETag of its state; `static/js/live.js` asks the board's status URL
with it every second or so and fetches the board again only when the answer is not 304. The
state must change whenever an order of the board changes or enters or leaves it, also when two
transactions commit out of order, so it is not a timestamp: it is the count of the board's
candidate orders, their highest id and the sum of their versions (`Order.version` goes up by one
in the same transaction as every change of an order). Orders only enter the candidates as new
rows (a higher id) or from a status already among them, versions only go up, and an order leaving
lowers the count: no change can leave all three as they were. The current minute is added, so
that what depends on the clock (late flags, the undo buttons' delay) is redrawn at least once a
minute.

The polls do not compute that state while the cache holds the store's *version*: a random token
replaced whenever an order of the store is saved or deleted (`orders_changed`, wired to the
`Order` signals in `ordering.apps`), at once inside the writer's transaction and again after its
commit, the way `ocpizza.pagecache` bumps its generation (its helper cannot be imported from here:
`ocpizza` is the layer above); a new order's placing writes it after its commit only
(`announce_new_order`). The ETag is then the version and the minute, signed with the
browser's session cookie, so a poll costs the session, the user and the access check — and one
that already holds the current ETag only the read of the version (`unchanged_etag`: a 304 before
the access check, which tells that browser nothing new). The page reads the version *before* its
orders, so a rendering that read them before a change committed carries a version the commit
replaced. Without
a version — `settings.BOARD_VERSIONS` off (no shared cache), the cache down or refusing writes,
or a change this process could not record (it stops using versions until the write succeeds,
retried at most every `RETRY_SECONDS`) — the ETag is computed from the orders as above. The one
gap: while a write fails in one process only, the others may answer 304 from the old version
until their minute ends.
"""

import datetime
import logging
import secrets
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, IntegerField, Max, OuterRef, Prefetch, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.crypto import salted_hmac

from stores.models import StorePage

from .access import DELIVERY_BOARD, KITCHEN_BOARD, screen_access, screen_access_now
from .models import Order, OrderEvent
from .services import KITCHEN_UNDO_DELAY, kitchen_undo

Status = Order.Status
logger = logging.getLogger(__name__)

# The kitchen board's columns, in order, and the orders that may change it: those on it and the
# card orders waiting for their payment (paid, they enter it as received).
KITCHEN_COLUMNS = [Status.RECEIVED, Status.PREPARING, Status.READY]
KITCHEN_CANDIDATES = [Status.PENDING_PAYMENT, *KITCHEN_COLUMNS]

# A ticket still to be made is flagged "bientôt" this long before its promised time (about the
# time a pizza takes from the bench to the counter), and "en retard" once that time has passed.
KITCHEN_SOON = datetime.timedelta(minutes=10)


@dataclass(frozen=True)
class BoardState:
    allowed: bool
    etag: str


# The versions of the boards ----------------------------------------------------------------------

RETRY_SECONDS = 5
_pending_versions = set()  # stores whose change this process could not record
_last_failure = [float("-inf")]  # when a write of a version last failed (monotonic)


def board_version_key(store_id):
    return f"boards:store:{store_id}:version"


def versions_enabled():
    """`settings.BOARD_VERSIONS`: on with a cache every process shares (Redis), off without one (a
    change recorded in one Gunicorn worker's own cache would not reach the polls of another)."""
    return settings.BOARD_VERSIONS


def orders_changed(store_id, *, at_once=True):
    """An order of store `store_id` was saved or deleted: replace the version of its boards, now
    (unless `at_once` is false: `announce_new_order`) and again once the current transaction
    commits. Never raises: a cache that refuses the write must not cost a sale."""
    if store_id is None or not versions_enabled():
        return
    if at_once:
        _new_version(store_id)
    transaction.on_commit(lambda: _new_version(store_id), robust=True)


def _new_version(store_id):
    _pending_versions.add(store_id)  # until the write below is known to have happened
    if time.monotonic() - _last_failure[0] < RETRY_SECONDS:
        return
    # The fail-soft cache's `set` skips a write while Redis is down, and a skipped write would leave
    # the old version in place: its `set_or_raise` raises instead (other caches' `set` raises when
    # it fails). A Redis that refuses the write (memory full, read-only) raises too: that must not
    # cost a sale.
    refused = False
    try:
        getattr(cache, "set_or_raise", cache.set)(
            board_version_key(store_id), secrets.token_hex(8), timeout=None
        )
    except Exception:
        logger.exception("boards: the cache refused a version (store %s)", store_id)
        refused = True
    if refused:
        _last_failure[0] = time.monotonic()
        logger.error("boards: a change of the boards could not be recorded (store %s)", store_id)
        return
    _pending_versions.discard(store_id)


def order_saved_or_deleted(sender, instance, created=False, **kwargs):
    """`post_save` and `post_delete` of `Order` (an order never moves to another store).

    A new order whose placing announced it (`announce_new_order`, before the placing lock) is not
    written now: the write after its commit, which placing registered, stands for it.
    """
    if created and getattr(instance, ANNOUNCED, False):
        return
    orders_changed(instance.store_id)


ANNOUNCED = "_boards_announced"


def announce_new_order(order):
    """The unsaved `order` will be inserted in the current transaction: replace its store's
    version once the transaction commits, and mark the order so that its insert's `post_save`
    writes nothing more.

    Not at once as well, as `orders_changed` does for other changes: each answer of a poll is keyed
    by the version read before the poll read the orders, so an answer computed before the commit
    is keyed by a version the write after the commit replaces. Between the commit and that write
    (a moment), a poll may still answer 304, as it may after a write before the commit too (from
    that version); its next poll shows the order. Placing calls it before the store's placing lock
    (ordering.services): under load a round trip to Redis is one of the longest waits of an order
    (docs/performance.md).
    """
    orders_changed(order.store_id, at_once=False)
    setattr(order, ANNOUNCED, True)


def retry_now():
    """Let the next use retry at once the writes this process could not make (another cache is
    in use): the changes stay pending until written, so an old version is never trusted again."""
    _last_failure[0] = float("-inf")


def forget_failures():
    """Start again with no failed write on record (the cache in use was replaced: tests)."""
    _pending_versions.clear()
    _last_failure[0] = float("-inf")


def current_version(store_id):
    """The version of store `store_id`'s boards (created if there is none), or None when it cannot
    be trusted: versions are off, the cache is down or refuses writes, or a change this process
    could not record is still waiting. Call it only for a store that exists: it creates the key."""
    if not versions_enabled():
        return None
    if store_id in _pending_versions:
        _new_version(store_id)
        if store_id in _pending_versions:
            return None
    key = board_version_key(store_id)
    try:
        version = cache.get(key)
        if version is None:
            version = secrets.token_hex(8)
            if not cache.add(key, version, timeout=None):
                version = cache.get(key)  # another process set it first (None while Redis is down)
    except Exception:
        logger.exception("boards: the cache could not give the version (store %s)", store_id)
        return None
    return version


def versioned_etag(name, store_id, version, *, now=None, holder=""):
    """The ETag from the version: the board, store, version and minute, signed with `holder`, the
    poll's session cookie (`poll_holder`), so that no other browser, store or minute can be
    written from it (`unchanged_etag`)."""
    minute = int((now or timezone.now()).timestamp() // 60)
    state = f"{name}-{store_id}-v{version}-{minute}"
    signature = salted_hmac("ordering.boards.poll", f"{state}:{holder or ''}").hexdigest()[:16]
    return f'"{state}-{signature}"'


def poll_holder(request):
    """Who holds a board's ETag: the session cookie's value (read without loading the session)."""
    return request.COOKIES.get(settings.SESSION_COOKIE_NAME, "")


def unchanged_etag(name, store_id, held, *, now=None, holder=""):
    """The current ETag of `name`'s board of store `store_id` if the poll holds it (`held`, the
    ETags of its If-None-Match), else None: then check access and compute the state.

    Such a poll is answered 304 before any access check, with no query: a 304 tells only that
    the board is as this browser last saw it. Its ETag holds the store's random version, which
    only an answer to someone who could open one of the store's boards gave, and the current
    minute; the whole is signed with the browser's session cookie. So an ETag copied into another
    browser or kept after a logout, or rewritten for another store, board or minute, matches
    nothing; and once the minute ends the poll is checked as any other: a member removed from the
    store is refused within a minute, and learns nothing meanwhile. (A session ended on the
    server whose cookie the browser still sends is answered the same way until the minute ends.)"""
    if not held or not versions_enabled() or store_id in _pending_versions:
        return None
    try:
        version = cache.get(board_version_key(store_id))
    except Exception:
        logger.exception("boards: the cache could not give the version (store %s)", store_id)
        return None
    if version is None:
        return None
    etag = versioned_etag(name, store_id, version, now=now, holder=holder)
    return etag if etag in held else None


# Their states ------------------------------------------------------------------------------------


def board_state(user, store_id, *, permission, statuses, name, now=None, holder=""):
    """The state of `name`'s board of store `store_id` for `user`, in one query: whether the user
    may open it (`ordering.access.screen_access`) and its ETag — from the version of the store's
    boards, or else over the orders of `statuses`. None for a store that does not exist."""
    if versions_enabled():
        # Access first: a poll of a store that does not exist, or by someone who may not open it,
        # never writes a version into the cache.
        found, allowed = screen_access_now(user, permission, store_id)
        if not found:
            return None
        if not allowed:
            return BoardState(allowed=False, etag="")
        version = current_version(store_id)
        if version is not None:
            return BoardState(
                allowed=True, etag=versioned_etag(name, store_id, version, now=now, holder=holder)
            )
    orders = Order.objects.filter(store_id=OuterRef("pk"), status__in=statuses).order_by().values("store_id")

    def aggregate(expression):
        return Coalesce(
            Subquery(orders.annotate(value=expression).values("value")[:1]),
            Value(0),
            output_field=IntegerField(),
        )

    row = (
        StorePage.objects.filter(pk=store_id)
        .annotate(
            allowed=screen_access(user, permission, store_id),
            order_count=aggregate(Count("id")),
            top_id=aggregate(Max("id")),
            versions=aggregate(Sum("version")),
        )
        .values("allowed", "order_count", "top_id", "versions")
        .first()
    )
    if row is None:
        return None
    return BoardState(allowed=bool(row["allowed"]), etag=board_etag(name, store_id, row, now=now))


def board_etag(name, store_id, row, *, now=None):
    """The ETag of a board from its aggregates (`order_count`, `top_id`, `versions`)."""
    minute = int((now or timezone.now()).timestamp() // 60)
    return f'"{name}-{store_id}-{row["order_count"]}-{row["top_id"]}-{row["versions"]}-{minute}"'


def store_board_etag(store, *, statuses, name, now=None, holder=""):
    """The ETag of `name`'s board of `store` (for the page; `board_state` answers the polls), read
    before the board's orders."""
    version = current_version(store.id)
    if version is not None:
        return versioned_etag(name, store.id, version, now=now, holder=holder)
    row = Order.objects.filter(store=store, status__in=statuses).aggregate(
        order_count=Count("id"), top_id=Max("id"), versions=Sum("version")
    )
    return board_etag(name, store.id, {key: value or 0 for key, value in row.items()}, now=now)


def kitchen_etag(store, *, now=None, holder=""):
    return store_board_etag(store, statuses=KITCHEN_CANDIDATES, name="kitchen", now=now, holder=holder)


def kitchen_state(user, store_id, *, now=None, holder=""):
    """The kitchen board's `BoardState` (one query)."""
    return board_state(
        user,
        store_id,
        permission=KITCHEN_BOARD,
        statuses=KITCHEN_CANDIDATES,
        name="kitchen",
        now=now,
        holder=holder,
    )


# The kitchen board -------------------------------------------------------------------------------


@dataclass
class Ticket:
    order: Order
    late: bool
    soon: bool
    undo: str | None  # the service that would undo the last tap, if it still may be undone

    @property
    def lines(self):
        return self.order.lines.all()


@dataclass
class Column:
    status: str
    label: str
    tickets: list = field(default_factory=list)


def kitchen_orders(store, *, now=None):
    """The orders on `store`'s kitchen board with their lines and their events of the undo delay,
    oldest promised time first (three queries whatever their number)."""
    now = now or timezone.now()
    recent = OrderEvent.objects.filter(created_at__gte=now - KITCHEN_UNDO_DELAY).order_by("created_at", "id")
    return (
        Order.objects.for_store(store)
        .filter(status__in=KITCHEN_COLUMNS)
        .order_by("promised_at", "created_at", "id")
        .prefetch_related("lines", Prefetch("events", queryset=recent, to_attr="recent_events"))
    )


def kitchen_board(store, *, now=None):
    """The kitchen board of `store`: its columns (received, preparing, ready) of tickets."""
    now = now or timezone.now()
    columns = {status: Column(status=status, label=Status(status).label) for status in KITCHEN_COLUMNS}
    for order in kitchen_orders(store, now=now):
        to_make = order.status in (Status.RECEIVED, Status.PREPARING)
        last = order.recent_events[-1] if order.recent_events else None
        columns[order.status].tickets.append(
            Ticket(
                order=order,
                late=to_make and order.promised_at < now,
                soon=to_make and now <= order.promised_at <= now + KITCHEN_SOON,
                undo=kitchen_undo(order, last, now=now),
            )
        )
    return list(columns.values())


# The delivery board ------------------------------------------------------------------------------

# The delivery board shows ready and out-for-delivery orders; its candidates are every order still
# open, so that an order can only enter them as a new row (a higher id): orders reaching « prête »
# come from a status already counted. Driver assignments bump the version like every change.
DELIVERY_CANDIDATES = [
    Status.PENDING_PAYMENT,
    Status.RECEIVED,
    Status.PREPARING,
    Status.READY,
    Status.OUT_FOR_DELIVERY,
]


def delivery_board_etag(store, *, now=None, holder=""):
    """The ETag of `store`'s delivery board and of its drivers' phone views (one query)."""
    return store_board_etag(store, statuses=DELIVERY_CANDIDATES, name="delivery", now=now, holder=holder)


def delivery_board_poll(user, store_id, *, now=None, holder=""):
    """(found, allowed, etag) for a poll of `store_id`'s delivery board by `user`, in one query."""
    state = board_state(
        user,
        store_id,
        permission=DELIVERY_BOARD,
        statuses=DELIVERY_CANDIDATES,
        name="delivery",
        now=now,
        holder=holder,
    )
    if state is None:
        return False, False, None
    return True, state.allowed, state.etag


def delivery_orders(store):
    """The orders on `store`'s delivery board: ready (delivery and pickup) and out for delivery,
    oldest promise first, with their driver, lines and payments (a fixed number of queries)."""
    return (
        Order.objects.filter(store=store, status__in=[Status.READY, Status.OUT_FOR_DELIVERY])
        .select_related("driver")
        .prefetch_related("lines", "payments")
        .order_by("promised_at", "id")
    )
