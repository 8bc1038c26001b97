"""Every state-changing URL refuses a POST without a CSRF token.

The URLs are read from the resolver, not listed by hand: a view added later is covered without
touching this file. Each pattern gets a concrete URL (sample values for its parameters), which
must resolve back to the same view; a POST to it without a token must be refused by Django's
CSRF middleware (403, logged by `django.security.csrf`) before the view runs, whether the view
accepts POST or not. The Wagtail admin (under /admin/) is Wagtail's and tested by Wagtail.
"""

import logging
import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from ordering.views import webhooks

# The only views allowed to skip the check, with the reason.
EXEMPT = {
    # Square cannot hold our token: the HMAC signature of the body replaces it (docs/security.md).
    webhooks.square_webhook: "signature-checked Square webhook",
}

# Sample values for a URL's parameters, by converter (paths) or by group name (regular expressions).
CONVERTER_SAMPLES = {"int": "1", "str": "abc", "slug": "abc", "path": "abc", "uuid": "0" * 32}
GROUP_SAMPLES = {"key": "abc", "uidb36": "1"}
ROUTE_PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
NAMED_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?:[^()]|\([^()]*\))*\)")
UNNAMED_GROUP = re.compile(r"\((?:[^()]|\([^()]*\))*\)")
UNNAMED_SAMPLES = {r"(\d+)": "1", "(.*)": "abc", r"((?:[\w\-]+/)*)": ""}  # the last: a page's path


def concrete(pattern):
    """A URL fragment that the pattern matches, made of sample values."""
    text = str(pattern.pattern)
    if pattern.pattern.__class__.__name__ == "RoutePattern":
        return ROUTE_PARAMETER.sub(lambda m: CONVERTER_SAMPLES[m["converter"] or "str"], text)
    text = text.removeprefix("^").removesuffix("$").removesuffix(r"\Z")
    text = NAMED_GROUP.sub(lambda m: GROUP_SAMPLES[m["name"]], text)
    return UNNAMED_GROUP.sub(lambda m: UNNAMED_SAMPLES[m[0]], text).replace("\\", "")


def public_urls(resolver=None, prefix="/"):
    """(url, view) for every non-admin pattern of the project."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        url = prefix + concrete(pattern)
        if isinstance(pattern, URLResolver):
            if url.startswith("/admin/"):  # Wagtail's admin
                continue
            yield from public_urls(pattern, url)
        else:
            assert isinstance(pattern, URLPattern)
            yield url, pattern.callback


URLS = sorted(dict(public_urls()).items())


def test_the_walk_finds_the_views_of_every_app():
    urls = [url for url, _view in URLS]

    for expected in [
        "/panier/ajouter/",
        "/panier/commander/",
        "/commandes/abc/annuler/",
        "/commandes/abc/abc/payer/",
        "/compte/connexion/",
        "/compte/adresses/1/supprimer/",
        "/equipe/1/prise-de-commande/",
        "/equipe/1/cuisine/commande/1/",
        "/equipe/1/livraisons/commande/1/livree/",
        "/i18n/setlang/",
        "/admin/password_reset/",
        "/documents/authenticate_with_password/1/",
        "/paiements/square/webhook/",
        "/",  # a Wagtail page: store pages, the locator, the menu
    ]:
        assert expected in urls
    assert not [url for url in urls if url.startswith("/admin/") and url != "/admin/password_reset/"]


@pytest.mark.parametrize("url,view", URLS, ids=[url for url, _view in URLS])
def test_each_sample_url_reaches_its_own_view(url, view):
    assert resolve(url).func is view


def test_only_the_listed_views_skip_the_csrf_check():
    exempt = {view for _url, view in URLS if getattr(view, "csrf_exempt", False)}

    assert exempt == set(EXEMPT)


@pytest.mark.parametrize("who", ["anonymous", "superuser"])
def test_a_post_without_a_token_is_refused_everywhere(who, home_page, caplog, django_user_model):
    client = Client(enforce_csrf_checks=True)
    if who == "superuser":  # past every login and role check, so only the token can stop it
        client.force_login(django_user_model.objects.create_superuser(email="root@example.fr"))
    accepted = []

    for url in [url for url, view in URLS if view not in EXEMPT]:
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="django.security.csrf"):
            response = client.post(url, {"quantity": "1"})
        refused_by_csrf = [r.name for r in caplog.records].count("django.security.csrf") == 1
        if response.status_code != 403 or not refused_by_csrf:
            accepted.append((url, response.status_code))

    assert accepted == []


def test_the_same_post_with_a_token_passes_the_check(home_page, caplog):
    client = Client(enforce_csrf_checks=True)
    client.get("/compte/connexion/")
    token = client.cookies["csrftoken"].value

    with caplog.at_level(logging.WARNING, logger="django.security.csrf"):
        response = client.post("/panier/code/", {"code": "", "csrfmiddlewaretoken": token})

    assert response.status_code == 302
    assert not [r for r in caplog.records if r.name == "django.security.csrf"]
