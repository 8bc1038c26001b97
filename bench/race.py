"""The stock race through the real checkout: many customers, two Gunicorn instances, one database.

Drops and creates a throw-away PostgreSQL database (default `ocpizza_race` on 127.0.0.1:5432 as
postgres: never point it at a database you care about), migrates it, builds one store whose stock
allows exactly --stock pizzas (the project's factories and stock services), starts two Gunicorn
instances with production settings (deploy/gunicorn.conf.py, DEBUG off, a random key) on free
loopback ports, and releases --customers customers at once, each doing the HTTP journey of a
visitor without JavaScript — store menu, add to cart, checkout page, confirm (pickup or delivery,
cash) — on the two instances in turn. Then checks: exactly --stock orders, each with its
confirmation queued (tasks are rows of the database, as in production), no stock left, no
negative level, every refusal a page saying the pizza is sold out, no 500.

    .venv/bin/python bench/race.py                      (200 customers, stock for 50)
    .venv/bin/python bench/race.py --customers 30 --stock 8
    .venv/bin/python bench/race.py --restart-postgres   (also restarts the PostgreSQL cluster
                                                         during a second wave: needs root)

Exit status 0 when every check holds, 1 otherwise. This process never imports Django: the store
is built and read by `python -m bench.racekit.shop` subprocesses.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.racekit.load import (  # noqa: E402 - the project root first
    production_environment,
    run_customers,
    start_gunicorn,
    stop,
    summary,
    wait_ready,
)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/ocpizza_race"
TIME_LIMIT = 300  # seconds for the customers, whatever happens


def psql(server_url, sql):
    parts = urlsplit(server_url)
    command = [
        "psql",
        "-v",
        "ON_ERROR_STOP=1",
        "-q",
        "-X",
        "-d",
        urlunsplit(parts._replace(path="/postgres")),
    ]
    subprocess.run([*command, "-c", sql], check=True, capture_output=True, text=True, timeout=60)  # noqa: S603


def fresh_database(url):
    name = urlsplit(url).path.lstrip("/")
    if not name.replace("_", "").isalnum() or "race" not in name:
        raise SystemExit(f"refusing to drop {name!r}: the race database's name must contain 'race'")
    psql(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    psql(url, f'CREATE DATABASE "{name}"')


def django(env, *arguments, timeout=600):
    result = subprocess.run(  # noqa: S603 - our own command lines
        [sys.executable, *arguments], env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(arguments)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def check(outcomes, outcome, stock):
    """The race's verdict: a list of failures (empty when everything holds)."""
    failures = []
    ordered = [o for o in outcomes if o.result == "ordered"]
    errors = [o for o in outcomes if o.result == "error"]
    if outcome["orders"] != stock or len(ordered) != stock:
        failures.append(
            f"{outcome['orders']} orders in the database, {len(ordered)} confirmed, expected {stock}"
        )
    free = [level["on_hand"] - level["reserved"] for level in outcome["levels"].values()]
    if free != [0]:
        failures.append(f"stock left (free per ingredient): {free}, expected [0]")
    queued, once, orders = (
        outcome["confirmations_queued"],
        outcome["orders_confirmed_once"],
        outcome["orders"],
    )
    if queued != orders or once != orders:
        failures.append(
            f"{queued} confirmations queued for {orders} orders ({once} with one), expected one each"
        )
    if outcome["negative_levels"]:
        failures.append(f"{outcome['negative_levels']} negative stock levels")
    if any(status >= 500 for o in outcomes for status in o.statuses):
        failures.append("a 5xx answer")
    failures.extend(f"customer {o.number}: {o.stage}: {o.detail}" for o in errors[:10])
    return failures


