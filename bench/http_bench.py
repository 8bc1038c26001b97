"""The site under load, beside Django's ceiling: requests/s, latency and queries per endpoint.

    make bench-http                 (= .venv/bin/python bench/http_bench.py)
    .venv/bin/python bench/http_bench.py --duration 8 --requests 10000 --json results.json

What it does, in about four minutes on two cores (docs/performance.md):

1. drops and creates the PostgreSQL database `ocpizza_bench` (127.0.0.1:5432, user postgres),
   migrates it, loads the demo data, collects the static files into a temporary folder, and
   flushes Redis database 7 (127.0.0.1:6379), the bench's cache;
2. runs bench/prepare.py (Django, its own process): stock, sessions, and the queries of each
   request counted with Django's test client, cold (cache just cleared) and warm;
3. starts the site with production settings (DEBUG off, a random key, Gunicorn's production
   configuration deploy/gunicorn.conf.py with 2 sync workers) on a free loopback port, and beside
   it the minimal view (bench/minimal_settings.py: same settings and middleware, one view) under
   the same Gunicorn settings on another;
4. for each endpoint, warms it, then loads it with `wrk` (16 connections) and bench/wrk.lua,
   which checks every answer (a page 200, a poll 304, an order a redirect to its page);
5. prints the table, the budgets of issue #13 met or not, and the RSS of the site's workers.

The load generator is wrk, a separate C program: this process never imports Django. Gunicorn is
stopped (its whole process group) on exit, Ctrl-C or failure, and the database is dropped.
Nothing listens outside 127.0.0.1.
"""

import argparse
import concurrent.futures
import contextlib
import hashlib
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
DB_NAME = "ocpizza_bench"
TEMPLATE_DB = f"{DB_NAME}_template"  # the demo database of the last run, copied by the next one
CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ocpizza-bench"
PG_URL = "postgres://postgres@127.0.0.1:5432"
REDIS_HOST, REDIS_PORT, REDIS_DB = "127.0.0.1", 6379, 7
CONNECTIONS = 16  # "16 concurrent customers" of the order placement budget; every run uses it
ORDER_SESSIONS = 6000  # single-use sessions with a cart: one order each
# A customer placing orders back to back (one connection) while a page is measured, with sessions of
# its own: what a rush of sales costs the pages that do not show the stock they change. The orders
# start a second before the page's warm-up and go on `BACKGROUND_MARGIN` seconds longer than its
# measure needs (the drain between them, wrk's start); sessions for 60 orders a second.
BACKGROUND_CONNECTIONS, BACKGROUND_MARGIN, BACKGROUND_ORDERS_PER_SECOND = 1, 10, 60
DURING_ORDERS = ("home (during orders)",)
WORKERS = 2


class BenchError(Exception):
    """A missing tool or a failed step: printed without a traceback, exit status 1."""


# --- Pure helpers (tested in bench/tests/test_http_bench.py) ---------------------------------------

BENCH_LINE = re.compile(r"^BENCH (?P<fields>.*)$", re.MULTILINE)


def parse_wrk(output):
    """The figures of bench/wrk.lua's last line: {"requests": int, "p50_us": int, ...}."""
    matches = list(BENCH_LINE.finditer(output))
    if not matches:
        raise BenchError(f"wrk printed no BENCH line:\n{output}")
    figures = {}
    for field in matches[-1].group("fields").split():
        name, _, value = field.partition("=")
        figures[name] = int(value)
    return figures


def summarize(figures):
    """Requests/s and latencies in ms from parse_wrk's figures."""
    seconds = figures["duration_us"] / 1_000_000
    return {
        "rps": figures["requests"] / seconds if seconds else 0.0,
        "p50": figures["p50_us"] / 1000,
        "p95": figures["p95_us"] / 1000,
        "p99": figures["p99_us"] / 1000,
        "requests": figures["requests"],
        "bad": figures["bad"]
        + figures["connect_errors"]
        + figures["read_errors"]
        + figures["write_errors"]
        + figures["timeouts"],
        "wrapped": figures["wrapped"],
    }


