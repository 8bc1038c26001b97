"""What every storefront page reads of the catalogue, read once per content generation per process.

A store's menu is drawn again after each sale at that store (the page cache drops it), and every
page is drawn for each view of a visitor with a cart or an account (the page cache passes them
by). Each such drawing read the same catalogue again: the menu's products with their sizes, photos,
recipes and extras, the live stores, the header's links. None of that changes with a sale.

The page cache (`ocpizza.pagecache`) keeps a *generation* token that every change of content
replaces: a save or delete of a page, an image, a site, a setting or any model of `home`, `menu`
or `stores`, publishing and unpublishing included. Its middleware reads the token before a page is
drawn and hands it over with `set_generation(request, token)`. `kept(request, key, build)` then
returns what `build()` gave for `key` under that same token in this process, and calls `build()`
only for a token or a key it has not seen. A change is a new token: nothing is invalidated, so
nothing is served stale for want of an invalidation. Only the values of the two tokens used last
are kept (the pages' and the orders', below: a new one drops the older), and the token is read
before the database, as for a stored page: a drawing that read the catalogue before a change
committed is not used after the token the commit writes. Like a stored page, a value is also
kept until the end of the minute at most: an edit whose token could not be written (Redis
refused it, in a process that cannot retry) shows within the minute all the same.

Placing an order (the checkout's POST) keeps its reads under another token, held by the database:
`ContentToken`'s rows, one per writer (a thread of a process), which the same receivers replace
in each change's own transaction (`new_database_token`; a save made outside any transaction,
which Django commits before its `post_save`, replaces it just after). The order reads every row
first, in one statement (`use_database_token`): a change committed before that read is a new
token, whatever Redis did, and a change not yet committed was not seen by what was kept either.
So the store, its settings, hours and closures, and the menu's prices an order is placed with
include every change committed before its request read the token (and perhaps some committed
since, which is no older). This holds with the page cache off too.

Without a token (for pages: the page cache off, as under `make run`, a cache that cannot be read,
a change this process could not record; for orders: no change recorded in the database yet; or
no request) `build()` is called every time. What depends on the stock (stock levels, a store's
withdrawals) or the clock is never kept here: it is read on every drawing (the promotions are kept
with their periods, and their caller applies the clock: `home.models.current_promotion_rules`).
The values kept are shared by every request of the process: callers must not change them.
"""

import datetime
import hashlib
import os
import secrets
import socket
import threading
import time

from django.db import connection
from django.utils import timezone

ATTRIBUTE = "_catalogue_generation"
# Values kept per generation, at most: far above what the site's pages need (a few per page of the
# tree), a bound should a key ever come from visitors.
MAX_KEPT = 10_000
# Generations whose values are kept at once: the pages' (Redis) and the orders' (the database).
GENERATIONS_KEPT = 2

_lock = threading.Lock()
_kept = {}  # {generation: {key: value}}, the least recently used first


def set_generation(request, generation):
    """The content generation read for `request` before its page is drawn (None: keep nothing)."""
    setattr(request, ATTRIBUTE, generation)


def keeps(request):
    """Whether values are kept for `request` (it holds a generation): a caller that reads more
    when keeping (a whole table once rather than a few rows each time) asks first."""
    return request is not None and getattr(request, ATTRIBUTE, None) is not None


def kept(request, key, build, *, keep_none=True):
    """`build()`'s value for `key` under `request`'s content generation, built once per generation
    (with `keep_none=False`, a None is built again each time: a page not found is not kept)."""
    if not keeps(request):
        return build()
    token = getattr(request, ATTRIBUTE)
    # Kept until the end of the minute at most, as a stored page: an edit whose new token another
    # process could not write (Redis refused it) is read here within a minute all the same.
    generation = (token, int(time.time() // 60))
    with _lock:
        values = _kept.pop(generation, None)
        if values is None:
            values = {}
            while len(_kept) >= GENERATIONS_KEPT:
                del _kept[next(iter(_kept))]  # the least recently used
        _kept[generation] = values  # the most recently used last
        if key in values:
            return values[key]
    value = build()  # outside the lock: a slow read must not hold up the other threads
    if (value is not None or keep_none) and len(values) < MAX_KEPT:
        values[key] = value  # the generation's own dict: a newer generation has its own
    return value


def reads_catalogue(view):
    """Mark a view that is not a page but reads the catalogue (the checkout): the page cache's
    middleware reads the generation for its GETs as for a page (`ocpizza.pagecache`); its POSTs
    (an order placed) keep under the database's token (`use_database_token`)."""
    view.reads_catalogue = True
    return view


def clear():
    """Forget every kept value (tests)."""
    with _lock:
        _kept.clear()


# The database's token (orders) -------------------------------------------------------------------

# A writer's row unwritten this long belongs to a process gone since (workers are recycled): it is
# deleted by the next process that writes its own first (a deletion is a new token too).
STALE_WRITER = datetime.timedelta(days=7)
_pruned = set()  # the processes (pids) that pruned already


def _token_table():
    from .models import ContentToken  # models import this module

    return connection.ops.quote_name(ContentToken._meta.db_table)


def _writer():
    """This thread of this process on this host: it runs one transaction at a time, so its row is
    never waited for by another writer."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:200]


def new_database_token():
    """Replace this writer's token, inside the current transaction if there is one (a change of
    content calls it: `ocpizza.pagecache.forget_pages`). Random, never a counter: a change rolled
    back leaves the token it replaced, and no later token can be one that values were kept under.
    Each writer (a thread of a process) has its own row, made by its first change (an upsert):
    the content transactions of two writers never wait for each other here."""
    table = _token_table()
    now = timezone.now()
    adapt = connection.ops.adapt_datetimefield_value
    # The table's name from the model's options, quoted; values are parameters.
    sql = (
        f"INSERT INTO {table} (writer, token, written_at) VALUES (%s, %s, %s) "  # noqa: S608
        "ON CONFLICT (writer) DO UPDATE SET token = EXCLUDED.token, written_at = EXCLUDED.written_at"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [_writer(), secrets.token_hex(8), adapt(now)])
        if os.getpid() not in _pruned:
            _pruned.add(os.getpid())
            cursor.execute(f"DELETE FROM {table} WHERE written_at < %s", [adapt(now - STALE_WRITER)])  # noqa: S608


def database_token():
    """The database's token as committed now: every writer's row read at once, or None (no change
    recorded yet). A change committed by any writer makes it another."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT writer, token FROM {_token_table()}")  # noqa: S608
        found = sorted(cursor.fetchall())
    if not found:
        return None
    return hashlib.sha256(repr(found).encode()).hexdigest()[:32]


def use_database_token(request):
    """Keep what `request` reads of the catalogue under the database's token (placing an order):
    read it before anything else the request reads."""
    token = database_token()
    set_generation(request, None if token is None else ("database", token))
