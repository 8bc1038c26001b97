"""Rate limits for password reset and sign-up: counters per address and per e-mail in the cache.

A fixed one-hour window per counter (`cache.add` then `cache.incr`), shared by every Gunicorn
process through Redis in production. The cache is a help, not a dependency: if it is down (or a
fail-soft cache forgets the counter), the request is allowed and a warning is logged, so a Redis
outage never turns a password reset into an error page. Nginx's `limit_req` still applies.
"""

import hashlib
import logging

from django.core.cache import cache

logger = logging.getLogger("accounts.security")

WINDOW_SECONDS = 3600


def _key(scope, kind, value):
    digest = hashlib.sha256(value.encode()).hexdigest()[:32]  # no raw e-mail in the cache
    return f"ratelimit:{scope}:{kind}:{digest}"


def _count(key):
    """This request's number in the current window, or None when the cache cannot tell."""
    try:
        cache.add(key, 0, timeout=WINDOW_SECONDS)
        return cache.incr(key)
    except ValueError:
        # The counter is gone right after `add`: Redis is down and the fail-soft cache
        # (ocpizza/cache.py, what production runs) answered as an empty one, or, rarely, it expired
        # in between. Either way this request was not counted: say so, as below.
        logger.warning("Rate limit not applied: the cache is unavailable or lost the counter (%s)", key)
        return None
    except Exception:  # any other cache backend's error (Redis down, timeout): allow, say so
        logger.warning("Rate limit not applied: the cache is unavailable (%s)", key, exc_info=True)
        return None


def over_limit(scope, *, limit, ip=None, email=None):
    """Count one request against the address and the e-mail; True once either passed `limit`.

    Both counters move whether or not an account exists for the e-mail, so the answer never
    tells an account from none.
    """
    exceeded = False
    for kind, value in (("ip", ip), ("email", (email or "").strip().lower())):
        if value:
            count = _count(_key(scope, kind, value))
            exceeded = exceeded or (count is not None and count > limit)
    return exceeded
