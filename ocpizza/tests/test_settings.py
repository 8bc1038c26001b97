"""Settings come from the environment; production refuses to start without its secret."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "false",
    "DJANGOSECRETKEY": "a-production-secret-that-is-long-enough-to-pass-the-deploy-checks-0123456789",
    "ALLOWED_HOSTS": "oc-pizza.fr,www.oc-pizza.fr",
    "DATABASE_URL": "sqlite:////tmp/ocpizza-settings-test.sqlite3",
}


def manage(*args, **env):
    """Run manage.py in a fresh process with only the given variables (no .env influence)."""
    prefixes = (
        "DJANGO",
        "SECURE_",
        "SESSION_",
        "CSRF_",
        "STATIC_",
        "SENTRY",
        "DEBUG",
        "PAYMENT_",
        "PAGE_CACHE",
        "CACHE_URL",
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    clean.update(env)
    clean["DJANGO_SETTINGS_MODULE"] = "ocpizza.settings"
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


def test_production_without_secret_key_refuses_to_start_with_a_clear_message():
    env = {**PRODUCTION, "DJANGOSECRETKEY": ""}

    result = manage("check", **env)

    assert result.returncode != 0
    assert "DJANGOSECRETKEY is not set" in result.stderr


@pytest.mark.parametrize("command", [["makemigrations", "--check", "--dry-run"], ["migrate"], ["check"]])
def test_any_command_without_a_secret_key_says_so_and_nothing_else(command):
    # A bare environment, as cron or an operator's fresh shell has (the empty key and DEBUG off
    # win over a developer's .env, which never overrides the process environment).
    bare = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"), "DEBUG": "false"}
    bare["DJANGOSECRETKEY"] = ""

    result = subprocess.run(
        [sys.executable, "manage.py", *command],
        cwd=ROOT,
        env=bare,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 1
    assert result.stderr.startswith("DJANGOSECRETKEY is not set.")
    assert "Traceback" not in result.stderr


def test_check_deploy_is_clean_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_sentry_starts_only_when_a_dsn_is_set():
    probe = "import sentry_sdk; print(sentry_sdk.get_client().is_active())"
    dsn = "https://public@sentry.example.invalid/1"

    off = manage("shell", "-c", probe, **PRODUCTION)
    on = manage("shell", "-c", probe, SENTRY_DSN=dsn, **PRODUCTION)

    assert off.stdout.strip().splitlines()[-1] == "False"
    assert on.stdout.strip().splitlines()[-1] == "True"


@pytest.mark.parametrize("url", ["/robots.txt"])
def test_robots_txt_points_to_the_sitemap(client, db, url):
    response = client.get(url)

    assert response.status_code == 200
    assert "Sitemap: http://testserver/sitemap.xml" in response.content.decode()
    disallowed = [line for line in response.content.decode().splitlines() if line.startswith("Disallow:")]
    # Nothing private or per-visitor is crawled: admin, accounts, carts and order pages.
    assert disallowed == [
        "Disallow: /admin/",
        "Disallow: /compte/",
        "Disallow: /panier/",
        "Disallow: /commandes/",
    ]


def test_favicon_redirects_to_the_static_icon(client, db):
    response = client.get("/favicon.ico")

    assert response.status_code == 301
    assert response["Location"].endswith("img/favicon.ico")


def test_sitemap_lists_live_pages(client, menu_page):
    response = client.get("/sitemap.xml")

    assert response.status_code == 200
    assert "/carte/" in response.content.decode()


def test_server_errors_get_the_branded_500_page(client, db):
    from accounts.tests.factories import PASSWORD, UserFactory

    admin = UserFactory(is_superuser=True, is_staff=True)
    client.login(username=admin.email, password=PASSWORD)
    client.raise_request_exception = False

    response = client.get("/sentry-debug/")

    assert response.status_code == 500
    assert "Le four a surchauffé" in response.content.decode()


def test_a_redis_that_never_answers_fails_fast_instead_of_holding_the_worker():
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()  # accepts connections, never says a word
    port = silent.getsockname()[1]
    # Pages get an empty cache at once; the readiness probe, which asks Redis itself, times out.
    probe = (
        "import time\nfrom django.core.cache import caches\ncache = caches['default']\n"
        "cache.set('probe', 1)\nprint(type(cache).__name__, cache.get('probe', 'miss'))\n"
        "started = time.monotonic()\n"
        "try:\n    cache.probe('probe', 1, 10)\n    print('answered')\n"
        "except Exception as error:\n    print(type(error).__name__, round(time.monotonic() - started))"
    )
    try:
        result = manage("shell", "-c", probe, CACHE_URL=f"redis://127.0.0.1:{port}/0", **PRODUCTION)
    finally:
        silent.close()

    lines = result.stdout.strip().splitlines()
    assert lines[-2:] == ["FailSoftRedisCache miss", "TimeoutError 2"], result.stdout + result.stderr


def test_the_page_cache_is_on_by_default_only_with_a_cache_every_worker_shares():
    probe = "from django.conf import settings; print(settings.PAGE_CACHE_SECONDS)"

    shared = manage("shell", "-c", probe, CACHE_URL="redis://127.0.0.1:6379/0", **PRODUCTION)
    per_process = manage("shell", "-c", probe, **PRODUCTION)
    chosen = manage("shell", "-c", probe, PAGE_CACHE_SECONDS="30", **PRODUCTION)

    assert shared.stdout.strip().splitlines()[-1] == "60", shared.stderr
    assert per_process.stdout.strip().splitlines()[-1] == "0", per_process.stderr
    assert chosen.stdout.strip().splitlines()[-1] == "30", chosen.stderr


def test_production_naming_the_payment_simulator_stops_every_command_with_the_reason():
    refused = manage("migrate", "--check", **PRODUCTION, PAYMENT_PROVIDER="simulator")
    allowed = manage("check", **PRODUCTION, PAYMENT_PROVIDER="simulator", PAYMENT_SIMULATOR_ALLOWED="true")
    default = manage("check", **PRODUCTION)

    assert refused.returncode == 1
    assert "(ordering.E001) The payment simulator takes no real money" in refused.stderr
    assert (allowed.returncode, default.returncode) == (0, 0)  # unset in production: no card online
