"""Gunicorn instances on loopback and customers who order through them, over plain HTTP.

Never imports Django (nor anything that does): the customers are threads using urllib, each with
its own cookie jar, as a browser without JavaScript would post the store menu's and the
checkout's forms.
"""

import contextlib
import ctypes
import http.client
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
CART_ADD = "/panier/ajouter/"
CHECKOUT = "/panier/commander/"
REQUEST_TIMEOUT = 60
PR_SET_PDEATHSIG = 1  # linux/prctl.h

# What a refusal for lack of stock says, wherever the customer meets it (read in the code):
# the store menu (« Épuisé », templates/includes/product_card.html), the cart's check
# (stores.services.shortage_message, « Plus assez de pâte pour Margherita (Grande). »), the checkout
# page (« Certains produits de votre panier ne sont plus disponibles », ordering/views/checkout.py)
# and the order's reservation (the same shortage message, as a form error).
SOLD_OUT_MARKERS = ("Épuisé", "épuisé", "Plus assez de ", "ne sont plus disponibles")
# Django's debug page and a raw WSGI error both show one of these; a production page never does.
LEAK_MARKERS = ("Traceback", "Internal Server Error", 'id="traceback"', "django.db.utils")


def free_port():
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def production_environment(database_url, **extra):
    """The settings of a production server (DEBUG off, a random key), on loopback over plain HTTP."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8",
        "DJANGO_SETTINGS_MODULE": "ocpizza.settings",
        "DEBUG": "false",
        "DJANGOSECRETKEY": secrets.token_urlsafe(50),
        "DATABASE_URL": database_url,
        "ALLOWED_HOSTS": HOST,
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "BEHIND_REVERSE_PROXY": "false",
        # No collectstatic in a throw-away run: static files are served by their plain names.
        "STATIC_MANIFEST": "false",
        "CACHE_URL": "locmemcache://",
        "EMAIL_URL": "dummymail://",
        # Tasks are rows of the database, as in production: an order's confirmation is queued in
        # its own transaction (nothing works the queue here: the rows stay for the checks).
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "PAYMENT_PROVIDER": "none",
        "GOOGLEAPIKEY": "",
        "SENTRY_DSN": "",
        "GUNICORN_WORKERS": "2",
        "GUNICORN_LOG_LEVEL": "warning",
    }
    env.update(extra)
    return env


@dataclass
class Instance:
    port: int
    process: subprocess.Popen
    log: Path

    @property
    def base(self):
        return f"http://{HOST}:{self.port}"

    def log_text(self):
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def start_gunicorn(env, workdir, *, python=None):
    """One Gunicorn under deploy/gunicorn.conf.py (its workers, timeouts, recycling), bound to a
    free loopback port instead of the socket; its own root folder under `workdir`."""
    port = free_port()
    root = Path(workdir) / f"gunicorn-{port}"
    (root / "run").mkdir(parents=True)
    (root / "current").symlink_to(PROJECT)
    log = root / "gunicorn.log"
    command = [
        python or sys.executable,
        "-m",
        "gunicorn",
        "--config",
        str(PROJECT / "deploy" / "gunicorn.conf.py"),
        "--bind",
        f"{HOST}:{port}",
        "--access-logfile",
        "/dev/null",
    ]
    with log.open("w") as output:
        process = subprocess.Popen(  # noqa: S603 - our own command line
            command,
            env={**env, "OCPIZZA_ROOT": str(root)},
            cwd=PROJECT,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - only a prctl call, before exec
        )
    return Instance(port=port, process=process, log=log)


def _die_with_parent():
    """Linux: the kernel stops this Gunicorn if the process that started it dies (a killed test
    run would otherwise leave it holding connections to the test database)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass  # not Linux: the caller's finally still stops it


def wait_ready(instance, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if instance.process.poll() is not None:
            raise RuntimeError(f"Gunicorn on {instance.port} exited:\n{instance.log_text()}")
        try:
            connection = http.client.HTTPConnection(HOST, instance.port, timeout=5)
            connection.request("GET", "/healthz", headers={"Host": HOST})
            status = connection.getresponse().status
            connection.close()
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"Gunicorn on {instance.port} not ready after {timeout}s:\n{instance.log_text()}")


def stop(instance):
    """SIGTERM the instance's process group (master and workers), SIGKILL after 15 s."""
    if instance.process.poll() is None:
        os.killpg(instance.process.pid, signal.SIGTERM)
        try:
            instance.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(instance.process.pid, signal.SIGKILL)
            instance.process.wait(timeout=15)


# Customers ---------------------------------------------------------------------------------------


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@dataclass
class Page:
    status: int
    url: str
    body: str
    location: str = ""


@dataclass
class Outcome:
    number: int
    result: str = ""  # ordered, sold out, error
    stage: str = ""  # where it ended: menu, cart add, checkout page, checkout
    detail: str = ""
    statuses: list = field(default_factory=list)
    seconds: float = 0.0


