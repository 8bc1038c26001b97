"""The tracking poll's answer from the cache: an order's version, kept beside its secret link.

The order page polls `order_status` every second or so with the ETag of the version it shows
(`"<number>-<version>"`) and fetches its timeline again only when the answer is not 304. Through
the secret link (`/commandes/<number>/<secret>/etat/`), whoever holds the secret may see the
order, so while the cache holds the order's version and the digest of its secret, a poll that is
told "nothing changed" costs no query (`ordering.middleware.LivePollMiddleware` answers it).

The entry is written with the order: by `post_save` of `Order`, inside the writer's transaction,
after the UPDATE that holds the order's row lock. A concurrent writer waits for that lock, so it
writes its own (higher) version after ours: entries follow the versions in order. It is never
written again after the commit — that second write could land after the next writer's and bring
back an older version. A new order's entry is the exception: it is *added* after the commit
(`new_order_saved`), where no entry is, as a poll adds one. A transaction rolled back leaves a
version the database never held: polls holding the real one miss and read the order, which is
correct, only slower. An update that sends
no signal (`claim_guest_orders`) calls `record_versions` itself.

A visitor whose poll missed the cache (no entry, or another version) reads the order and *adds*
its version only where no entry exists: a writer's entry is never replaced by a reading that may
have come before its commit.

Every entry lives `TRACKING_SECONDS`. That bounds the only ways an entry can be older than the
order: a write skipped while Redis was down or refusing it, an entry evicted or expired between a
writer's write and its commit (a transaction open longer than `TRACKING_SECONDS`), two writes
in autocommit (no transaction, so no lock held) landing out of order, or a new order's entry
added after a next writer's own write was skipped or its deletion made (a change within moments
of the order's commit). A deleted order's entry is
removed, in the transaction and again after it. Without a shared cache
(`settings.TRACKING_VERSIONS` off), every poll reads the order.
"""

import hashlib
import hmac
import logging
import re
import time

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

TRACKING_SECONDS = 60
LOG_INTERVAL = 60  # seconds between two logged failures of the cache (a poll a second each)
ORDER_NUMBER = re.compile(r"[\w-]{1,40}")  # anything else is not looked up in the cache
_last_logged = [float("-inf")]


def forget_failures():
    """Start again with no failure logged (the cache in use was replaced: tests)."""
    _last_logged[0] = float("-inf")


def _failed(action, number):
    """Log a failure of the cache, at most once per `LOG_INTERVAL` (Redis refusing writes would
    otherwise log every poll)."""
    now = time.monotonic()
    if now - _last_logged[0] >= LOG_INTERVAL:
        _last_logged[0] = now
        logger.exception("tracking: the cache refused %s (order %s)", action, number)


def enabled():
    """`settings.TRACKING_VERSIONS`: on with a cache every process shares (Redis), off without
    one (a version recorded in one Gunicorn worker's own cache would hide a change from another)."""
    return settings.TRACKING_VERSIONS


def tracking_key(number):
    return f"tracking:order:{number}"


def secret_digest(secret):
    """What the cache keeps of a secret link: its SHA-256, never the secret itself."""
    return hashlib.sha256(secret.encode()).hexdigest()


def entry(version, secret):
    return f"{version}:{secret_digest(secret)}"


def etag(number, version):
    """The ETag of an order's tracking state (also the order page's)."""
    return f'"{number}-{version}"'


def cached_etag(number, secret):
    """The ETag of order `number` from the cache, if the cache holds its version and `secret` is
    its secret link's; else None (then read the order: `remember` afterwards)."""
    if not enabled() or not secret or not ORDER_NUMBER.fullmatch(number):
        return None
    try:
        value = cache.get(tracking_key(number))
    except Exception:
        _failed("a read", number)
        return None
    if value is None:
        return None
    version, _, digest = value.partition(":")
    if not hmac.compare_digest(digest, secret_digest(secret)):
        return None
    return etag(number, version)


def remember(order):
    """After a poll read `order` through its secret link: keep its version unless an entry is
    already there (a writer's, which may be newer than this reading)."""
    _write(cache.add, order)


def order_saved(order):
    """An order was saved: record its version, inside the writer's transaction (see above). Never
    raises: a cache that refuses the write must not cost a sale."""
    if isinstance(order.version, int):  # not an F() expression: the value written
        _write(cache.set, order)


def _write(write, order):
    if not enabled() or not order.secret:
        return
    try:
        write(tracking_key(order.number), entry(order.version, order.secret), TRACKING_SECONDS)
    except Exception:
        _failed("a version", order.number)


def record_versions(orders):
    """Orders changed by an update that sends no signal: record their versions, read again under
    the update's row locks (call it in the same transaction, after the update)."""
    if not enabled():
        return
    for order in orders.only("number", "version", "secret"):
        order_saved(order)


def order_deleted(order):
    """A deleted order's polls must not be answered from the cache: its entry is removed now and
    again after the commit (a poll that read the order before may have added it back)."""
    if not enabled():
        return
    _forget(order.number)
    transaction.on_commit(lambda: _forget(order.number), robust=True)


def _forget(number):
    try:
        cache.delete(tracking_key(number))
    except Exception:
        _failed("a deletion", number)


def on_order_saved(sender, instance, created=False, **kwargs):
    """`post_save` of `Order`. A new order's entry is added after the commit (see above)."""
    if created:
        new_order_saved(instance)
    else:
        order_saved(instance)


def new_order_saved(order):
    """An order was inserted: *add* its version once the transaction commits. Nobody can poll it
    before (its number and secret are unknown outside until then); after it, the next writer must
    first take the order's row lock, which the commit released, and a writer's entry may already
    be there: it is not replaced. Inside the transaction, the write would be made while placing
    holds the store's lock (ordering.services), every order of the store waiting for it."""
    if isinstance(order.version, int):
        transaction.on_commit(lambda: remember(order), robust=True)  # as a poll adds it


def on_order_deleted(sender, instance, **kwargs):
    """`post_delete` of `Order`."""
    order_deleted(instance)