def raw_request(method, path, host, *, cookies=None, headers=None, form=None):
    """One complete HTTP/1.1 request as wrk sends it ("{n}" left for bench/wrk.lua to fill)."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "User-Agent: ocpizza-bench"]
    if cookies:
        lines.append("Cookie: " + "; ".join(f"{name}={value}" for name, value in cookies.items()))
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    body = ""
    if form is not None:
        body = "&".join(f"{quote_form(name)}={quote_form(str(value))}" for name, value in form.items())
        lines += ["Content-Type: application/x-www-form-urlencoded"]
        # bench/wrk.lua counts it again after filling "{n}".
        lines.append(f"Content-Length: {len(body.encode())}")
    return "\r\n".join(lines) + "\r\n\r\n" + body


def quote_form(value):
    """URL-encode `value` for a form body, keeping the "{n}" placeholder intact."""
    from urllib.parse import quote_plus

    return "{n}".join(quote_plus(part) for part in value.split("{n}"))


def ratio(rps, ceiling):
    return rps / ceiling if ceiling else 0.0


def format_table(rows, ceiling):
    """The printed table: one row per run, ratios to the ceiling (the minimal view's median)."""
    header = (
        f"{'endpoint':<24} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'queries c/w':>11} {'ratio':>6} {'bad':>5}"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        queries = row.get("queries")
        shown = f"{queries[0]}/{queries[1]}" if queries else "-"
        lines.append(
            f"{row['name']:<24} {row['rps']:>8.1f} {row['p50']:>8.1f} {row['p95']:>8.1f} "
            f"{row['p99']:>8.1f} {shown:>11} {ratio(row['rps'], ceiling):>6.3f} {row['bad']:>5}"
        )
    return "\n".join(lines)


ANONYMOUS_PAGES = ("home", "menu", "store_menu", "product")
# The rows of the table, in order (`scenarios` builds them; `--only` names some of them).
ENDPOINTS = (
    *ANONYMOUS_PAGES,
    *(f"{page} (cold)" for page in ANONYMOUS_PAGES),
    "cart_add",
    "checkout",
    "order",
    "tracking",
    "board",
    *DURING_ORDERS,
)
RSS_BUDGET_MB, RSS_BUDGET_REQUESTS = 150, 10_000


def budgets(rows, ceiling, workers):
    """Issue #13's budgets as (budget, figures, verdict) with verdict "met", "NOT MET" or "not measured".

    `rows` by name ("home", "home (cold)", "order", …), `workers` [(pid, rss_kb, requests)].
    """
    by_name = {row["name"]: row for row in rows}
    results = []

    def verdict(ok):
        return "met" if ok else "NOT MET"

    for page in ANONYMOUS_PAGES:
        warm, cold = by_name.get(page), by_name.get(f"{page} (cold)")
        if warm is not None:
            r = ratio(warm["rps"], ceiling)
            results.append((f"{page}: warm ≥ 0.50 of the ceiling", f"{r:.3f}", verdict(r >= 0.50)))
        if cold is not None:
            # Judged on the first drawing after an edit, the one that reads the catalogue again.
            r, (first, again) = ratio(cold["rps"], ceiling), cold["queries"]
            results.append(
                (
                    f"{page}: cold ≥ 0.10 of the ceiling with ≤ 10 queries",
                    f"{r:.3f}, {first} queries first after an edit ({again} after)",
                    verdict(r >= 0.10 and first <= 10),
                )
            )
    # What a customer waits for with a cart (the shop's own, beside the order placement).
    for name, what in (("cart_add", "cart add"), ("checkout", "checkout page"), ("order", "order placement")):
        row = by_name.get(name)
        if row is not None:
            results.append(
                (
                    f"{what} p95 < 150 ms ({CONNECTIONS} concurrent customers)",
                    f"{row['p95']:.1f} ms",
                    verdict(row["p95"] < 150),
                )
            )
    for name in ("tracking", "board"):
        row = by_name.get(name)
        if row is not None:
            r, queries = ratio(row["rps"], ceiling), max(row["queries"])
            results.append(
                (
                    f"{name} check: ≤ 3 queries and ≥ 0.80 of the ceiling",
                    f"{r:.3f}, {queries} queries",
                    verdict(r >= 0.80 and queries <= 3),
                )
            )
    served = [w for w in workers if w[2] >= RSS_BUDGET_REQUESTS]
    if served:
        rss = max(w[1] for w in served) / 1024
        results.append(
            (
                f"worker < {RSS_BUDGET_MB} MB resident after {RSS_BUDGET_REQUESTS:,} requests",
                f"{rss:.0f} MB",
                verdict(rss < RSS_BUDGET_MB),
            )
        )
    else:
        most = max((w[2] for w in workers), default=0)
        results.append(
            (
                f"worker < {RSS_BUDGET_MB} MB resident after {RSS_BUDGET_REQUESTS:,} requests",
                f"busiest worker served {most:,} (use --requests {RSS_BUDGET_REQUESTS})",
                "not measured",
            )
        )
    return results


def requests_per_worker(access_log_text):
    """{pid: requests} from the access log, whose lines start with the worker's pid ("<1234> …")."""
    counts = {}
    for line in access_log_text.splitlines():
        pid = line.partition(" ")[0].strip("<>")
        if pid.isdigit():
            counts[int(pid)] = counts.get(int(pid), 0) + 1
    return counts


# --- Tools and services ----------------------------------------------------------------------------


def check_wrk():
    if shutil.which("wrk"):
        return
    print("wrk is missing: installing Debian's package wrk (apt-get install -y wrk) …", flush=True)
    command = ["apt-get", "install", "-y", "-q", "wrk"]
    if os.geteuid() != 0:
        command = ["sudo", "-n", *command]
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0 or not shutil.which("wrk"):
        raise BenchError("wrk is missing and could not be installed: run `sudo apt-get install wrk`.")


def redis_command(*commands):
    """Send Redis commands (inline protocol) to the bench's Redis; the replies as text."""
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=3) as conn:
            conn.sendall("".join(f"{c}\r\n" for c in commands).encode())
            time.sleep(0.1)
            return conn.recv(4096).decode(errors="replace")
    except OSError as error:
        raise BenchError(f"Redis is not reachable at {REDIS_HOST}:{REDIS_PORT} ({error}).") from error


def flush_cache():
    reply = redis_command(f"SELECT {REDIS_DB}", "FLUSHDB")
    if reply.count("+OK") < 2:
        raise BenchError(f"Redis did not flush database {REDIS_DB}: {reply!r}")


def postgres(statement, params=None):
    """Run one statement on the server's `postgres` database; its rows (if any)."""
    try:
        import psycopg2  # the driver Django uses; not Django itself
    except ImportError as error:
        raise BenchError(f"psycopg2 is missing: use the project's virtualenv ({error}).") from error

    try:
        conn = psycopg2.connect(f"{PG_URL}/postgres", connect_timeout=3)
    except psycopg2.OperationalError as error:
        raise BenchError(f"PostgreSQL is not reachable at {PG_URL} as postgres ({error}).") from error
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.fetchall() if cursor.description else []
    finally:
        conn.close()


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_step(label, command, env, log):
    started = time.monotonic()
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    log.write(f"$ {' '.join(command)}\n{result.stdout}\n{result.stderr}\n")
    if result.returncode != 0:
        raise BenchError(f"{label} failed (exit {result.returncode}):\n{result.stderr[-3000:]}")
    print(f"  {label}: {time.monotonic() - started:.0f} s", flush=True)
    return result


class Gunicorn:
    """One Gunicorn with the production configuration, on 127.0.0.1:`port`, in its own process group."""

    def __init__(self, name, settings_module, env, workdir):
        self.name, self.port = name, free_port()
        self.root = workdir / f"gunicorn-{name}"
        (self.root / "run").mkdir(parents=True)
        # deploy/gunicorn.conf.py derives its folders from OCPIZZA_ROOT: chdir to `current`, pid
        # and control socket in `run` (one per instance).
        (self.root / "current").symlink_to(ROOT)
        self.access_log = self.root / "access.log"
        self.error_log = self.root / "error.log"
        self.env = {**env, "OCPIZZA_ROOT": str(self.root), "DJANGO_SETTINGS_MODULE": settings_module}
        self.process = None
        self.ready_path = "/"

    def start(self):
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            str(ROOT / "deploy" / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(WORKERS),
            # No recycling: a worker must serve its 10,000 requests for the memory budget, and a
            # worker booting every 2,000 requests would cost the fast endpoints their CPU.
            "--max-requests",
            "0",
            "--access-logfile",
            str(self.access_log),
            "--access-logformat",
            '%(p)s %(s)s "%(r)s" %(L)s',
            "--error-logfile",
            str(self.error_log),
            "--name",
            f"ocpizza-bench-{self.name}",
        ]
        self.process = subprocess.Popen(  # noqa: S603
            command, cwd=ROOT, env=self.env, start_new_session=True, stdout=subprocess.DEVNULL
        )

    def wait_ready(self, path, timeout=60):
        self.ready_path = path
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"Gunicorn ({self.name}) stopped:\n{self.error_log.read_text()[-3000:]}")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{self.url}{path}", timeout=5) as response,  # noqa: S310
            ):
                if response.status == 200:
                    return
            time.sleep(0.3)
        raise BenchError(f"Gunicorn ({self.name}) did not answer {path} within {timeout} s")

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def drain(self, path, timeout=120):
        """Wait until the requests wrk left behind are served: a sync worker serves an abandoned
        connection's request to the end, so the next run would start behind that backlog."""
        deadline = time.monotonic() + timeout
        answered = 0
        while answered < WORKERS and time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{self.url}{path}", timeout=timeout) as response,  # noqa: S310
            ):
                response.read()
                answered += 1

    def workers(self):
        """[(pid, rss_kb, requests served)] of the worker processes."""
        result = subprocess.run(  # noqa: S603
            ["ps", "-o", "pid=,rss=", "--ppid", str(self.process.pid)],  # noqa: S607
            capture_output=True,
            text=True,
            check=False,
        )
        served = requests_per_worker(self.access_log.read_text()) if self.access_log.exists() else {}
        workers = []
        for line in result.stdout.splitlines():
            pid, rss = (int(v) for v in line.split())
            workers.append((pid, rss, served.get(pid, 0)))
        return workers

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)


