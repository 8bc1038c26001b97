"""Fixtures shared by every app's tests: the site tree the storefront needs, and a browser."""

import os
import shutil
import socket
import time
from pathlib import Path

import pytest
from wagtail.models import Page, Site

from home.tests.factories import HomePageFactory
from menu.tests.factories import MenuPageFactory
from stores.tests.factories import StoreIndexPageFactory

# Every page the tests render is checked by the Nu HTML Checker at the end of the session.
pytest_plugins = ["ocpizza.tests.html_check"]


def pytest_runtest_setup(item):
    """`TESTS_STOP_AT` (Unix time), set by CI (.ci/run) for each pass: the tests not started by
    then are skipped, and say so, rather than letting the run outgrow CI's time limit."""
    stop_at = os.environ.get("TESTS_STOP_AT")
    if stop_at and time.time() > float(stop_at):
        pytest.skip("not run: this pass's time (TESTS_STOP_AT) is spent")


@pytest.fixture
def home_page(db):
    """A HomePage as the default site's root, replacing Wagtail's welcome page."""
    root = Page.get_first_root_node()
    home = HomePageFactory(parent=root)
    Site.objects.update_or_create(
        is_default_site=True, defaults={"hostname": "localhost", "port": 80, "root_page": home}
    )
    Page.objects.filter(depth=2).exclude(id=home.id).delete()
    return home


@pytest.fixture
def menu_page(home_page):
    return MenuPageFactory(parent=home_page)


@pytest.fixture
def store_index(home_page):
    return StoreIndexPageFactory(parent=home_page)


CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    # Never call out: no background services, and a dead proxy (loopback still loads directly).
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--proxy-server=http://127.0.0.1:9",
]
SCREENSHOTS = Path(__file__).resolve().parent / "test-artifacts" / "screenshots"


@pytest.fixture(scope="module")
def restore_migrated_rows(django_db_blocker):
    """Put back the rows migrations create once a module's transactional tests have emptied the tables.

    A transactional test (live server, real concurrency) ends by flushing every table, which also
    removes the root page, the locale and the allergens that migrations created. With --reuse-db
    the next run would start without them. Used with `serialized_rollback=True`, whose snapshot
    of the freshly migrated database this fixture loads again after the module's last test.
    """
    yield
    from django.db import connection

    contents = getattr(connection, "_test_serialized_contents", None)
    if contents:
        with django_db_blocker.unblock():
            connection.creation.deserialize_db_from_string(contents)


@pytest.fixture
def chromium():
    """Debian's Chromium driven by Playwright; skipped where it is missing, except in CI.

    Function-scoped on purpose: Playwright's sync API runs in its own greenlet context, and while
    it lives Django's per-context connection objects are not the ones the test database setup
    serialized, so `serialized_rollback` could not restore the migrated rows after a flush.
    """
    executable = shutil.which("chromium")
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/run installs Debian's chromium package")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# Run in every frame before the page's own scripts: each violation of the Content-Security-Policy
# is written to the console, where `watch_csp_violations` sees it (Chromium's own "Refused to ..."
# messages are caught too, but the event also names the directive and the blocked resource).
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`Content Security Policy violation: ${event.effectiveDirective} blocked `
    + `${event.blockedURI || "inline"} in ${event.documentURI} (${event.sourceFile}:${event.lineNumber})`);
}, true);
"""
CSP_MESSAGE_MARKERS = ("Content Security Policy", "Refused to")


def watch_csp_violations(context, violations):
    """Append to `violations` every CSP violation any page of `context` reports."""
    context.add_init_script(REPORT_CSP_VIOLATIONS)

    def on_console(message):
        if any(marker in message.text for marker in CSP_MESSAGE_MARKERS):
            violations.append(message.text)

    context.on("console", on_console)


@pytest.fixture
def csp_violations():
    """The Content-Security-Policy violations reported while `browser_page` browsed.

    `browser_page` fails the test when this list is not empty at the end; a test that provokes a
    violation on purpose reads it, then empties it.
    """
    return []


@pytest.fixture
def watch_csp(csp_violations):
    """`watch_csp(context)`: record in `csp_violations` what the pages of a browser context of the
    test's own report (tests that drive several contexts; `browser_page` watches its own). A test
    module cannot import this conftest: "conftest" names several modules in one run."""
    return lambda context: watch_csp_violations(context, csp_violations)


@pytest.fixture
def axe_violations():
    """A function that runs axe-core (the copy pinned by axe-playwright-python) on a page and
    returns its violations as "rule: target" strings (empty when the page passes)."""
    from axe_playwright_python.sync_playwright import Axe

    checker = Axe()

    def violations(page):
        found = checker.run(page).response["violations"]
        return [f"{rule['id']}: {node['target']}" for rule in found for node in rule["nodes"]]

    return violations


@pytest.fixture
def browser_page(chromium, request, csp_violations):
    """A French-speaking phone-sized page; a screenshot is kept after each test.

    The test fails if any page it visited violated the Content-Security-Policy.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = chromium.new_context(locale="fr-FR", viewport={"width": 412, "height": 915})
    watch_csp_violations(context, csp_violations)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    page.screenshot(path=SCREENSHOTS / f"{request.node.name}.png", full_page=True)
    context.close()
    if csp_violations:
        pytest.fail("Content-Security-Policy violations:\n" + "\n".join(csp_violations), pytrace=False)


@pytest.fixture
def refused_redis(settings):
    """The cache setting pointed at a Redis port where nothing listens: every call is refused at once
    (the fail-soft cache then answers misses and skips writes)."""
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    settings.CACHES = {
        "default": {"BACKEND": "ocpizza.cache.FailSoftRedisCache", "LOCATION": f"redis://127.0.0.1:{port}/0"}
    }


@pytest.fixture
def queue_tasks_in_database(settings):
    """Call it to switch to production's tasks backend: from then on, tasks are rows of this
    database (`django_tasks_db`, worked by `manage.py db_worker`) instead of running at once.
    Called after any setting up whose own tasks (a stock delivery's alert) should run at once."""

    def switch():
        settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

    return switch


@pytest.fixture
def within_one_minute():
    """At least 30 seconds left in the current minute: a test that draws a page twice and counts
    what the second drawing read sees both drawings in the same minute (what the catalogue keeps
    ends with its minute, menu/catalogue.py). With fewer left, the clock goes back to the start of
    the same minute, and ticks: never into another minute (the tests' stores close for the last
    minute of the day), and before anything the test makes (this fixture is set up first)."""
    import datetime

    import time_machine

    now = datetime.datetime.now(datetime.UTC)
    if now.second < 30:
        yield
        return
    with time_machine.travel(now.replace(second=0, microsecond=0), tick=True):
        yield


@pytest.fixture(autouse=True)
def empty_cache():
    """Every test starts and ends with an empty cache: it outlives a test's database transaction,
    and holds rate-limit counters (accounts) and Wagtail's site lookups that must not leak. The
    menu cards and the catalogue this process keeps (menu.cards, menu.catalogue) too: a test sees
    what it drew and read."""
    from django.core.cache import cache

    from menu import catalogue
    from menu.cards import cards

    cache.clear()
    cards.clear()
    catalogue.clear()
    yield
    cache.clear()
    cards.clear()
    catalogue.clear()
