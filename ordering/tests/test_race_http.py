"""The stock race and a database outage through real HTTP: Gunicorn instances sharing PostgreSQL.

CI-sized version of bench/race.py (same code, bench/racekit): two Gunicorn instances with
production settings (deploy/gunicorn.conf.py, DEBUG off) serve the test database; customers are
threads posting the store menu's and the checkout's forms with their own cookies.
Run on PostgreSQL only; skipped on SQLite, as the other races are.
"""

import contextlib
import json
import os
import socket
import tempfile
import threading
import urllib.parse

import pytest
from django.db import connection

from bench.racekit.load import (
    LEAK_MARKERS,
    Browser,
    production_environment,
    run_customers,
    start_gunicorn,
    stop,
    wait_ready,
)
from bench.racekit.shop import DOUGH_PER_PIZZA, build_race_store, race_outcome

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.usefixtures("restore_migrated_rows"),
    pytest.mark.skipif(
        connection.vendor != "postgresql" and not os.environ.get("CI"),
        reason="needs PostgreSQL (set DATABASE_URL)",
    ),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

CUSTOMERS, PIZZAS = 30, 8
GUNICORN_APP = "ocpizza-race-test"  # the Gunicorns' connections, told from the test run's own


def database_url(host=None, port=None):
    """The test database's URL, for the Gunicorn instances (optionally through another address)."""
    settings = connection.settings_dict
    user = urllib.parse.quote(settings["USER"] or "postgres")
    password = f":{urllib.parse.quote(settings['PASSWORD'])}" if settings["PASSWORD"] else ""
    host = host or settings["HOST"] or "127.0.0.1"
    port = port or settings["PORT"] or 5432
    return f"postgres://{user}{password}@{host}:{port}/{settings['NAME']}?application_name={GUNICORN_APP}"


@pytest.fixture
def gunicorns():
    """start(count, database_url) → running instances; all stopped at the end of the test."""
    if connection.vendor != "postgresql":
        pytest.fail("CI must run the HTTP race on PostgreSQL")
    started = []
    workdir = tempfile.mkdtemp(prefix="ocpizza-race-")

    def start(count, url=None):
        env = production_environment(url or database_url())
        instances = [start_gunicorn(env, workdir) for _ in range(count)]
        started.extend(instances)
        for instance in instances:
            wait_ready(instance)
        return instances

    yield start
    for instance in started:
        stop(instance)


def test_thirty_customers_for_eight_pizzas_on_two_instances_get_eight_orders(gunicorns):
    shop = build_race_store(PIZZAS)
    instances = gunicorns(2)

    outcomes = run_customers([i.base for i in instances], shop, CUSTOMERS, timeout=240)

    outcome = race_outcome(shop["store_id"])
    assert [o for o in outcomes if o.result == "error"] == []
    assert sum(o.result == "ordered" for o in outcomes) == PIZZAS
    assert sum(o.result == "sold out" for o in outcomes) == CUSTOMERS - PIZZAS
    assert (outcome["orders"], outcome["pizzas"]) == (PIZZAS, PIZZAS)
    # Production's tasks backend: each order's confirmation queued with it, none for a refusal.
    assert (outcome["confirmations_queued"], outcome["orders_confirmed_once"]) == (PIZZAS, PIZZAS)
    assert outcome["levels"] == {
        str(shop["ingredient_id"]): {
            "on_hand": PIZZAS * DOUGH_PER_PIZZA,
            "reserved": PIZZAS * DOUGH_PER_PIZZA,
        }
    }
    assert outcome["negative_levels"] == 0
    assert {status for o in outcomes for status in o.statuses} <= {200, 302, 409}
    for instance in instances:
        stop(instance)
        assert "Traceback" not in instance.log_text()


# PostgreSQL restarted: its connections cut under a running Gunicorn ------------------------------


def terminate_connections():
    """What a restart does to the app: every session of its Gunicorns is cut (not the test run's
    own, such as a live server's, which later tests still use)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = %s",
            [GUNICORN_APP],
        )
        return cursor.fetchone()[0]


class Relay:
    """A TCP relay to PostgreSQL that can be switched off and on again on the same port: the
    database, as the app sees it, goes down and comes back without touching the shared server."""

    def __init__(self, target):
        self.target = target
        self.port = None
        self.listener = None
        self.sockets = []
        self.lock = threading.Lock()

    def start(self):
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port or 0))
        self.port = self.listener.getsockname()[1]
        self.listener.listen(64)
        threading.Thread(target=self.accept, args=(self.listener,), daemon=True).start()

    def accept(self, listener):
        while True:
            try:
                client, _address = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self.lock:
                if listener is not self.listener:  # stopped meanwhile
                    client.close()
                    upstream.close()
                    return
                self.sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self.pipe, args=(source, sink), daemon=True).start()

    def pipe(self, source, sink):
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def stop(self):
        """The database is down: no new connection, every open one cut."""
        with self.lock:
            listener, self.listener = self.listener, None
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
            listener.close()
            for sock in self.sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self.sockets = []


@pytest.fixture
def relay():
    settings = connection.settings_dict
    relay = Relay((settings["HOST"] or "127.0.0.1", int(settings["PORT"] or 5432)))
    relay.start()
    yield relay
    if relay.listener is not None:
        relay.stop()


def visit(instance, path, times):
    """`times` fresh visitors asking `path` of `instance`: the pages they got."""
    return [Browser([instance.base]).request(path) for _ in range(times)]


def test_connections_cut_by_a_restart_cost_no_request_once_it_is_back(gunicorns):
    shop = build_race_store(PIZZAS)
    (instance,) = gunicorns(1)
    # Every worker (2) holds a connection: several rounds reach both.
    assert {page.status for page in visit(instance, shop["store_menu_path"], 6)} == {200}

    assert terminate_connections() >= 1

    # CONN_HEALTH_CHECKS: each worker finds its connection dead before using it and opens another.
    pages = visit(instance, shop["store_menu_path"], 6)
    assert [page.status for page in pages] == [200] * 6


def test_while_the_database_is_down_pages_fail_cleanly_then_recover_without_a_restart(gunicorns, relay):
    shop = build_race_store(PIZZAS)
    (instance,) = gunicorns(1, database_url(host="127.0.0.1", port=relay.port))
    assert {page.status for page in visit(instance, shop["store_menu_path"], 4)} == {200}

    relay.stop()
    down = visit(instance, shop["store_menu_path"], 4) + visit(instance, "/readyz", 2)

    assert [page.status for page in down] == [500] * 4 + [503] * 2
    assert all("Le four a surchauffé" in page.body for page in down[:4])
    assert not any(marker in page.body for page in down for marker in LEAK_MARKERS)
    assert json.loads(down[4].body)["status"] == "unavailable"

    relay.start()
    back = visit(instance, shop["store_menu_path"], 6)

    assert [page.status for page in back] == [200] * 6
