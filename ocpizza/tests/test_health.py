import json

import pytest
from django.conf import settings
from django.db import connections
from django.db.backends.postgresql.base import DatabaseWrapper as PostgresWrapper
from django.db.backends.sqlite3.base import DatabaseWrapper as SqliteWrapper

from ocpizza import health


def wrapper_like_default(wrapper_class, alias, **overrides):
    """A database connection built from the default one's settings, changed by `overrides`."""
    settings_dict = {**connections["default"].settings_dict, **overrides}
    return wrapper_class(settings_dict, alias=alias)


def test_healthz_answers_without_touching_the_database(client):
    # No django_db mark: pytest-django makes any query here an error.
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "release": health.current_release()}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_is_ready_when_the_database_answers_and_is_migrated(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "migrations": "ok", "cache": "ok"}
    assert response.json()["status"] == "ready"


DEAD_REDIS = "redis://127.0.0.1:9/0"  # the discard port: nothing listens there


@pytest.mark.django_db
def test_readyz_is_unavailable_when_the_cache_does_not_answer(client, settings):
    # No Redis behind CACHE_URL (with the fail-soft backend the settings choose: test_cache.py).
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": DEAD_REDIS}
    }

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["checks"] == {"database": "ok", "migrations": "ok", "cache": "failed"}
    assert "127.0.0.1" not in response.content.decode() and ":9" not in response.content.decode()
    # Liveness stays green: the process runs, it is just not ready for traffic.
    assert client.get("/healthz").status_code == 200


def test_a_cache_that_forgets_what_it_is_given_is_not_ready(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}

    assert health.cache_answers() is False


@pytest.mark.django_db
def test_health_answers_reveal_no_setting(client):
    body = client.get("/readyz").content.decode() + client.get("/healthz").content.decode()

    database = settings.DATABASES["default"]
    secrets = (settings.SECRET_KEY, str(database["NAME"]), database.get("PASSWORD"), database.get("HOST"))
    for secret in secrets:
        if secret:
            assert secret not in body
    assert set(json.loads(client.get("/readyz").content)) == {"status", "release", "checks"}


@pytest.mark.django_db  # lets these tests open their own connections
def test_an_empty_database_is_not_ready(tmp_path):
    connection = wrapper_like_default(
        SqliteWrapper,
        "health-empty",
        ENGINE="django.db.backends.sqlite3",
        NAME=str(tmp_path / "empty.sqlite3"),
    )
    try:
        assert health.readiness(connection) == {"database": "ok", "migrations": "pending"}
    finally:
        connection.close()


@pytest.mark.django_db
def test_an_unreachable_database_is_not_ready():
    connection = wrapper_like_default(
        PostgresWrapper,
        "health-unreachable",
        ENGINE="django.db.backends.postgresql",
        NAME="ocpizza",
        HOST="127.0.0.1",
        PORT="1",
        USER="nobody",
        PASSWORD="",
        OPTIONS={"connect_timeout": 2},
    )
    try:
        assert health.readiness(connection) == {"database": "failed", "migrations": "skipped"}
    finally:
        connection.close()


def test_release_defaults_to_dev_outside_an_installed_release(settings, tmp_path):
    settings.BASE_DIR = tmp_path
    health.current_release.cache_clear()
    try:
        assert health.current_release() == "dev"
        (tmp_path / "RELEASE").write_text("20261127-120000-abc1234\n")
        health.current_release.cache_clear()
        assert health.current_release() == "20261127-120000-abc1234"
    finally:
        health.current_release.cache_clear()


def test_probes_are_not_redirected_to_https_while_pages_are(settings, db):
    from django.test import Client

    settings.SECURE_SSL_REDIRECT = True
    client = Client()

    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/robots.txt").status_code == 301
