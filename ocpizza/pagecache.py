"""The storefront's page cache: one rendering of a page shared by every anonymous visitor.

Who gets a cached page: a GET (or HEAD) of a Wagtail page by a visitor who is not signed in,
has nothing in a cart, no message waiting and no other session data a page could show (a guest's
list of their own orders is allowed: no storefront page reads it), with no query string beyond
campaign tags (`utm_*`, `gclid`, `fbclid`…). Everyone else gets a fresh rendering, marked
`X-Page-Cache: bypass`. For those visitors the header (« Se connecter », an empty cart) is the same
for all, so a page holds nothing personal but two values, put back on every hit:
- the CSRF token of its forms: the visitor's own (`get_token`), so the add-to-cart and language
  forms work, and the CSRF cookie is set as on any rendered page;
- the Content-Security-Policy nonce of its inline scripts and styles: this response's own.

When an entry stops being served:
- **any change of content**: a save or delete of a page, an image, a site, a setting, a snippet or
  any other model of `home`, `menu` or `stores` (promotions, hours, closures, withdrawals, ordering
  settings…), publish and unpublish included, bumps one generation token;
- **any change of what a store can sell**: `stores.signals.stock_changed`, sent by the stock ledger
  whenever a store's free stock changes (a reservation, a release, a delivery, waste, a count);
- **the clock**: an entry lives until the end of the minute it was rendered in (and at most
  `PAGE_CACHE_SECONDS`), so what depends on the time — open now, promotions starting or ending,
  slots — is never more than that minute late.

The generation is bumped twice: at once, inside the writer's transaction, and again after its
commit. An entry records the generation read *before* its page was rendered, so a rendering that
read the database before a sale committed is never kept past the second bump, and no visitor is
served it after the commit. A cache outage (`ocpizza.cache.FailSoftRedisCache`) reads as a miss:
pages are rendered, never failed.
"""

import hashlib
import math
import re
import secrets
import time

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.urls import Resolver404, resolve
from django.utils import translation
from wagtail.models import Page
from wagtail.views import serve as wagtail_serve

GENERATION_KEY = "pagecache:generation"
ENTRY_PREFIX = "pagecache:page:"
HEADER = "X-Page-Cache"

# Placeholders kept in a stored page instead of the first visitor's values.
CSRF_PLACEHOLDER = b"__ocpizza_pagecache_csrf__"
NONCE_PLACEHOLDER = b"__ocpizza_pagecache_nonce__"
CSRF_INPUT = re.compile(rb'(name="csrfmiddlewaretoken" value=")[A-Za-z0-9]{32,64}(")')

# Session data a cached page may ignore: nothing on a storefront page reads it.
SHARED_SESSION_KEYS = frozenset({"guest_orders"})
# Query parameters that only tag a visit (campaign links): a page with only these is shared.
TRACKING_PARAMETER = re.compile(r"^(utm_[a-z_]+|gclid|fbclid|msclkid|mc_cid|mc_eid)$")
# Headers of the rendered response replayed on a hit. The others are written again on every
# response by the middleware around this one (CSP with its nonce, Vary, Content-Language, cookies).
REPLAYED_HEADERS = ("Content-Type", "X-Frame-Options", "X-Robots-Tag", "Link")


def enabled():
    return settings.PAGE_CACHE_SECONDS > 0


# --- Invalidation ----------------------------------------------------------------------------


def forget_pages():
    """Stop serving every stored page: now, and again once the current transaction commits."""
    if not enabled():
        return
    _new_generation()
    transaction.on_commit(_new_generation)


def _new_generation():
    # A random token, not a counter: if Redis loses the key, no later value can match an old entry.
    cache.set(GENERATION_KEY, secrets.token_hex(8), timeout=None)


def _current_generation(value):
    """The generation read before a rendering: the stored one, or a new one if there is none."""
    if value is not None:
        return value
    token = secrets.token_hex(8)
    if cache.add(GENERATION_KEY, token, timeout=None):
        return token
    return cache.get(GENERATION_KEY)  # another process set it first (None while Redis is down)


def connect_signals():
    """Wire the writers whose changes can show on a page to `forget_pages` (from `apps.ready`)."""
    from django.core.signals import setting_changed
    from django.db.models.signals import m2m_changed, post_delete, post_save
    from wagtail.signals import page_published, page_unpublished, post_page_move

    from stores.signals import stock_changed

    for signal in (post_save, post_delete, m2m_changed):
        signal.connect(_model_changed, dispatch_uid=f"pagecache_{id(signal)}")
    for signal in (page_published, page_unpublished, post_page_move, stock_changed):
        signal.connect(_forget, dispatch_uid=f"pagecache_{id(signal)}")
    setting_changed.connect(_settings_changed, dispatch_uid="pagecache_setting_changed")


# The apps whose every model can show on a storefront page, and the models of those apps (or of
# Wagtail) that cannot, or that change through a signal of their own (the stock ledger).
CONTENT_APPS = frozenset({"home", "menu", "stores"})
NOT_SHOWN = frozenset(
    {
        "stores.stocklevel",  # stock_changed says when what is free changed
        "stores.stockmovement",
        "stores.stockalert",
        "stores.stockformsubmission",
        "stores.storemembership",
    }
)
WAGTAIL_SHOWN = frozenset(
    {
        "wagtailcore.site",
        "wagtailcore.locale",
        "wagtailcore.pageviewrestriction",
        "wagtailimages.image",
        "wagtaildocs.document",
    }
)