# --- The runs --------------------------------------------------------------------------------------


def background_sessions(warmup, duration):
    """How many single-use order sessions the orders placed during a row may take."""
    return BACKGROUND_ORDERS_PER_SECOND * (1 + warmup + duration + BACKGROUND_MARGIN)


def wrk(url, requests_file, expected, tag, seconds, connections=CONNECTIONS):
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(BENCH / "wrk.lua"),
        url,
        "--",
        str(requests_file),
        expected,
        tag,
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BenchError(f"wrk failed: {result.stderr}")
    return summarize(parse_wrk(result.stdout))


def write_requests(path, requests):
    path.write_text("\n@@@@\n".join(requests) + "\n@@@@\n")
    return path


def fetch_etag(url, cookies):
    cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
    request = urllib.request.Request(url, headers={"Cookie": cookie})  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return response.headers["ETag"]


def scenarios(prepared, host, site_url):
    """[(name, instance, [raw requests] or callable giving them, expected, queries)]."""
    urls, sessions = prepared["urls"], prepared["sessions"]
    session_cookie, csrf_cookie, token = (
        prepared["session_cookie"],
        prepared["csrf_cookie"],
        prepared["csrf_token"],
    )
    queries = prepared["queries"]

    def get(path, **kwargs):
        return raw_request("GET", path, host, **kwargs)

    def page(name, cold=False):
        path = urls[name] + ("?bench-cold={n}" if cold else "")
        label = f"{name} (cold)" if cold else name
        return (label, "site", lambda: [get(path)], "200", queries[label])

    def cart_adds():
        sizes = prepared["sizes"]
        return [
            raw_request(
                "POST",
                urls["cart_add"],
                host,
                cookies={csrf_cookie: token, session_cookie: key},
                headers={"Accept": "application/json", "X-CSRFToken": token},
                form={"store": prepared["store_id"], "size": sizes[i % len(sizes)], "quantity": 1},
            )
            for i, key in enumerate(sessions["add"])
        ]

    def checkouts():
        return [get(urls["checkout"], cookies={session_cookie: key}) for key in sessions["checkout"]]

    def orders(keys):
        return lambda: [
            raw_request(
                "POST",
                urls["checkout"],
                host,
                cookies={csrf_cookie: token, session_cookie: key},
                headers={"X-CSRFToken": token},
                form=prepared["checkout_form"],
            )
            for key in keys
        ]

    def poll(name, cookie):
        def requests():
            etag = fetch_etag(site_url + urls[name], {session_cookie: cookie})
            return [get(urls[name], cookies={session_cookie: cookie}, headers={"If-None-Match": etag})]

        return requests

    order_keys, background_keys = sessions["order"][:ORDER_SESSIONS], sessions["order"][ORDER_SESSIONS:]
    placed = (orders(background_keys), "302:/commandes/")  # the orders placed during a row
    minimal = ("minimal view", "minimal", lambda: [get("/")], "200", queries["minimal"], None)
    return [
        minimal,
        *[(*page(name), None) for name in ANONYMOUS_PAGES],
        *[(*page(name, cold=True), None) for name in ANONYMOUS_PAGES],
        minimal,
        ("cart_add", "site", cart_adds, "200", queries["cart_add"], None),
        ("checkout", "site", checkouts, "200", queries["checkout"], None),
        ("order", "site", orders(order_keys), "302:/commandes/", queries["order"], None),
        ("tracking", "site", poll("tracking", sessions["visitor"]), "304", queries["tracking"], None),
        ("board", "site", poll("board", sessions["staff"]), "304", queries["board"], None),
        # Last: the orders it places stay in the database, which the rows above did not have.
        ("home (during orders)", "site", lambda: [get(urls["home"])], "200", queries["home"], placed),
        minimal,
    ]


