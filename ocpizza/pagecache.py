"""The storefront's page cache: one rendering of a page shared by every anonymous visitor.

Who gets a cached page: a GET (or HEAD) of a Wagtail page by a visitor who is not signed in,
has nothing in a cart, no message waiting and no other session data a page could show (a guest's
list of their own orders is allowed: no storefront page reads it), with no query string beyond
campaign tags (`utm_*`, `gclid`, `fbclid`…, left out of the key: a campaign's links share one
copy). Everyone else gets a fresh rendering, marked
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
  whenever a store's free stock changes (a reservation, a release, a delivery, waste, a count),
  bumps that store's own stock token. Only the pages that show that store's stock depend on it: a
  page sends `stores.signals.stock_shown` before it reads a store's stock (its menu does), and its
  entry records the token read then. A sale at one store thus keeps every other page: the home page,
  the menu, the products, the other stores' menus (at a few orders a minute, a single token dropped
  every page of the site each time);
- **the clock**: an entry lives until the end of the minute it was rendered in (and at most
  `PAGE_CACHE_SECONDS`), so what depends on the time — open now, promotions starting or ending,
  slots — is never more than that minute late.

The generation and the stock tokens are bumped twice: at once, inside the writer's transaction,
and again after its commit; placing an order bumps its store's stock token after its commit only
(`stores.services.announce_stock_change`: the first bump adds nothing to what follows). An entry
records the generation read *before* its page was rendered (and each stock token before the stock
was read), so a rendering that read the database before a sale committed is never kept past the
bump after the commit: between the commit and that bump (a moment), an entry stored before may
still be served. A
bump goes around the fail-soft cache's circuit breaker; if Redis refuses it anyway, the error is
logged, the writer (a sale) goes on, and this process serves no stored page until a bump of the
generation (which drops every entry) succeeds. A cache outage (`ocpizza.cache.FailSoftRedisCache`)
reads as a miss: pages are rendered, never failed. Keys hold the release (`RELEASE`, written by
`deploy/update.sh`), so a deployment starts with no stored page.
"""

import functools
import hashlib
import logging
import math
import re
import secrets
import threading
import time

from django.conf import settings
from django.core.cache import cache, caches
from django.db import transaction
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.urls import Resolver404, get_urlconf, resolve
from django.utils import translation
from wagtail.models import Page
from wagtail.views import serve as wagtail_serve

from menu import catalogue

from .cache import FailSoftRedisCache
from .health import current_release
from .sites import find_site

logger = logging.getLogger(__name__)

HEADER = "X-Page-Cache"
_generation_pending = threading.Event()  # a change this process could not record
_last_failure = [float("-inf")]  # when a write of the generation last failed (monotonic)
RETRY_SECONDS = 5
# {entry key: ids of the stores whose stock its page shows}, as this process last stored or served
# it: their tokens are read with the entry, in the same round trip (a store's menu shows one store,
# always the same). Emptied when it grows past KNOWN_STOCK_LIMIT keys.
_known_stock = {}
KNOWN_STOCK_LIMIT = 4096

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
    """Stop serving every stored page: now, and again once the current transaction commits.

    Never raises: a cache that refuses the write must not cost a sale (see `_new_generation`).
    With Redis it bumps even where this process keeps no page (`PAGE_CACHE_SECONDS=0`, as a
    worker or a cron job might be started): the web processes that do keep pages share it.

    The database's token, under which orders keep the catalogue, is replaced first, in the
    change's own transaction, whatever the cache (`menu.catalogue.new_database_token`): that
    write is one of the change's own, which fails with it if the database refuses it.
    """
    catalogue.new_database_token()
    if not enabled() and not isinstance(caches["default"], FailSoftRedisCache):
        return  # no page kept here, nor in a cache other processes share
    _new_generation()
    transaction.on_commit(_new_generation, robust=True)