class Browser:
    """A visitor without JavaScript: one cookie jar, redirects followed by hand (so every status
    is seen), each request sent to the next instance in turn."""

    def __init__(self, bases, first=0):
        self.bases = bases
        self.turn = first
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(CookieJar()), NoRedirect()
        )
        self.statuses = []

    def base(self):
        base = self.bases[self.turn % len(self.bases)]
        self.turn += 1
        return base

    def request(self, path, data=None, *, follow=True):
        url = path if path.startswith("http") else self.base() + path
        encoded = None if data is None else urllib.parse.urlencode(data, doseq=True).encode()
        # Only our own http:// loopback URLs.
        request = urllib.request.Request(url, data=encoded, headers={"Accept-Language": "fr"})  # noqa: S310
        try:
            with self.opener.open(request, timeout=REQUEST_TIMEOUT) as response:
                page = Page(response.status, url, response.read().decode(errors="replace"))
        except urllib.error.HTTPError as error:
            page = Page(
                error.code, url, error.read().decode(errors="replace"), error.headers.get("Location", "")
            )
        self.statuses.append(page.status)
        if follow and page.status in (301, 302, 303) and page.location:
            location = urllib.parse.urlsplit(page.location)
            return self.request(location.path + (f"?{location.query}" if location.query else ""))
        return page

    def csrf_token(self, html):
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
        return match.group(1) if match else ""


def hidden(html, name):
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    return match.group(1) if match else ""


def leaks(page):
    return any(marker in page.body for marker in LEAK_MARKERS)


def sold_out(page):
    return page.status in (200, 409) and any(marker in page.body for marker in SOLD_OUT_MARKERS)


def customer(number, bases, shop, *, delivery=False):
    """One customer's journey: the store menu, one pizza into the cart, the checkout, the order."""
    started = time.monotonic()
    outcome = Outcome(number=number)
    browser = Browser(bases, first=number)

    def end(result, stage, page=None, detail=""):
        outcome.result, outcome.stage = result, stage
        if page is not None and not detail:
            detail = f"{page.status} {page.url}"
        outcome.detail = detail
        return outcome

    def refused_or_error(stage, page):
        if page.status in (301, 302, 303) and page.location:  # refused with a message on the next page
            page = browser.request(urllib.parse.urlsplit(page.location).path)
        if page.status >= 500 or leaks(page):
            leak = "stack trace shown: " if leaks(page) else ""
            return end("error", stage, page, f"{leak}{page.status} {page.url}: {page.body[:300]!r}")
        if sold_out(page):
            return end("sold out", stage, page)
        return end("error", stage, page, f"{page.status} {page.url}: no sold-out message")

    try:
        menu = browser.request(shop["store_menu_path"])
        if menu.status != 200 or leaks(menu):
            return refused_or_error("menu", menu)
        token = browser.csrf_token(menu.body)
        added = browser.request(
            CART_ADD,
            {
                "csrfmiddlewaretoken": token,
                "store": shop["store_id"],
                "size": shop["size_id"],
                "quantity": 1,
                "next": shop["store_menu_path"],
            },
            follow=False,
        )
        if added.status != 302:
            return refused_or_error("cart add", added)
        after_add = browser.request(urllib.parse.urlsplit(added.location).path)
        if "ajouté au panier" not in after_add.body:
            return refused_or_error("cart add", after_add)
        mode = "delivery" if delivery else "pickup"
        form = browser.request(f"{CHECKOUT}?mode={mode}")
        if form.status != 200 or "idempotency_key" not in form.body:
            return refused_or_error("checkout page", form)
        data = {
            "csrfmiddlewaretoken": browser.csrf_token(form.body) or token,
            "name": f"Client {number}",
            "phone": "06 12 34 56 78",
            "email": f"client{number}@example.fr",
            "fulfilment": mode,
            "when": "asap",
            "payment_method": "cash",
            "idempotency_key": hidden(form.body, "idempotency_key"),
            "expected_total": hidden(form.body, "expected_total"),
        }
        if delivery:
            data.update(
                {"street_address": "3 rue de Bourgogne", "postcode": shop["postcode"], "city": "Lyon"}
            )
        placed = browser.request(CHECKOUT, data, follow=False)
        if placed.status != 302 or "/commandes/" not in placed.location:
            return refused_or_error("checkout", placed)
        order = browser.request(urllib.parse.urlsplit(placed.location).path)
        if order.status != 200 or leaks(order):
            return end("error", "order page", order)
        return end("ordered", "checkout", order)
    except Exception as error:  # a refused connection, a timeout: the run fails on it
        return end("error", "transport", detail=repr(error))
    finally:
        outcome.statuses = browser.statuses
        outcome.seconds = time.monotonic() - started


def run_customers(bases, shop, count, *, timeout=300):
    """`count` customers released together, every other one asking for delivery; their outcomes."""
    barrier = threading.Barrier(count)
    outcomes = [None] * count

    def play(number):
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=60)
        outcomes[number] = customer(number, bases, shop, delivery=number % 2 == 1)

    threads = [threading.Thread(target=play, args=(number,), daemon=True) for number in range(count)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(timeout=max(0.1, deadline - time.monotonic()))
    return [o or Outcome(number=n, result="error", stage="timeout") for n, o in enumerate(outcomes)]


def summary(outcomes):
    """{result: count}, {(result, stage): count} and every status code seen, with counts."""
    results, stages, statuses = {}, {}, {}
    for outcome in outcomes:
        results[outcome.result] = results.get(outcome.result, 0) + 1
        key = f"{outcome.result} at {outcome.stage}"
        stages[key] = stages.get(key, 0) + 1
        for status in outcome.statuses:
            statuses[status] = statuses.get(status, 0) + 1
    return results, stages, statuses
