"""Security headers and cookie flags, as production serves them.

The tests' environment (pyproject's pytest-env) turns the HTTPS redirect and the Secure cookie flags
off, since the test client speaks plain HTTP. What production gets is read from the settings
module imported in a fresh process with a production-like environment; the headers themselves
are read from real responses over HTTPS (`secure=True`).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from accounts.tests.factories import PASSWORD, UserFactory
from ocpizza.tests.test_settings import PRODUCTION as SETTINGS_TEST_PRODUCTION

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {**SETTINGS_TEST_PRODUCTION, "PAYMENT_PROVIDER": "none"}
NAMES = [
    "SECURE_SSL_REDIRECT",
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_REFERRER_POLICY",
    "SECURE_CROSS_ORIGIN_OPENER_POLICY",
    "X_FRAME_OPTIONS",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "CSRF_COOKIE_SECURE",
    "CSRF_COOKIE_SAMESITE",
    "LANGUAGE_COOKIE_SECURE",
    "DEBUG",
]
PROBE = (
    "import json, django; from django.conf import settings; django.setup(); "
    f"print(json.dumps({{name: getattr(settings, name) for name in {NAMES!r}}}))"
)


@pytest.fixture(scope="module")
def production_settings():
    """The values of NAMES when the settings module is imported with production's environment."""
    prefixes = ("DJANGO", "SECURE_", "SESSION_", "CSRF_", "STATIC_", "SENTRY", "DEBUG", "PAYMENT_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env.update(PRODUCTION, DJANGO_SETTINGS_MODULE="ocpizza.settings")
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_sends_every_request_to_https_and_pins_it_for_a_year(production_settings):
    assert production_settings["DEBUG"] is False
    assert production_settings["SECURE_SSL_REDIRECT"] is True
    assert production_settings["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert production_settings["SECURE_HSTS_SECONDS"] == 31_536_000
    assert production_settings["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert production_settings["SECURE_HSTS_PRELOAD"] is True


def test_production_cookies_are_secure_and_the_session_out_of_scripts_reach(production_settings):
    assert production_settings["SESSION_COOKIE_SECURE"] is True
    assert production_settings["SESSION_COOKIE_HTTPONLY"] is True
    assert production_settings["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert production_settings["CSRF_COOKIE_SECURE"] is True
    assert production_settings["CSRF_COOKIE_SAMESITE"] == "Lax"
    assert production_settings["LANGUAGE_COOKIE_SECURE"] is True


def test_production_headers_settings(production_settings):
    assert production_settings["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert production_settings["SECURE_REFERRER_POLICY"] == "same-origin"
    assert production_settings["SECURE_CROSS_ORIGIN_OPENER_POLICY"] == "same-origin"
    assert production_settings["X_FRAME_OPTIONS"] == "DENY"


@pytest.mark.parametrize("url", ["/", "/compte/connexion/", "/panier/", "/page-qui-n-existe-pas/"])
def test_every_https_answer_carries_the_security_headers(client, home_page, url):
    response = client.get(url, secure=True)

    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


def test_the_session_cookie_is_http_only_and_same_site_and_the_csrf_cookie_same_site(client, db):
    user = UserFactory()
    client.get("/compte/connexion/", secure=True)  # sets the CSRF cookie

    client.post("/compte/connexion/", {"login": user.email, "password": PASSWORD}, secure=True)

    session, csrf = client.cookies["sessionid"], client.cookies["csrftoken"]
    assert session["httponly"] is True
    assert session["samesite"] == "Lax"
    assert csrf["samesite"] == "Lax"