def report(outcomes, outcome, seconds, customers, stock):
    results, stages, statuses = summary(outcomes)
    times = [o.seconds for o in outcomes]
    print(f"customers {customers}, stock for {stock} pizzas, 2 Gunicorn instances x 2 workers")
    print(
        f"wall time {seconds:.1f} s; per customer journey p50 {percentile(times, 0.5):.2f} s, "
        f"p95 {percentile(times, 0.95):.2f} s, max {max(times):.2f} s"
    )
    print("outcomes:", ", ".join(f"{key} {value}" for key, value in sorted(results.items())))
    print("  where:", ", ".join(f"{key} {value}" for key, value in sorted(stages.items())))
    print("HTTP statuses:", ", ".join(f"{key}: {value}" for key, value in sorted(statuses.items())))
    print(
        f"database: {outcome['orders']} orders ({outcome['fulfilments'].count('pickup')} pickup, "
        f"{outcome['fulfilments'].count('delivery')} delivery), {outcome['pizzas']} pizzas, "
        f"{outcome['confirmations_queued']} confirmations queued, "
        f"stock {outcome['levels']}, negative levels {outcome['negative_levels']}"
    )


def restart_postgres(delay):
    """Restart the local cluster `delay` seconds into the wave (Debian's pg_ctlcluster, as root)."""
    time.sleep(delay)
    clusters = subprocess.run(
        ["pg_lsclusters", "-h"],  # noqa: S607 - Debian's tool, from the PATH
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    version, name = clusters[0], clusters[1]
    subprocess.run(["pg_ctlcluster", version, name, "restart", "-m", "fast"], check=True, timeout=120)  # noqa: S603, S607
    print(f"PostgreSQL {version}/{name} restarted during the wave")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--stock", type=int, default=50, help="pizzas the stock allows")
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument(
        "--restart-postgres",
        action="store_true",
        help="then restart PostgreSQL during a second wave of customers (needs root; not for shared servers)",
    )
    options = parser.parse_args()

    env = production_environment(options.database_url)
    fresh_database(options.database_url)
    django(env, "manage.py", "migrate", "--no-input", "-v", "0")
    shop = json.loads(django(env, "-m", "bench.racekit.shop", "build", str(options.stock)))
    workdir = tempfile.mkdtemp(prefix="ocpizza-race-")
    instances = [start_gunicorn(env, workdir) for _ in range(2)]
    try:
        for instance in instances:
            wait_ready(instance)
        bases = [instance.base for instance in instances]
        started = time.monotonic()
        outcomes = run_customers(bases, shop, options.customers, timeout=TIME_LIMIT)
        seconds = time.monotonic() - started
        outcome = json.loads(django(env, "-m", "bench.racekit.shop", "verify", str(shop["store_id"])))
        report(outcomes, outcome, seconds, options.customers, options.stock)
        failures = check(outcomes, outcome, options.stock)
        # Read before the restart wave, whose failed requests are logged with their tracebacks.
        logs = "".join(instance.log_text() for instance in instances)
        if "Traceback" in logs:
            failures.append("a traceback in Gunicorn's log:\n" + logs[-3000:])
        if options.restart_postgres:
            failures += restart_wave(bases, shop)
    finally:
        for instance in instances:
            stop(instance)
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        return 1
    print("OK: exactly the stock was sold, every refusal said sold out, no 5xx")
    return 0


def restart_wave(bases, shop):
    """A second wave against the sold-out store while PostgreSQL restarts, then one that must pass."""
    restarter = threading.Thread(target=restart_postgres, args=(0.5,))
    restarter.start()
    during = run_customers(bases, shop, 40, timeout=TIME_LIMIT)
    restarter.join()
    after = run_customers(bases, shop, 20, timeout=TIME_LIMIT)
    results_during, _stages, statuses_during = summary(during)
    results_after, _stages, statuses_after = summary(after)
    print("during the restart:", results_during, "statuses", statuses_during)
    print("after the restart:", results_after, "statuses", statuses_after)
    failures = []
    if any(o.result == "error" and o.stage == "transport" for o in during + after):
        failures.append("a request got no HTTP answer during or after the restart")
    if any("stack trace shown" in o.detail for o in during):
        failures.append("an error page showed a stack trace during the restart")
    if any(o.result != "sold out" for o in after):
        failures.append("Gunicorn did not recover after PostgreSQL's restart")
    return failures


if __name__ == "__main__":
    sys.exit(main())