def _model_changed(sender, **kwargs):
    opts = getattr(sender, "_meta", None)
    if opts is None:
        return
    if (
        isinstance(kwargs.get("instance"), Page)
        or (opts.app_label in CONTENT_APPS and opts.label_lower not in NOT_SHOWN)
        or opts.label_lower in WAGTAIL_SHOWN
    ):
        forget_pages()


def _forget(sender, **kwargs):
    forget_pages()


def _settings_changed(sender, **kwargs):
    _new_generation()  # only tests change settings while running (outside any transaction)


# --- Who is served from the cache -------------------------------------------------------------


def shareable_request(request):
    """True for a request of a Wagtail page that would be the same for every visitor it could be
    shared with."""
    if request.method not in ("GET", "HEAD"):
        return False
    try:
        if resolve(request.path_info).func is not wagtail_serve:
            return False  # the cart, accounts, staff screens, the admin, polls: never looked up
    except Resolver404:
        return False
    if any(not TRACKING_PARAMETER.match(name) for name in request.GET):
        return False
    if request.COOKIES.get("messages"):  # django.contrib.messages' cookie storage
        return False
    session = getattr(request, "session", None)
    if session is None or session.session_key is None:
        return True  # no session: anonymous, no cart, no message (no query)
    return set(session.keys()) <= SHARED_SESSION_KEYS  # loads the session (one query)


def entry_key(request):
    raw = "|".join((request.get_host(), translation.get_language() or "", request.get_full_path()))
    return ENTRY_PREFIX + hashlib.sha256(raw.encode()).hexdigest()


def mark_page_shareable(request):
    """Called as a Wagtail page is served (`before_serve_page`): its response may be stored.

    A page behind a password serves its password form to a visitor who has not given it: the same
    form for everyone, so it is shared too; a visitor who gave it has the session key that says so
    and is never served from the cache.
    """
    request._page_cache_shareable = True


# --- The middleware ---------------------------------------------------------------------------


class PageCacheMiddleware:
    """Serves shared pages from the cache and stores the ones rendered for a shareable request.

    Placed after the session, locale and CSRF middleware (the key holds the language; a hit still
    sets the CSRF cookie) and before authentication (a hit never loads the user).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not enabled():
            return self.get_response(request)
        if not shareable_request(request):
            response = self.get_response(request)
            if getattr(request, "_page_cache_shareable", False):
                response[HEADER] = "bypass"
            return response

        key = entry_key(request)
        found = cache.get_many([GENERATION_KEY, key])
        generation = found.get(GENERATION_KEY)
        entry = found.get(key)
        now = time.time()
        if (
            entry is not None
            and generation is not None
            and entry["generation"] == generation
            and entry["rendered_at"] <= now < entry["expires_at"]
        ):
            return self._replay(request, entry)

        generation = _current_generation(generation)  # read before rendering (see the module)
        response = self.get_response(request)
        if not getattr(request, "_page_cache_shareable", False):
            return response
        if generation is not None and self._storable(request, response):
            self._store(request, response, key, generation, now)
            response[HEADER] = "miss"
        else:
            response[HEADER] = "bypass"
        return response

    @staticmethod
    def _storable(request, response):
        if response.status_code != 200 or response.streaming:
            return False
        if not response.get("Content-Type", "").startswith("text/html"):
            return False
        cache_control = response.get("Cache-Control", "")
        if any(word in cache_control for word in ("private", "no-store", "no-cache")):
            return False
        if set(response.cookies) - {settings.CSRF_COOKIE_NAME}:
            return False  # the rendering gave this visitor something of their own
        session = getattr(request, "session", None)
        if session is not None and session.modified:
            return False
        storage = getattr(request, "_messages", None)
        return not getattr(storage, "_queued_messages", None)

    @staticmethod
    def _store(request, response, key, generation, now):
        body = CSRF_INPUT.sub(rb"\g<1>" + CSRF_PLACEHOLDER + rb"\g<2>", response.content)
        nonce = getattr(request, "_csp_nonce", None)  # set only if the page used it
        if isinstance(nonce, str) and nonce:
            body = body.replace(nonce.encode(), NONCE_PLACEHOLDER)
        end_of_minute = (math.floor(now / 60) + 1) * 60
        expires_at = min(now + settings.PAGE_CACHE_SECONDS, end_of_minute)
        entry = {
            "generation": generation,
            "rendered_at": now,
            "expires_at": expires_at,
            "body": body,
            "headers": {name: response[name] for name in REPLAYED_HEADERS if name in response},
            "csp_update": getattr(response, "_csp_update", None),
        }
        cache.set(key, entry, timeout=max(1, math.ceil(expires_at - now)))

    @staticmethod
    def _replay(request, entry):
        body = entry["body"]
        if CSRF_PLACEHOLDER in body:
            body = body.replace(CSRF_PLACEHOLDER, get_token(request).encode())
        if NONCE_PLACEHOLDER in body:
            body = body.replace(NONCE_PLACEHOLDER, str(request.csp_nonce).encode())
        response = HttpResponse(body)
        for name, value in entry["headers"].items():
            response[name] = value
        if entry["csp_update"]:
            response._csp_update = entry["csp_update"]
        response[HEADER] = "hit"
        return response
