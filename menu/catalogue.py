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
nothing is served stale for want of an invalidation. Only the current token's values are kept (a
new token drops the others), and the token is read before the database, as for a stored page: a
drawing that read the catalogue before a change committed is not used after the token the commit
writes. Like a stored page, a value is also kept until the end of the minute at most: an edit
whose token could not be written (Redis refused it, in a process that cannot retry) shows within
the minute all the same.

Without a token (the page cache off, as under `make run`, a cache that cannot be read, a change
this process could not record, or no request) `build()` is called every time. What depends on the
stock (stock levels, a store's withdrawals) or the clock is never kept here: it is read on every
drawing. The values kept are shared by every request of the process: callers must not change them.
"""

import threading
import time

ATTRIBUTE = "_catalogue_generation"
# Values kept per generation, at most: far above what the site's pages need (a few per page of the
# tree), a bound should a key ever come from visitors.
MAX_KEPT = 10_000

_lock = threading.Lock()
_kept = {"generation": None, "values": {}}


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
        if _kept["generation"] != generation:
            _kept["generation"], _kept["values"] = generation, {}
        values = _kept["values"]
        if key in values:
            return values[key]
    value = build()  # outside the lock: a slow read must not hold up the other threads
    if (value is not None or keep_none) and len(values) < MAX_KEPT:
        values[key] = value  # the generation's own dict: a newer generation has its own
    return value


def reads_catalogue(view):
    """Mark a view that is not a page but reads the catalogue (the checkout): the page cache's
    middleware reads the generation for its GETs as for a page (`ocpizza.pagecache`); its POSTs
    (an order placed) read the database."""
    view.reads_catalogue = True
    return view


def clear():
    """Forget every kept value (tests)."""
    with _lock:
        _kept["generation"], _kept["values"] = None, {}
