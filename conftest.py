"""Fixtures shared by every app's tests: the site tree the storefront needs, and a browser."""

import os
import shutil
from pathlib import Path

import pytest
from wagtail.models import Page, Site

from home.tests.factories import HomePageFactory
from menu.tests.factories import MenuPageFactory
from stores.tests.factories import StoreIndexPageFactory


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


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium driven by Playwright; skipped where it is missing, except in CI."""
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


@pytest.fixture
def browser_page(chromium, request):
    """A French-speaking phone-sized page; a screenshot is kept after each test."""
    context = chromium.new_context(locale="fr-FR", viewport={"width": 412, "height": 915})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{request.node.name}.png", full_page=True)
    context.close()
