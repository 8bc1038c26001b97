"""The live polls, answered before the rest of the stack while they hold their current ETag.

The order page and the staff boards poll every second or so, and nearly every answer is "304,
nothing changed". While the cache holds what such an ETag was made from — the order's version
behind a secret link (`ordering.tracking`), the store's version for a board, signed for this
browser and this minute (`ordering.boards.unchanged_etag`) — this middleware answers the 304
right after Django's security middleware (HTTPS redirect, HSTS, nosniff, referrer and opener
policies), for a host of `ALLOWED_HOSTS` only: no session, locale, CSRF, page cache, user,
messages, URL resolution nor view. Its 304 carries neither CSP nor X-Frame-Options (the answer of
a `fetch()` is no document: neither applies to it) nor the Vary and Content-Language of the
locale and session middleware (every poll answer is private and not stored: `live.js` fetches
with `cache: "no-store"`). Anything else (no `If-None-Match`, another ETag, nothing in
the cache, another method or path) goes down the stack to the views, which answer as they
always did: `order_status`, `board_status`, `delivery_status`.

`POLLS` repeats those views' paths (`ordering/urls.py`, `ordering/staff_urls.py`); a test checks
that it matches what `reverse` gives for each of them.
"""

import re

from django.core.exceptions import DisallowedHost
from django.utils.http import parse_etags

from . import tracking
from .boards import poll_holder, unchanged_etag
from .views.polls import not_modified

POLLS = re.compile(
    r"/(?:commandes/(?P<number>[^/]+)/(?P<secret>[^/]+)/etat/"
    r"|equipe/(?P<store_id>[0-9]{1,10})/(?P<board>cuisine|livraisons)/etat/)"
)
BOARDS = {"cuisine": "kitchen", "livraisons": "delivery"}


class LivePollMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        held = request.META.get("HTTP_IF_NONE_MATCH")
        if (
            held
            and request.method == "GET"
            and (match := POLLS.fullmatch(request.path_info))
            and known_host(request)
        ):
            response = unchanged(request, match, parse_etags(held))
            if response is not None:
                return response
        return self.get_response(request)


def known_host(request):
    """False for a Host outside `ALLOWED_HOSTS`: the stack below refuses it (400), as any request."""
    try:
        request.get_host()
    except DisallowedHost:
        return False
    return True


def unchanged(request, match, held):
    """The 304 for a poll whose ETag is still current, from the cache alone; else None."""
    if match["number"] is not None:
        etag = tracking.cached_etag(match["number"], match["secret"])
        return not_modified(etag) if etag is not None and etag in held else None
    board, store_id = BOARDS[match["board"]], int(match["store_id"])
    etag = unchanged_etag(board, store_id, held, holder=poll_holder(request))
    if etag is None:
        return None
    return not_modified(etag, never_cache=True)  # as the boards' views (`never_cache`)
