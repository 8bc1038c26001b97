"""What every live poll answers with (tracking, kitchen and delivery boards): its ETag, and no
copy kept by the browser or a proxy without asking again."""

import functools

from django.http import HttpResponse, HttpResponseNotModified
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.http import http_date


def poll_response(response, etag):
    response["ETag"] = etag
    patch_cache_control(response, no_cache=True, private=True)
    return response


def not_modified(etag, *, never_cache=False):
    """The 304 of a poll, with the headers `poll_response` (and, for `never_cache`, the boards'
    `never_cache` decorator) would give it: worked out once, since a 304 is most answers."""
    response = HttpResponseNotModified()
    response["ETag"] = etag
    response["Cache-Control"] = _cache_control(never_cache)
    if never_cache:
        response["Expires"] = http_date()
    return response


@functools.cache
def _cache_control(never_cache):
    response = poll_response(HttpResponse(), "")
    if never_cache:
        add_never_cache_headers(response)
    return response["Cache-Control"]