def machine():
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    load = ""
    with contextlib.suppress(OSError):
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "commit": commit,
        "python": platform.python_version(),
        "load_before": load,
    }


def environment(workdir):
    """Production settings, on plain http over loopback (no Nginx in front)."""
    return {
        **os.environ,
        "DEBUG": "false",
        "DJANGOSECRETKEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "BEHIND_REVERSE_PROXY": "false",
        "DATABASE_URL": f"{PG_URL}/{DB_NAME}",
        "CACHE_URL": f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}",
        "EMAIL_URL": "dummymail://",
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "STATIC_ROOT": str(workdir / "static"),
        "MEDIA_ROOT": str(workdir / "media"),
        "STATIC_MANIFEST": "true",
        "PAYMENT_PROVIDER": "none",
        "SENTRY_DSN": "",
        "NEW_RELIC_LICENSE_KEY": "",
        "GOOGLEAPIKEY": "",
        "GUNICORN_WORKERS": str(WORKERS),
        "GUNICORN_LOG_LEVEL": "warning",
    }


def data_key():
    """What the demo database depends on: today's date (the demo's orders and promotions are dated)
    and every Python file of the project outside bench/, committed or not."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.py"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    digest = hashlib.sha256(time.strftime("%Y-%m-%d").encode())
    for name in sorted(listed):
        path = ROOT / name
        if not name.startswith("bench/") and path.is_file():
            digest.update(name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:20]


def template_key():
    rows = postgres(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [TEMPLATE_DB]
    )
    return rows[0][0] if rows else None


def prepare_database(env, log, workdir, *, fresh):
    """The bench database with the demo data: a copy of the template database kept from an earlier
    run of the same code today (seconds), else migrated and loaded (a minute or more)."""
    flush_cache()
    postgres(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    manage = [sys.executable, "manage.py"]
    collect = subprocess.Popen(  # noqa: S603 - in parallel: it needs no database
        [*manage, "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    key = data_key()
    media_cache = CACHE_DIR / f"media-{key}"
    if not fresh and template_key() == key and media_cache.is_dir():
        postgres(f"CREATE DATABASE {DB_NAME} TEMPLATE {TEMPLATE_DB}")
        shutil.copytree(media_cache, workdir / "media")
        print(f"  database copied from {TEMPLATE_DB} (same code and day; --fresh rebuilds it)", flush=True)
    else:
        postgres(f"CREATE DATABASE {DB_NAME}")
        run_step("migrate", [*manage, "migrate", "--noinput", "-v0"], env, log)
        run_step("demo data", [*manage, "load_demo_data", "--i-know-this-is-production"], env, log)
        postgres(f"DROP DATABASE IF EXISTS {TEMPLATE_DB} WITH (FORCE)")
        postgres(f"CREATE DATABASE {TEMPLATE_DB} TEMPLATE {DB_NAME}")
        postgres(f"COMMENT ON DATABASE {TEMPLATE_DB} IS '{key}'")
        shutil.rmtree(CACHE_DIR, ignore_errors=True)
        shutil.copytree(workdir / "media", media_cache)
    _, errors = collect.communicate()
    if collect.returncode != 0:
        raise BenchError(f"collectstatic failed:\n{errors[-3000:]}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=8, help="seconds measured per endpoint (8)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per endpoint (2)")
    parser.add_argument(
        "--requests",
        type=int,
        default=0,
        help="then load the site until each worker served this many requests (the memory budget: 10000)",
    )
    parser.add_argument(
        "--only",
        type=lambda names: {name.strip() for name in names.split(",") if name.strip()},
        default=set(),
        help="measure only these endpoints (comma-separated names of the table, e.g. tracking,board), "
        "beside the minimal view",
    )
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument("--keep-db", action="store_true", help=f"keep the database {DB_NAME} afterwards")
    parser.add_argument(
        "--fresh", action="store_true", help=f"migrate and load the demo data again (not from {TEMPLATE_DB})"
    )
    args = parser.parse_args(argv)

    # Ctrl-C and `kill` end the run through the `finally` below, even when started in the
    # background by a shell that ignores SIGINT.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    check_names(args.only)  # before minutes of preparation
    check_wrk()
    about = machine()
    workdir = Path(tempfile.mkdtemp(prefix="ocpizza-http-bench-"))
    env = environment(workdir)
    servers = []
    try:
        print(f"Preparing {DB_NAME} and Redis db {REDIS_DB} …", flush=True)
        with (workdir / "setup.log").open("w") as log:
            prepare_database(env, log, workdir, fresh=args.fresh)
            prepared_file = workdir / "prepared.json"
            run_step(
                "prepare + queries",
                [
                    sys.executable,
                    str(BENCH / "prepare.py"),
                    str(prepared_file),
                    str(ORDER_SESSIONS + background_sessions(args.warmup, args.duration)),
                ],
                env,
                log,
            )
        prepared = json.loads(prepared_file.read_text())
        site = Gunicorn("site", "ocpizza.settings", env, workdir)
        minimal = Gunicorn("minimal", "bench.minimal_settings", env, workdir)
        servers = [site, minimal]
        for server in servers:
            server.start()
        site.wait_ready("/healthz")
        minimal.wait_ready("/")
        flush_cache()  # the prepare step's query counts filled it: the runs start from empty
        host = f"127.0.0.1:{site.port}"
        print(
            f"Site on {site.url}, minimal view on {minimal.url}; {CONNECTIONS} connections, "
            f"{args.warmup} s warm-up + {args.duration} s per endpoint.",
            flush=True,
        )
        plan = only(scenarios(prepared, host, site.url), args.only)
        rows = run_all(plan, {"site": site, "minimal": minimal}, workdir, args)
        if args.requests:
            load_until(site, prepared, host, workdir, args.requests)
        ceiling = statistics.median(row["rps"] for row in rows if row["name"] == "minimal view")
        workers = site.workers()
        problems = logged_problems(site.error_log.read_text(errors="replace"))
        report(rows, ceiling, workers, about, started, args, problems)
    finally:
        for server in servers:
            server.stop()
        if not args.keep_db:
            with contextlib.suppress(BenchError):
                postgres(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        with contextlib.suppress(BenchError):
            flush_cache()
        shutil.rmtree(workdir, ignore_errors=True)


def only(plan, names):
    """The plan's endpoints named in `names` (all if empty), each minimal view run kept."""
    check_names(names)
    return [step for step in plan if not names or step[0] in names or step[0] == "minimal view"]


