"""The site's URLconf with the menu's paths sent to a plain view first: no Wagtail page there."""

from django.http import HttpResponse
from django.urls import re_path

from ocpizza.urls import urlpatterns as site_patterns

urlpatterns = [re_path(r"^carte/", lambda request: HttpResponse("not a page")), *site_patterns]
