"""Health checks for monitoring and load balancers.

`/healthz` answers as long as a Gunicorn worker runs Django (liveness); `/readyz` also checks
that the database answers, that every migration is applied and that the cache answers
(readiness): a load balancer sends traffic only to a ready server. Pages survive a Redis outage
(`ocpizza.cache.FailSoftRedisCache` serves them without cache), but slower and without shared
state, so the probe asks Redis itself, past that fail-soft layer, and reports it.
Neither says more than "ok" or what failed: error details go to the log, never into the answer
(no host names, no database names, no settings).
"""

import logging
import os
import secrets
import time
from functools import lru_cache

from django.conf import settings
from django.core.cache import caches
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

# A process whose migrations were all applied re-checks only after this many seconds: building the
# migration graph on every probe would cost more than the probe is worth.
MIGRATIONS_RECHECK_SECONDS = 30
_migrations_ok_until = 0.0
# The cache probe's key lives this long: one key per process, never piling up.
CACHE_PROBE_SECONDS = 10


@lru_cache(maxsize=1)
def current_release():
    """The release name written by deploy/update.sh into the project folder, or "dev"."""
    try:
        return (settings.BASE_DIR / "RELEASE").read_text(encoding="utf-8").strip() or "dev"
    except OSError:
        return "dev"


def database_answers(connection):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        logger.exception("readiness: the database does not answer")
        return False
    return True


def migrations_applied(connection):
    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception:
        logger.exception("readiness: the migration state could not be read")
        return False
    if plan:
        logger.warning("readiness: %d migration(s) not applied", len(plan))
    return not plan


def cache_answers(alias="default"):
    """Write a short-lived key and read it back: True when the cache keeps what it is given."""
    key = f"ocpizza:readyz:{os.getpid()}"
    token = secrets.token_hex(8)
    try:
        cache = caches[alias]
        if hasattr(cache, "probe"):
            # The fail-soft Redis cache hides outages from pages; the probe asks Redis itself.
            answer = cache.probe(key, token, CACHE_PROBE_SECONDS)
        else:
            cache.set(key, token, timeout=CACHE_PROBE_SECONDS)
            answer = cache.get(key)
        if answer == token:
            return True
        logger.error("readiness: the cache did not give back the value just written")
    except Exception:
        logger.exception("readiness: the cache does not answer")
    return False


def readiness(connection):
    """Return {check name: "ok" | "failed" | "pending" | "skipped"} for this connection."""
    global _migrations_ok_until
    checks = {"database": "ok" if database_answers(connection) else "failed"}
    if checks["database"] != "ok":
        checks["migrations"] = "skipped"
    elif connection.alias == DEFAULT_DB_ALIAS and time.monotonic() < _migrations_ok_until:
        checks["migrations"] = "ok"
    elif migrations_applied(connection):
        checks["migrations"] = "ok"
        if connection.alias == DEFAULT_DB_ALIAS:
            _migrations_ok_until = time.monotonic() + MIGRATIONS_RECHECK_SECONDS
    else:
        checks["migrations"] = "pending"
    return checks


@never_cache
@require_GET
def healthz(request):
    return JsonResponse({"status": "ok", "release": current_release()})


@never_cache
@require_GET
def readyz(request):
    checks = readiness(connections[DEFAULT_DB_ALIAS])
    checks["cache"] = "ok" if cache_answers() else "failed"
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ready" if ready else "unavailable", "release": current_release(), "checks": checks},
        status=200 if ready else 503,
    )