def forget_store_stock(store_id, *, at_once=True):
    """Stop serving the pages that show what the store `store_id` can sell (its menu): now (unless
    `at_once` is false), and again once the current transaction commits. Never raises, like
    `forget_pages`."""
    if not enabled() and not isinstance(caches["default"], FailSoftRedisCache):
        return
    if at_once:
        _new_stock_token(store_id)
    transaction.on_commit(functools.partial(_new_stock_token, store_id), robust=True)


def _new_generation():
    """Write a new generation. On failure, this process serves no stored page until a later write
    succeeds (`_retry_pending_generation`)."""
    _generation_pending.set()  # until the write below is known to have happened
    if _write_token(generation_key()):
        _generation_pending.clear()


def _new_stock_token(store_id):
    """Write a new stock token for a store. On failure, a new generation is owed instead (it drops
    every entry, those of this store included): until it is written, no stored page is served."""
    if not _write_token(stock_key(store_id)):
        _generation_pending.set()


def _write_token(key):
    """Write a new random token under `key`, around the fail-soft cache's circuit breaker (a bump
    it skipped would leave pages served as they were); False if it could not be written. After a
    failure, writes are not tried again for `RETRY_SECONDS`, so a hung Redis costs a sale its
    timeout at most that often."""
    if time.monotonic() - _last_failure[0] < RETRY_SECONDS:
        return False
    # A random token, not a counter: if Redis loses the key, no later value can match an old entry.
    token = secrets.token_hex(8)
    backend = caches["default"]
    try:
        getattr(backend, "set_or_raise", backend.set)(key, token, timeout=None)  # raises, never skips
    except Exception:
        _last_failure[0] = time.monotonic()
        logger.exception("page cache: a change could not be recorded; stored pages are not served")
        return False
    return True


def _retry_pending_generation():
    """True once no change is waiting to be recorded (retried on requests until it is)."""
    if _generation_pending.is_set():
        _new_generation()
    return not _generation_pending.is_set()


def _current_token(key, value):
    """A token read before a rendering: the stored one (`value`), or a new one if there is none."""
    if value is not None:
        return value
    token = secrets.token_hex(8)
    if cache.add(key, token, timeout=None):
        return token
    return cache.get(key)  # another process set it first (None while Redis is down)


@functools.cache
def generation_key():
    """The generation's key, per release: a deployment never serves pages of the previous one."""
    return f"pagecache:{current_release()}:generation"


def stock_key(store_id):
    """The key of a store's stock token (per release, as the generation)."""
    return f"{stock_prefix()}{store_id}"


@functools.cache
def stock_prefix():
    # Read once, as the generation's key: the release file is not read again on every hit, and a
    # bump after a commit cannot go to another key than the one the entries were checked against.
    return f"pagecache:{current_release()}:stock:"


@functools.cache
def entry_prefix():
    return f"pagecache:{current_release()}:page:"


def connect_signals():
    """Wire the writers whose changes can show on a page to `forget_pages` (from `apps.ready`).

    Model signals are connected per model, only for the models a page can show: a `post_delete`
    receiver without a sender would turn off Django's fast deletes for every model.
    """
    from django.apps import apps
    from django.core.signals import setting_changed
    from django.db.models.signals import m2m_changed, post_delete, post_save
    from wagtail.signals import page_published, page_unpublished, post_page_move

    from stores.signals import stock_changed, stock_shown

    for model in apps.get_models(include_auto_created=True):
        if not shown_on_pages(model):
            continue
        label = model._meta.label_lower
        post_save.connect(_forget, sender=model, dispatch_uid=f"pagecache_save_{label}")
        post_delete.connect(_forget, sender=model, dispatch_uid=f"pagecache_delete_{label}")
        for field in model._meta.local_many_to_many:
            through = field.remote_field.through
            m2m_changed.connect(_forget, sender=through, dispatch_uid=f"pagecache_m2m_{label}_{field.name}")
    for label in DELETE_SHOWN:
        post_delete.connect(_forget, sender=apps.get_model(label), dispatch_uid=f"pagecache_delete_{label}")
    for signal in (page_published, page_unpublished, post_page_move):
        signal.connect(_forget, dispatch_uid=f"pagecache_{id(signal)}")
    stock_changed.connect(_stock_changed, dispatch_uid="pagecache_stock_changed")
    stock_shown.connect(_stock_shown, dispatch_uid="pagecache_stock_shown")
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
        "menu.contenttoken",  # the token itself, written by hand
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


