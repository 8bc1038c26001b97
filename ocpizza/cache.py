"""A Redis cache that degrades to "no cache" while Redis is down or hangs, instead of failing pages.

Wagtail reads the site tree from the cache on every request, so with Django's stock `RedisCache`
a dead or hung Redis turns every page into a 500. `FailSoftRedisCache` (wired by the settings
whenever `CACHE_URL` is a Redis URL) catches Redis' connection errors and timeouts and answers as an
empty cache would: `get` returns the default, `set` stores nothing, `add` reports nothing added.

A circuit breaker keeps a dead server from costing every request a timeout: after a failure the
cache skips Redis for `RETRY_AFTER` seconds, then lets the next call try again, so it recovers by
itself once Redis is back. The breaker is shared by every instance (thread) of the process that
talks to the same servers. A warning is logged at most once every `WARNING_INTERVAL` seconds
while Redis is unreachable, and once when it answers again.

`/readyz` must still see the outage: it asks `probe()`, which bypasses the breaker and raises.

Both intervals are read from the cache's OPTIONS (upper-case keys, as Django's own backends do);
the remaining OPTIONS go to redis-py as usual.
"""

import logging
import threading
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

# What a dead, unreachable or hung server raises. Other Redis errors (a wrong command, a full
# memory) are faults to see, not outages to ride out.
OUTAGE_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError)


class CircuitBreaker:
    """Remembers, per process and per Redis location, whether the server was just found down."""

    _registry = {}
    _registry_lock = threading.Lock()

    def __init__(self, retry_after, warning_interval):
        self.retry_after = retry_after
        self.warning_interval = warning_interval
        self._lock = threading.Lock()
        self._open_until = 0.0
        self._last_warning = None
        self._down = False

    @classmethod
    def for_location(cls, location, *, retry_after, warning_interval):
        with cls._registry_lock:
            breaker = cls._registry.get(location)
            if breaker is None:
                breaker = cls._registry[location] = cls(retry_after, warning_interval)
            breaker.retry_after = retry_after
            breaker.warning_interval = warning_interval
            return breaker

    def allows_a_call(self):
        """False while the server is presumed down (within `retry_after` of the last failure)."""
        return time.monotonic() >= self._open_until

    def record_failure(self, error, operation):
        now = time.monotonic()
        with self._lock:
            self._open_until = now + self.retry_after
            self._down = True
            warn = self._last_warning is None or now - self._last_warning >= self.warning_interval
            if warn:
                self._last_warning = now
        if warn:
            logger.warning(
                "cache unreachable (%s during %s): pages are served without cache; next try in %g s",
                type(error).__name__,
                operation,
                self.retry_after,
            )

    def record_success(self):
        if not self._down:
            return
        with self._lock:
            was_down, self._down = self._down, False
            self._last_warning = None
        if was_down:
            logger.warning("cache answers again")


class ReusedClientRedisCacheClient(RedisCacheClient):
    """Django's Redis client wrapper, keeping one `redis.Redis` per connection pool.

    Django builds a new `redis.Redis` for every cache call; its constructor fills a table of
    about 170 response callbacks, which cost 0.17 ms of a 0.6 ms cache read here (cProfile of a
    tracking poll). A `redis.Redis` holds no connection of its own (the pool lends one per
    command), so reusing it changes nothing else."""

    def __init__(self, servers, **options):
        super().__init__(servers, **options)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(pool)
        if client is None:
            client = self._clients[pool] = self._client(connection_pool=pool)
        return client


class FailSoftRedisCache(RedisCache):
    """Django's `RedisCache` that behaves as an empty cache while Redis is unreachable."""

    DEFAULT_RETRY_AFTER = 10  # seconds without trying Redis after a failure
    DEFAULT_WARNING_INTERVAL = 60  # seconds between two warnings about the same outage

    def __init__(self, server, params):
        options = dict(params.get("OPTIONS") or {})
        retry_after = float(options.pop("RETRY_AFTER", self.DEFAULT_RETRY_AFTER))
        warning_interval = float(options.pop("WARNING_INTERVAL", self.DEFAULT_WARNING_INTERVAL))
        super().__init__(server, {**params, "OPTIONS": options})
        self._class = ReusedClientRedisCacheClient
        location = server if isinstance(server, str) else ",".join(server)
        self.breaker = CircuitBreaker.for_location(
            location, retry_after=retry_after, warning_interval=warning_interval
        )

    def _soft(self, fallback, method, *args, **kwargs):
        """Call Redis through `method`, or return `fallback` while Redis is down."""
        if not self.breaker.allows_a_call():
            return fallback
        try:
            result = method(*args, **kwargs)
        except OUTAGE_ERRORS as error:
            self.breaker.record_failure(error, method.__name__)
            return fallback
        self.breaker.record_success()
        return result

    def set_or_raise(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        """`set` that raises where `set` skips the write, for a write that must be known to have
        happened (the page cache's tokens, the boards' versions): at once while the breaker is
        open (a hung Redis is not waited for again, under the placing lock), else on any error,
        an outage being recorded on the breaker as `set` records it. One SET: `set_many`, which
        names the keys it skipped, costs a MULTI/EXEC pipeline."""
        if not self.breaker.allows_a_call():
            raise RedisConnectionError("Redis is taken as down until its back-off ends")
        try:
            super().set(key, value, timeout, version)
        except OUTAGE_ERRORS as error:
            self.breaker.record_failure(error, "set")
            raise
        self.breaker.record_success()

    def probe(self, key, value, timeout):
        """Write then read back `key` on Redis itself, raising on any error (for `/readyz`)."""
        super().set(key, value, timeout)
        return super().get(key)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._soft(False, super().add, key, value, timeout, version)

    def get(self, key, default=None, version=None):
        return self._soft(default, super().get, key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        self._soft(None, super().set, key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._soft(False, super().touch, key, timeout, version)

    def delete(self, key, version=None):
        return self._soft(False, super().delete, key, version)

    def get_many(self, keys, version=None):
        return self._soft({}, super().get_many, keys, version)

    def has_key(self, key, version=None):
        return self._soft(False, super().has_key, key, version)

    def incr(self, key, delta=1, version=None):
        missing = object()
        result = self._soft(missing, super().incr, key, delta, version)
        if result is missing:
            # What any cache answers for a key it does not hold (Django's contract for incr).
            raise ValueError(f"Key '{key}' not found")
        return result

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        # Django's contract: set_many returns the keys it could not store.
        return self._soft(list(data), super().set_many, data, timeout, version)

    def delete_many(self, keys, version=None):
        self._soft(None, super().delete_many, keys, version)

    def clear(self):
        return self._soft(False, super().clear)
