"""Login protection: who is trying (address, account) and what a locked-out visitor sees.

django-axes does the counting and the locking (see the settings block "Login protection"); these
are the callables it is configured with, plus the log line written when it locks someone out.
The same `client_ip` feeds the hourly rate limits (`accounts/ratelimit.py`) and django-allauth
(`accounts/adapter.py`).
"""

import logging
import math

from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from axes.utils import reset
from django.conf import settings
from django.db.models import Max, Sum
from django.dispatch import receiver
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

logger = logging.getLogger("accounts.security")


def client_ip(request):
    """The visitor's IP address, which a visitor cannot choose.

    Behind Nginx (`BEHIND_REVERSE_PROXY`), Gunicorn listens on a Unix socket that only Nginx
    reaches, and Nginx overwrites `X-Real-IP` with the address it sees: that header is the truth.
    `X-Forwarded-For` is not read: ours carries the same address, but a proxy set up the usual way
    (`$proxy_add_x_forwarded_for`) appends to whatever the client sent, whose first entry is then
    the client's own claim. Without the proxy (development) every header is the client's claim,
    so only the socket's `REMOTE_ADDR` counts.
    """
    if settings.BEHIND_REVERSE_PROXY:
        forwarded = request.META.get("HTTP_X_REAL_IP", "").strip()
        if forwarded:
            return forwarded
    return request.META.get("REMOTE_ADDR") or None


def login_identifier(request, credentials):
    """The account a login attempt is for: the e-mail, stripped and lower-cased.

    Users log in by e-mail, case-insensitively (`UserManager.get_by_natural_key`), so
    `Camille@Example.fr` and `camille@example.fr` must count against the same account. Django's
    and Wagtail's forms pass it as `username`; django-allauth passes `email`.
    """
    credentials = credentials or {}
    value = credentials.get("username") or credentials.get("email")
    if value is None and request is not None:
        data = getattr(request, "POST", {})
        value = data.get("username") or data.get("email") or data.get("login")
    if not value:
        return None
    return str(value).strip().lower()[:255]


def lockout_response(request, original_response=None, credentials=None):
    """The page a locked-out visitor gets instead of the login form: 429 with when to retry.

    Every attempt during a lockout starts the cool-off again (axes' default), so the visitor may
    retry one cool-off period from now.
    """
    cool_off = get_cool_off(request)
    minutes = math.ceil(cool_off.total_seconds() / 60)
    retry_at = timezone.localtime(timezone.now() + cool_off)
    template = (
        "accounts/admin/locked_out.html"
        if request.path.startswith(reverse("wagtailadmin_home"))
        else "accounts/locked_out.html"
    )
    response = render(
        request,
        template,
        {"cooloff_minutes": minutes, "retry_at": retry_at},
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )
    response["Retry-After"] = str(int(cool_off.total_seconds()))
    return response


@receiver(user_locked_out)
def log_lockout(sender, request, username, ip_address, **kwargs):
    logger.warning(
        "Login locked out: account=%s address=%s path=%s (unlock: manage.py axes_reset_username / "
        "axes_reset_ip, or Paramètres > Tentatives de connexion)",
        username,
        ip_address,
        getattr(request, "path", ""),
    )


LOCK_KINDS = {"ip_address": "adresse", "username": "compte"}


def current_lockouts(now=None):
    """Who is locked out now: one entry per address and per account over the failure limit.

    The same rule as axes' (`AXES_LOCKOUT_PARAMETERS`): the failures of the attempts still inside
    the cool-off are summed per address and per account. Each entry: kind ("ip_address" or
    "username"), value, failures, until (aware datetime).
    """
    now = now or timezone.now()
    cool_off = get_cool_off()
    recent = AccessAttempt.objects.filter(attempt_time__gte=now - cool_off)
    lockouts = []
    for kind in LOCK_KINDS:
        rows = (
            recent.exclude(**{f"{kind}__isnull": True})
            .values(kind)
            .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
            .filter(failures__gte=settings.AXES_FAILURE_LIMIT)
            .order_by("-last")
        )
        lockouts += [
            {"kind": kind, "value": row[kind], "failures": row["failures"], "until": row["last"] + cool_off}
            for row in rows
        ]
    return lockouts


def unlock(*, kind, value, user):
    """Forget the failed attempts of an address or an account, which lifts its lockout now.

    Returns how many attempt rows were removed; the failure log (AccessFailureLog) is kept.
    Raises ValueError for an unknown kind.
    """
    if kind not in LOCK_KINDS:
        raise ValueError(f"Unknown lockout kind: {kind!r}")
    if not value or not value.strip():
        raise ValueError("An address or an account is required")  # axes' reset() would wipe all
    removed = reset(ip=value) if kind == "ip_address" else reset(username=value.strip().lower())
    logger.warning("Login unlocked by %s: %s=%s (%d attempt rows removed)", user, kind, value, removed)
    return removed
