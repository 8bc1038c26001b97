"""One view, for bench/minimal_settings.py: the cheapest page Django can answer.

Wagtail's admin URLs stay (never requested): the site's CSP middleware asks for the admin's prefix.
"""

from django.http import HttpResponse
from django.urls import include, path
from wagtail.admin import urls as wagtailadmin_urls


def minimal(request):
    return HttpResponse("OC Pizza\n", content_type="text/plain; charset=utf-8")


urlpatterns = [
    path("", minimal, name="minimal"),
    path("admin/", include(wagtailadmin_urls)),
]
