"""What every live poll answers with (tracking, kitchen and delivery boards): its ETag, and no
copy kept by the browser or a proxy without asking again."""

from django.http import HttpResponseNotModified
from django.utils.cache import patch_cache_control


def poll_response(response, etag):
    response["ETag"] = etag
    patch_cache_control(response, no_cache=True, private=True)
    return response


def not_modified(etag):
    return poll_response(HttpResponseNotModified(), etag)