# Models whose deletion alone changes a page: a purge of renditions (wagtail_update_image_renditions)
# deletes the files that kept pages, cards and the catalogue (menu.catalogue) name; made again,
# their names change. A rendition made while a page is drawn changes nothing shown.
DELETE_SHOWN = frozenset({"wagtailimages.rendition"})


def shown_on_pages(model):
    opts = model._meta
    if issubclass(model, Page):
        return True
    if opts.app_label in CONTENT_APPS:
        return opts.label_lower not in NOT_SHOWN
    return opts.label_lower in WAGTAIL_SHOWN


def _forget(sender, **kwargs):
    forget_pages()


def _remember_stock(key, tokens):
    if len(_known_stock) >= KNOWN_STOCK_LIMIT:
        _known_stock.clear()
    _known_stock[key] = tuple(tokens)


def _stock_changed(sender, store_id, after_commit_only=False, **kwargs):
    forget_store_stock(store_id, at_once=not after_commit_only)


def _stock_shown(sender, request, store_id, **kwargs):
    """A page rendered for `request` is about to read what the store `store_id` can sell: its entry
    will be served only while the store's stock token is the one read now, before the stock."""
    tokens = getattr(request, "_page_cache_stock", None)
    if tokens is None or store_id in tokens:
        return  # a rendering that will not be stored, or a token already read
    key = stock_key(store_id)
    tokens[store_id] = _current_token(key, cache.get(key))


def _settings_changed(sender, setting, **kwargs):
    """Only tests change settings while running (outside any transaction)."""
    serves_a_page.cache_clear()  # ROOT_URLCONF, or an app whose URLs it includes
    if setting == "CACHES":
        forget_failures()  # another cache: what the last one refused is not this one's business
        return
    _new_generation()  # a page may show the setting


def forget_failures():
    """Start again with no failed write on record (the cache in use was replaced)."""
    _generation_pending.clear()
    _last_failure[0] = float("-inf")


# --- Who is served from the cache -------------------------------------------------------------


def shareable_request(request):
    """True for a request of a Wagtail page that would be the same for every visitor it could be
    shared with."""
    if request.method not in ("GET", "HEAD"):
        return False
    if not serves_a_page(get_urlconf(), request.path_info):
        return False  # the cart, accounts, staff screens, the admin, polls: never looked up
    if any(not TRACKING_PARAMETER.match(name) for name in request.GET):
        return False
    if request.COOKIES.get("messages"):  # django.contrib.messages' cookie storage
        return False
    session = getattr(request, "session", None)
    if session is None or session.session_key is None:
        return True  # no session: anonymous, no cart, no message (no query)
    return set(session.keys()) <= SHARED_SESSION_KEYS  # loads the session (one query)


@functools.lru_cache(maxsize=4096)
def serves_a_page(urlconf, path):
    """Whether `path` goes to Wagtail's page view under `urlconf`: remembered per path, since
    resolving walks every URL pattern (about a fifth of a millisecond, a fifth of a hit's time)."""
    try:
        return resolve(path, urlconf).func is wagtail_serve
    except Resolver404:
        return False


def entry_key(request):
    # The path without its campaign tags: every tagged link of a campaign shares one copy (a form's
    # `next` then names the first visitor's tagged address, which leads to the same page).
    raw = "|".join((request.get_host(), translation.get_language() or "", request.path))
    return entry_prefix() + hashlib.sha256(raw.encode()).hexdigest()