def check_names(names):
    if unknown := set(names) - set(ENDPOINTS):
        raise BenchError(
            f"--only: no endpoint named {', '.join(sorted(unknown))} (known: {', '.join(ENDPOINTS)})"
        )


def run_all(plan, servers, workdir, args):
    rows = []
    for number, (name, instance, build, expected, queries, background) in enumerate(plan):
        requests = build()
        server = servers[instance]
        if name == "order":
            # Single-use sessions: the warm-up and the measure take different ones.
            split = len(requests) // 5
            warm_file = write_requests(workdir / f"{number}-warm.txt", requests[:split])
            measure_file = write_requests(workdir / f"{number}.txt", requests[split:])
        else:
            warm_file = measure_file = write_requests(workdir / f"{number}.txt", requests)
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            behind = None
            if background is not None:
                # Started first and ended last, so that it runs through the warm-up and the measure.
                build_background, expected_background = background
                background_file = write_requests(workdir / f"{number}-background.txt", build_background())
                seconds = 1 + args.warmup + args.duration + BACKGROUND_MARGIN
                background_ends = time.monotonic() + seconds
                behind = pool.submit(
                    wrk,
                    server.url,
                    background_file,
                    expected_background,
                    f"b{number}",
                    seconds,
                    connections=BACKGROUND_CONNECTIONS,
                )
                time.sleep(1)
            if args.warmup:
                wrk(server.url, warm_file, expected, f"w{number}", args.warmup)
                server.drain(server.ready_path)
            row = wrk(server.url, measure_file, expected, f"m{number}", args.duration)
            if behind is not None:
                if time.monotonic() > background_ends:
                    raise BenchError(f"{name}: the orders ended before the measure did")
                during = behind.result()
                row["during"] = {"rps": during["rps"], "bad": during["bad"], "wrapped": during["wrapped"]}
                row["bad"] += during["bad"]
                row["wrapped"] += during["wrapped"]
        server.drain(server.ready_path)
        row.update(name=name, queries=queries)
        rows.append(row)
        print(
            f"  {name:<22} {row['rps']:8.1f} req/s  p95 {row['p95']:7.1f} ms  bad {row['bad']}"
            + (f"  (pool reused {row['wrapped']}×)" if row["wrapped"] else "")
            + (f"  while {row['during']['rps']:.1f} orders/s were placed" if "during" in row else ""),
            flush=True,
        )
    return rows


