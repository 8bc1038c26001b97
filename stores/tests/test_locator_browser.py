"""The store locator in headless Chromium, with and without a browser key for Google Maps.

No request leaves the machine: every request to another host than the live server is aborted and
recorded. With a key the only one attempted must be the Maps JavaScript API's script (aborted too,
so the page is seen as it is when Google cannot be reached: list and links, no map).
"""

import json
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from .factories import StorePageFactory

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("restore_migrated_rows")]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
BROWSER_KEY = "AIzaSyBrowserKeyForTests-0000000000000"
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


@pytest.fixture
def chain(store_index):
    StorePageFactory(
        parent=store_index,
        title="OC Pizza Bellecour",
        slug="bellecour",
        postcode="69002",
        latitude=Decimal("45.755040"),
        longitude=Decimal("4.830760"),
        delivery_postcodes="69002, 69005",
    )
    StorePageFactory(
        parent=store_index,
        title="OC Pizza Croix-Rousse",
        slug="croix-rousse",
        postcode="69004",
        latitude=Decimal("45.774510"),
        longitude=Decimal("4.831830"),
        delivery_postcodes="69001, 69004",
    )
    StorePageFactory(
        parent=store_index,
        title="OC Pizza Part-Dieu",
        slug="part-dieu",
        postcode="69003",
        latitude=Decimal("45.760410"),
        longitude=Decimal("4.851910"),
        delivery_postcodes="",
        delivery_radius_km=Decimal("2.5"),
    )
    return store_index  # fmt: skip


def keep_on_the_machine(page):
    """Abort every request to another host than loopback; return the list of those attempted."""
    attempted = []

    def handle(route):
        if urlsplit(route.request.url).hostname in LOOPBACK:
            route.continue_()
        else:
            attempted.append(route.request.url)
            route.abort()

    page.route("**/*", handle)
    return attempted


def listed(page):
    return page.locator("li.store-card").evaluate_all("cards => cards.map((card) => card.dataset.store)")


def shot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"locator-{name}.png", full_page=True)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # see test_concurrency.py
def test_with_a_key_the_locator_carries_the_maps_script_and_markers_and_nothing_leaves(
    live_server, browser_page, chain, settings
):
    settings.GOOGLE_MAPS_BROWSER_KEY = BROWSER_KEY
    page = browser_page
    attempted = keep_on_the_machine(page)

    page.goto(f"{live_server.url}{chain.url}", wait_until="load")

    script = page.locator('script[src^="https://maps.googleapis.com/maps/api/js?"]')
    assert script.count() == 1
    assert f"key={BROWSER_KEY}" in script.get_attribute("src")
    markers = json.loads(page.locator("#map-markers").text_content())
    assert [marker["title"] for marker in markers["stores"]] == [
        "OC Pizza Bellecour",
        "OC Pizza Croix-Rousse",
        "OC Pizza Part-Dieu",
    ]
    # The only request that tried to leave: Google's script, aborted. The map stays hidden, the
    # list and its links do the work.
    assert len(attempted) == 1 and attempted[0].startswith("https://maps.googleapis.com/maps/api/js?key=")
    assert page.locator("#store-map").is_hidden()
    assert page.get_by_role("link", name="Itinéraire vers OC Pizza Bellecour").is_visible()
    shot(page, "with-key")

    page.get_by_label("Votre adresse").fill("3 rue Paul Bert, 69003 Lyon")
    page.get_by_role("button", name="Chercher").click()
    page.wait_for_url("**/pizzerias/?adresse=*")

    assert listed(page) == ["part-dieu", "bellecour", "croix-rousse"]
    markers = json.loads(page.locator("#map-markers").text_content())
    assert markers["origin"] == {"lat": 45.7599, "lng": 4.859}
    assert all(url.startswith("https://maps.googleapis.com/maps/api/js?key=") for url in attempted)
    assert len(attempted) == 2  # once per page loaded
    shot(page, "with-key-address")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_without_a_key_the_locator_has_no_map_and_uses_the_browser_position(
    live_server, browser_page, chain, settings
):
    settings.GOOGLE_MAPS_BROWSER_KEY = ""
    page = browser_page
    attempted = keep_on_the_machine(page)
    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation({"latitude": 45.775, "longitude": 4.832})  # on the Croix-Rousse plateau

    page.goto(f"{live_server.url}{chain.url}", wait_until="load")

    assert page.locator("#store-map").count() == 0 and page.locator("#map-markers").count() == 0
    assert page.locator('script[src*="maps.googleapis.com"]').count() == 0
    assert listed(page) == ["bellecour", "croix-rousse", "part-dieu"]
    shot(page, "without-key")

    page.get_by_role("button", name="Utiliser ma position").click()
    page.wait_for_url("**/pizzerias/?lat=45.775000&lng=4.832000")

    assert listed(page) == ["croix-rousse", "bellecour", "part-dieu"]
    assert page.get_by_role("heading", name="Les pizzerias les plus proches de vous").is_visible()
    link = page.get_by_role("link", name="Ouvrir dans Google Maps : OC Pizza Croix-Rousse")
    assert (
        link.get_attribute("href") == "https://www.google.com/maps/search/?api=1&query=45.774510%2C4.831830"
    )
    assert attempted == []
    shot(page, "without-key-position")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_locator_refuses_an_address_in_another_script_in_french(live_server, browser_page, chain):
    page = browser_page
    attempted = keep_on_the_machine(page)

    page.goto(f"{live_server.url}{chain.url}")
    page.get_by_label("Votre adresse").fill("улица Ленина, Лион")
    page.get_by_role("button", name="Chercher").click()
    page.wait_for_url("**/pizzerias/?adresse=*")

    assert page.get_by_role("alert").inner_text().strip() == "Écrivez l'adresse en caractères latins."
    assert page.get_by_label("Votre adresse").get_attribute("aria-invalid") == "true"
    assert attempted == []
    shot(page, "refused-address")