def mark_page_shareable(request):
    """Called as a Wagtail page is served (`before_serve_page`): its response may be stored.

    A page with view restrictions is never stored: Wagtail marks its answers (the password or
    login form) `Cache-Control: no-cache`, which `_storable` honours.
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
            if request.method in ("GET", "HEAD") and serves_a_page(get_urlconf(), request.path_info):
                self._read_generation(request)  # a page drawn for one visitor reads the catalogue
            response = self.get_response(request)
            if getattr(request, "_page_cache_shareable", False):
                response[HEADER] = "bypass"
            return response

        if not _retry_pending_generation():
            response = self.get_response(request)  # a change may be unrecorded: nothing stored
            if getattr(request, "_page_cache_shareable", False):
                response[HEADER] = "bypass"
            return response
        key = entry_key(request)
        asked = [generation_key(), key, *(stock_key(store_id) for store_id in _known_stock.get(key, ()))]
        found = cache.get_many(asked)
        generation = found.get(generation_key())
        entry = found.get(key)
        now = time.time()
        if (
            entry is not None
            and generation is not None
            and entry["generation"] == generation
            and entry["rendered_at"] <= now < entry["expires_at"]
            and self._stock_unchanged(key, entry, asked, found)
        ):
            return self._replay(request, entry)

        generation = _current_token(generation_key(), generation)  # read before rendering
        catalogue.set_generation(request, generation)
        find_site(request)
        request._page_cache_stock = {}  # the stock tokens of the stores the page shows (_stock_shown)
        response = self.get_response(request)
        if not getattr(request, "_page_cache_shareable", False):
            return response
        stock = request._page_cache_stock
        if generation is not None and None not in stock.values() and self._storable(request, response):
            self._store(request, response, key, generation, now, stock)
            response[HEADER] = "miss"
        else:
            response[HEADER] = "bypass"
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        """A view marked `menu.catalogue.reads_catalogue` (not a page: the checkout) gets the
        generation as a page drawn for one visitor does, to show (GET) only. A kept value may
        outlive its edit by up to a minute when Redis refused the new token: what a POST decides
        (an order's prices, whether the store takes it) is kept under the database's token
        instead (`menu.catalogue.use_database_token`, called by the view)."""
        if (
            request.method in ("GET", "HEAD")
            and getattr(view_func, "reads_catalogue", False)
            and not catalogue.keeps(request)
            and enabled()
        ):
            self._read_generation(request)

    @staticmethod
    def _read_generation(request):
        """Hand the generation to the catalogue (`menu.catalogue`) for a page that will not be stored:
        read before rendering, as for a stored page; none while a change may be unrecorded."""
        if _retry_pending_generation():
            catalogue.set_generation(request, _current_token(generation_key(), cache.get(generation_key())))
            find_site(request)

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
    def _stock_unchanged(key, entry, asked, found):
        """Whether the stock of every store the entry's page shows is as when it was rendered.
        The tokens were read with the entry when this process knew its stores (`_known_stock`);
        any other is read now, and remembered for the next time."""
        tokens = entry.get("stock")
        if not tokens:
            return True
        missing = [stock_key(store_id) for store_id in tokens if stock_key(store_id) not in asked]
        if missing:
            found = {**found, **cache.get_many(missing)}
            _remember_stock(key, tokens)
        return all(found.get(stock_key(store_id)) == token for store_id, token in tokens.items())

    @staticmethod
    def _store(request, response, key, generation, now, stock):
        body = CSRF_INPUT.sub(rb"\g<1>" + CSRF_PLACEHOLDER + rb"\g<2>", response.content)
        nonce = getattr(request, "_csp_nonce", None)  # set only if the page used it
        if isinstance(nonce, str) and nonce:
            body = body.replace(nonce.encode(), NONCE_PLACEHOLDER)
        end_of_minute = (math.floor(now / 60) + 1) * 60
        expires_at = min(now + settings.PAGE_CACHE_SECONDS, end_of_minute)
        entry = {
            "generation": generation,
            "stock": stock,
            "rendered_at": now,
            "expires_at": expires_at,
            "body": body,
            "headers": {name: response[name] for name in REPLAYED_HEADERS if name in response},
            "csp_update": getattr(response, "_csp_update", None),
        }
        cache.set(key, entry, timeout=max(1, math.ceil(expires_at - now)))
        if stock:
            _remember_stock(key, stock)

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