def load_until(site, prepared, host, workdir, target):
    """Load the site until each worker served `target` requests (memory budget): after the runs,
    which sent every page and order request through both workers, the polls (45 of 50) and the
    checkout page, so that 10,000 requests take minutes, not half an hour on a busy machine."""
    urls, sessions, cookie = prepared["urls"], prepared["sessions"], prepared["session_cookie"]
    mix = [raw_request("GET", urls["checkout"], host, cookies={cookie: sessions["checkout"][0]})]
    mix += [raw_request("GET", urls["board"], host, cookies={cookie: sessions["staff"]})] * 4
    mix += [raw_request("GET", urls["tracking"], host, cookies={cookie: sessions["visitor"]})] * 45
    mix_file = write_requests(workdir / "mix.txt", mix)
    print(f"Loading the site until each worker served {target:,} requests …", flush=True)
    for attempt in range(60):
        served = [w[2] for w in site.workers()]
        if served and min(served) >= target:
            return
        missing = target * len(served) - sum(served)
        result = wrk(site.url, mix_file, "any", f"r{attempt}", 10 if missing > 5000 else 3)
        print(f"  {result['requests']:,} more requests ({result['rps']:.0f} req/s)", flush=True)
    raise BenchError("the workers did not reach the requested number of requests")


PROBLEM = re.compile(r" (WARNING|ERROR|CRITICAL) | \[(WARNING|ERROR|CRITICAL)\] ")


