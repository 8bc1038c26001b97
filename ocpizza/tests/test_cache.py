"""A Redis outage degrades the site to "no cache", never to error pages; /readyz still reports it.

Outages are real sockets on 127.0.0.1: a closed port (Redis stopped) and a server that accepts
connections and never answers (Redis hung). Recovery is proved against the real Redis the
project's CI and development machines run on 127.0.0.1:6379.
"""

import contextlib
import os
import socket
import threading
import time

import pytest
from django.core.cache import caches
from django.test import override_settings

from accounts.tests.factories import PASSWORD, UserFactory
from stores.tests.factories import StorePageFactory

REAL_REDIS = ("127.0.0.1", 6379)
FAST = {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}


def fail_soft_caches(location, **options):
    """The CACHES setting `ocpizza/settings.py` builds for a redis:// CACHE_URL, with test timings."""
    return {
        "default": {
            "BACKEND": "ocpizza.cache.FailSoftRedisCache",
            "LOCATION": location,
            "KEY_PREFIX": f"ocpizza-tests-{os.getpid()}",
            "OPTIONS": {**FAST, "RETRY_AFTER": 0.3, "WARNING_INTERVAL": 60, **options},
        }
    }


def cache_messages(caplog):
    return [record.getMessage() for record in caplog.records if record.name == "ocpizza.cache"]


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SilentRedis:
    """A TCP server on 127.0.0.1 that accepts connections and never answers, until told to
    forward them to the real Redis (the hung server "replaced" by a working one, same address)."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.accepted = 0
        self.forward = False
        self._sockets = []
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def _serve(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.accepted += 1
            self._sockets.append(client)
            if self.forward:
                upstream = socket.create_connection(REAL_REDIS)
                self._sockets.append(upstream)
                threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()
                threading.Thread(target=self._pipe, args=(upstream, client), daemon=True).start()

    @staticmethod
    def _pipe(source, target):
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                target.sendall(data)
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)

    def close(self):
        self.listener.close()
        for sock in self._sockets:
            sock.close()


@pytest.fixture
def silent_redis():
    server = SilentRedis()
    yield server
    server.close()


@pytest.fixture
def real_redis():
    try:
        socket.create_connection(REAL_REDIS, timeout=0.5).close()
    except OSError:
        if os.environ.get("CI"):
            pytest.fail("Redis is not running on 127.0.0.1:6379: .ci/run starts it")
        pytest.skip("Redis is not running on 127.0.0.1:6379")


@pytest.fixture(params=["closed port", "silent server"])
def redis_down(request):
    """CACHES pointing at a Redis that is stopped, then at one that hangs."""
    if request.param == "closed port":
        location = f"redis://127.0.0.1:{closed_port()}/0"
        server = None
    else:
        server = SilentRedis()
        location = server.url
    with override_settings(CACHES=fail_soft_caches(location)):
        yield
    if server:
        server.close()


@pytest.fixture
def storefront(menu_page, store_index):
    store = StorePageFactory(parent=store_index, title="OC Pizza Bellecour", slug="bellecour")
    return {"menu": menu_page, "store": store}


@pytest.mark.usefixtures("redis_down")
@pytest.mark.parametrize(
    ("url", "shows"),
    [
        ("/", "OC Pizza"),
        ("/carte/", "La carte"),
        ("/pizzerias/bellecour/", "OC Pizza Bellecour"),
        ("/compte/connexion/", 'name="password"'),
        ("/admin/login/", 'name="password"'),
        ("/sitemap.xml", "/pizzerias/bellecour/"),
    ],
)
def test_pages_answer_with_their_content_while_redis_is_down(client, storefront, url, shows):
    response = client.get(url)

    assert response.status_code == 200
    assert shows in response.content.decode()


@pytest.mark.usefixtures("redis_down")
def test_readyz_still_reports_the_cache_down(client, storefront):
    assert client.get("/").status_code == 200

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["cache"] == "failed"


@pytest.mark.usefixtures("redis_down")
def test_a_signed_in_customer_stays_signed_in_while_redis_is_down(client, home_page):
    customer = UserFactory(email="claire@example.fr")
    client.login(username=customer.email, password=PASSWORD)

    response = client.get("/compte/")

    assert response.status_code == 200
    assert "claire@example.fr" in response.content.decode()


def test_a_dead_redis_is_not_asked_again_before_the_back_off(silent_redis):
    with override_settings(CACHES=fail_soft_caches(silent_redis.url, RETRY_AFTER=60)):
        cache = caches["default"]
        started = time.monotonic()
        answers = [cache.get("menu", "miss") for _ in range(5)]
        elapsed = time.monotonic() - started

    assert answers == ["miss"] * 5
    assert silent_redis.accepted == 1
    assert elapsed < 0.9  # one timeout of 0.2 s, not five (1 s)


def test_an_outage_is_logged_once_per_interval(caplog):
    location = f"redis://127.0.0.1:{closed_port()}/0"
    with override_settings(CACHES=fail_soft_caches(location, RETRY_AFTER=0)):
        cache = caches["default"]
        for _ in range(3):
            cache.set("menu", "cached")

    assert cache_messages(caplog) == [
        "cache unreachable (ConnectionError during set): pages are served without cache; next try in 0 s"
    ]


@pytest.mark.usefixtures("real_redis")
def test_the_cache_works_again_once_redis_is_back(client, storefront, silent_redis, caplog):
    with override_settings(CACHES=fail_soft_caches(silent_redis.url)):
        cache = caches["default"]
        cache.set("greeting", "bonjour")
        assert cache.get("greeting", "miss") == "miss"
        assert client.get("/readyz").status_code == 503

        silent_redis.forward = True  # the hung server is replaced by the real Redis
        time.sleep(0.35)  # the back-off (RETRY_AFTER) passes
        caplog.clear()
        cache.set("greeting", "bonjour")
        assert cache.get("greeting", "miss") == "bonjour"
        cache.delete("greeting")
        ready = client.get("/readyz")

    assert ready.status_code == 200
    assert cache_messages(caplog) == ["cache answers again"]


def test_every_call_reuses_one_redis_client(real_redis, monkeypatch):
    """Django builds a `redis.Redis` per call, which costs more than the call itself on loopback:
    the fail-soft cache keeps one per connection pool, and its answers are unchanged."""
    import redis

    built = []
    original = redis.Redis.__init__

    def counting(self, *args, **kwargs):
        built.append(self)
        original(self, *args, **kwargs)

    with override_settings(CACHES=fail_soft_caches("redis://127.0.0.1:6379/0")):
        cache = caches["default"]
        monkeypatch.setattr(redis.Redis, "__init__", counting)
        cache.set("greeting", "bonjour")
        answers = [cache.get("greeting") for _ in range(5)]
        added = cache.add("greeting", "salut")
        cache.delete("greeting")
        gone = cache.get("greeting", "miss")

    assert answers == ["bonjour"] * 5
    assert added is False and gone == "miss"
    assert len(built) == 1


def test_set_or_raise_raises_where_set_skips_the_write_and_waits_for_redis_once(silent_redis):
    """The tokens and versions that must be known written (`set_or_raise`) are not skipped silently
    while Redis is down, as `set` is; and a hung Redis is waited for once, then the breaker's
    back-off answers at once (the boards' version is written under the placing lock)."""
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    with override_settings(CACHES=fail_soft_caches(silent_redis.url, RETRY_AFTER=60)):
        cache = caches["default"]
        with pytest.raises(RedisTimeoutError):
            cache.set_or_raise("token", "a", timeout=None)
        started = time.monotonic()
        with pytest.raises(RedisConnectionError, match="taken as down until its back-off ends"):
            cache.set_or_raise("token", "b", timeout=None)
        answer = cache.get("token", "miss")  # the failure was recorded for every call
        elapsed = time.monotonic() - started

    assert answer == "miss"
    assert silent_redis.accepted == 1
    assert elapsed < 0.15  # no second timeout of 0.2 s


def test_set_or_raise_writes_the_value(real_redis):
    with override_settings(CACHES=fail_soft_caches("redis://127.0.0.1:6379/0")):
        cache = caches["default"]
        cache.set_or_raise("token", "written", timeout=None)
        try:
            assert cache.get("token") == "written"
        finally:
            cache.delete("token")
