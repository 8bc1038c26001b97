"""What one order placement costs in one process: CPU, wall time, queries and time in PostgreSQL.

    .venv/bin/python bench/order_cpu.py                      (300 orders, figures only)
    .venv/bin/python bench/order_cpu.py --orders 500 --profile cprofile
    .venv/bin/python bench/order_cpu.py --profile pyinstrument   (if pyinstrument is installed)

The order row of bench/http_bench.py is bound by the CPU of the two cores: this script finds where
an order's CPU goes, without Gunicorn, wrk or a second process sharing the cores. It copies the
bench's demo database (`ocpizza_bench_template`, left by a run of http_bench.py today) to
`ocpizza_order_cpu`, takes the bench's production settings (http_bench.environment: DEBUG off,
Redis db 8 here), opens Vaise for orders and writes single-use sessions with a cart as
bench/prepare.py does, then posts the checkout form through Django's test client once per order,
as a customer does: session read, form, quote, the order placed, the session written.

It prints per order: CPU of this process (time.process_time), wall time, queries and the time spent
waiting for them (a connection.execute_wrapper), and with --profile the top of a profile.
Warm-up orders (20) are not counted. The database is dropped at the end.
"""

import argparse
import cProfile
import gc
import io
import os
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import http_bench  # noqa: E402 - after the path: run as a script

DB_NAME = "ocpizza_order_cpu"
REDIS_DB = 8
WARMUP = 20
FORM = "application/x-www-form-urlencoded"
# The placing lock of a store's orders is taken by this statement (ordering.models.take_order_number)
# and held until the commit.
LOCKING_STATEMENT = 'UPDATE "ordering_ordernumbercounter"'


def postgres(statement):
    subprocess.run(  # noqa: S603
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c", statement],  # noqa: S607
        check=True,
        capture_output=True,
    )


class QueryTimer:
    """An execute_wrapper: how many queries, and how long the process waited for them."""

    def __init__(self):
        self.count = 0
        self.seconds = 0.0
        self.statements = []
        self.locked_at = None  # when the statement taking the placing lock started
        self.lock_seconds = 0.0  # from then to the end of the commit, summed over the orders

    def committed(self):
        if self.locked_at is not None:
            self.lock_seconds += time.perf_counter() - self.locked_at
            self.locked_at = None
            self.statements.append((time.perf_counter(), 0.0, "(commit done)"))

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        if sql.startswith(LOCKING_STATEMENT):
            self.locked_at = started
        try:
            return execute(sql, params, many, context)
        finally:
            took = time.perf_counter() - started
            self.seconds += took
            self.count += 1
            self.statements.append((started, took, sql))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=300, help="orders measured (300)")
    parser.add_argument("--dump", help="with --profile cprofile: also write it to this file")
    parser.add_argument("--profile", choices=["cprofile", "pyinstrument"], help="profile the measured orders")
    parser.add_argument("--sql", action="store_true", help="print the statements of the last order")
    parser.add_argument("--top", type=int, default=40, help="lines of the cProfile listing (40)")
    args = parser.parse_args(argv)

    if not http_bench.template_key():
        raise SystemExit(
            f"{http_bench.TEMPLATE_DB} is missing: run bench/http_bench.py --only order once first"
        )
    workdir = Path(tempfile.mkdtemp(prefix="ocpizza-order-cpu-"))
    env = http_bench.environment(workdir)
    env.update(
        DATABASE_URL=f"{http_bench.PG_URL}/{DB_NAME}",
        CACHE_URL=f"redis://{http_bench.REDIS_HOST}:{http_bench.REDIS_PORT}/{REDIS_DB}",
        ALLOWED_HOSTS="testserver,127.0.0.1",
        STATIC_MANIFEST="false",  # the checkout's redirect draws no page: no manifest needed
    )
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "ocpizza.settings"
    postgres(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    postgres(f"CREATE DATABASE {DB_NAME} TEMPLATE {http_bench.TEMPLATE_DB}")
    try:
        measure(args)
    finally:
        from django.db import connections

        connections.close_all()
        postgres(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


def measure(args):
    import django

    django.setup()
    from django.conf import settings
    from django.core.cache import cache
    from django.db import connection, connections
    from django.test import Client

    from bench import prepare
    from stores.models import StorePage

    cache.clear()
    vaise = StorePage.objects.live().get(slug="vaise")
    prepare.open_store_for_orders(vaise)
    size = prepare.available_sizes(vaise)[0]
    cart = {"cart": {"store_id": vaise.id, "lines": [[size, 1, []]], "code": ""}}
    total = WARMUP + args.orders
    keys = prepare.make_sessions([cart] * (total + 1))  # and one for --sql

    # One client: its handler loads the middleware once, as a Gunicorn worker does. The form is
    # sent url-encoded, as browsers and the bench's wrk send it (the test client's default is
    # multipart, slower to parse).
    client = Client(HTTP_HOST="127.0.0.1")

    def place(n):
        client.cookies[settings.SESSION_COOKIE_NAME] = keys[n]
        form = prepare.checkout_form(vaise.id, f"order-cpu-key-{n:06d}")
        response = client.post("/panier/commander/", urlencode(form), content_type=FORM)
        if response.status_code != 302 or "/commandes/" not in response["Location"]:
            raise SystemExit(f"order {n} answered {response.status_code} {response.get('Location', '')}")

    for n in range(WARMUP):
        place(n)
    gc.collect()
    gc.freeze()
    timer = QueryTimer()
    timers = [timer]  # the one timing now (--sql times its order apart, not in the figures)
    profiler = None
    if args.profile == "cprofile":
        profiler = cProfile.Profile(time.process_time)  # CPU, not the waits for PostgreSQL
    elif args.profile == "pyinstrument":
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
    wrapper_class = type(connections["default"])
    commit = wrapper_class._commit

    def timed_commit(wrapper):
        try:
            return commit(wrapper)
        finally:
            timers[-1].committed()

    wrapper_class._commit = timed_commit
    with connection.execute_wrapper(timer):
        if profiler:
            profiler.enable() if args.profile == "cprofile" else profiler.start()
        cpu, wall = time.process_time(), time.perf_counter()
        for n in range(WARMUP, total):
            place(n)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        if profiler:
            profiler.disable() if args.profile == "cprofile" else profiler.stop()
    if args.sql:
        timers.append(QueryTimer())
        with connection.execute_wrapper(timers[-1]):
            place(total)
    per = 1000 / args.orders
    print(
        f"{args.orders} orders: CPU {cpu * per:.2f} ms, wall {wall * per:.2f} ms, "
        f"queries {timer.count / args.orders:.1f}, waiting for PostgreSQL {timer.seconds * per:.2f} ms, "
        f"placing lock held {timer.lock_seconds * per:.2f} ms (per order)"
    )
    if args.profile == "cprofile":
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        if args.dump:
            stats.dump_stats(args.dump)
        stats.sort_stats("cumulative").print_stats(args.top)
        stats.sort_stats("tottime").print_stats(args.top)
        print(out.getvalue())
    elif args.profile == "pyinstrument":
        print(profiler.output_text(unicode=False, color=False, show_all=False))
    if args.sql:
        timer = timers[-1]
        first = timer.statements[0][0]
        print("  start  took ms  statement (start: ms since the first statement)")
        for started, took, sql in timer.statements:
            print(f"{(started - first) * 1000:7.2f} {took * 1000:6.2f}  {sql[:200]}")


if __name__ == "__main__":
    main()