def logged_problems(error_log_text):
    """The warnings and errors of the site's Gunicorn error log: Django's lines ("<time> ERROR
    <logger>: …", settings.LOGGING) and Gunicorn's ("[<time>] [<pid>] [ERROR] …"). A run's
    figures can hide a fault (a fast path skipped, a cache refusing writes): the log tells."""
    return [line for line in error_log_text.splitlines() if PROBLEM.search(line)]


def report(rows, ceiling, workers, about, started, args, problems=()):
    print()
    print(
        f"Machine: {about['cores']} cores, {about['cpu']}; {about['date']}; commit {about['commit']}; "
        f"load average before: {about['load_before']}"
    )
    runs = sum(row["name"] == "minimal view" for row in rows)
    print(f"Ceiling (minimal view, median of {runs} runs): {ceiling:.1f} req/s")
    print(format_table(rows, ceiling))
    print("queries c/w: cold (cache cleared) / warm (same request again), from Django's test client;")
    print("(cold) rows' c/w: the first drawing after an edit (cache cleared) / a drawing after it (the")
    print("catalogue kept, menu/catalogue.py: what each of these rows' requests is);")
    print("order c/w: two orders placed. bad: answers other than expected (or socket errors).")
    if any("during" in row for row in rows):
        print(
            f"(during orders): meanwhile a customer places orders at Vaise back to back "
            f"({BACKGROUND_CONNECTIONS} connection; its refusals count in bad)."
        )
    print()
    print("Gunicorn workers of the site after the run:")
    for pid, rss, served in workers:
        print(f"  pid {pid}: {rss / 1024:.0f} MB resident, {served:,} requests served")
    print()
    if problems:
        print(f"The site's error log holds {len(problems)} warnings or errors; the first ones:")
        for line in problems[:10]:
            print(f"  {line[:300]}")
    else:
        print("The site's error log holds no warning or error.")
    verdicts = budgets(rows, ceiling, workers)
    print()
    print("Budgets (issue #13):")
    for budget, figures, verdict in verdicts:
        print(f"  {verdict:<12} {budget}: {figures}")
    print(f"\nTotal time: {time.monotonic() - started:.0f} s")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "machine": about,
                    "ceiling": ceiling,
                    "rows": rows,
                    "workers": workers,
                    "budgets": verdicts,
                    "logged_problems": list(problems),
                },
                indent=1,
                ensure_ascii=False,
            )
        )
    if any(row["bad"] for row in rows):
        raise BenchError("some answers were not the expected ones (column bad): see above")


if __name__ == "__main__":
    try:
        main()
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        sys.exit(130)
