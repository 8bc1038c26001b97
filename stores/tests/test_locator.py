"""The store locator (the store index page) and the store page's map, with and without a browser key."""

import datetime
import json
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from bs4 import BeautifulSoup
from django.utils import timezone
from django.utils.formats import date_format

from stores.models import DeliveryBand, StoreClosure

from .factories import StorePageFactory
from .google_stub import GEOCODE_PATH, GoogleStub, geocode_result

BROWSER_KEY = "AIzaSyBrowserKeyForTests-0000000000000"


@pytest.fixture
def chain(store_index):
    """Three stores of the demo's Lyon: Bellecour (69002), Croix-Rousse (69004), Part-Dieu (69003)."""
    return {
        "bellecour": StorePageFactory(
            parent=store_index, title="OC Pizza Bellecour", slug="bellecour", postcode="69002",
            latitude=Decimal("45.755040"), longitude=Decimal("4.830760"), delivery_postcodes="69002, 69005",
        ),
        "croix-rousse": StorePageFactory(
            parent=store_index, title="OC Pizza Croix-Rousse", slug="croix-rousse", postcode="69004",
            latitude=Decimal("45.774510"), longitude=Decimal("4.831830"), delivery_postcodes="69001, 69004",
        ),
        "part-dieu": StorePageFactory(
            parent=store_index, title="OC Pizza Part-Dieu", slug="part-dieu", postcode="69003",
            latitude=Decimal("45.760410"), longitude=Decimal("4.851910"), delivery_postcodes="",
            delivery_radius_km=Decimal("2.5"),
        ),
    }  # fmt: skip


def get(client, page, **params):
    url = page.url + (f"?{urlencode(params)}" if params else "")
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 200
    return response


def soup_of(response):
    return BeautifulSoup(response.content.decode(), "html.parser")


def listed(response):
    return [card["data-store"] for card in soup_of(response).select("li.store-card")]


def text(response):
    return " ".join(soup_of(response).get_text(" ").split())


def assert_accessible(response):
    """Unique ids, headings that never skip a level, a label for every visible field."""
    soup = soup_of(response)
    ids = [element["id"] for element in soup.find_all(id=True)]
    assert len(ids) == len(set(ids)), ids
    levels = [int(heading.name[1]) for heading in soup.find_all(["h1", "h2", "h3", "h4", "h5", "h6"])]
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False)), levels
    for field in soup.select("main input:not([type=hidden]), main select, main textarea"):
        assert soup.find("label", attrs={"for": field["id"]}), field


def test_the_locator_lists_every_store_in_the_tree_order_with_open_or_closed(client, chain):
    StoreClosure.objects.create(
        store=chain["part-dieu"], starts_on="2000-01-01", ends_on="2999-12-31", message="Travaux"
    )

    response = get(client, chain["bellecour"].get_parent())

    assert listed(response) == ["bellecour", "croix-rousse", "part-dieu"]
    cards = soup_of(response).select("li.store-card")
    assert "Ouvert maintenant" in cards[0].get_text() or "Fermé pour le moment" in cards[0].get_text()
    assert "Fermé pour le moment" in cards[2].get_text() and "Ouvre" not in cards[2].get_text()
    assert "Toutes nos pizzerias" in text(response)
    assert " km" not in text(response)
    assert_accessible(response)


def test_a_closed_store_shows_its_next_opening(client, store_index):
    store = StorePageFactory(parent=store_index, slug="vaise")
    StoreClosure.objects.create(store=store, starts_on="2000-01-01", ends_on="2999-12-30", message="Travaux")
    # Closed until the last day of the 2999 closure: beyond what the page looks ahead, no date.
    response = get(client, store_index)
    assert "Ouvre" not in soup_of(response).select_one("li.store-card").get_text()

    # Closed today only: it opens tomorrow at 11:00 (the factory's hours), whatever the hour now.
    today = timezone.localdate()
    StoreClosure.objects.filter(store=store).update(starts_on=today, ends_on=today)

    card = " ".join(soup_of(get(client, store_index)).select_one("li.store-card").get_text(" ").split())
    tomorrow = date_format(today + datetime.timedelta(days=1), "l j F")
    assert f"Fermé pour le moment Ouvre {tomorrow} à 11:00." in card


def test_without_a_key_there_is_no_map_but_links_that_open_google_maps(client, chain, settings):
    settings.GOOGLE_MAPS_BROWSER_KEY = ""

    response = get(client, chain["bellecour"].get_parent())

    html = response.content.decode()
    assert "maps.googleapis.com" not in html and 'id="map-markers"' not in html
    assert "maps.googleapis.com" not in response["Content-Security-Policy"]
    card = soup_of(response).select_one('li[data-store="bellecour"]')
    hrefs = [link["href"] for link in card.select(".store-links a")]
    assert hrefs == [
        "https://www.google.com/maps/dir/?api=1&destination=45.755040%2C4.830760&travelmode=driving",
        "https://www.google.com/maps/search/?api=1&query=45.755040%2C4.830760",
    ]


def test_with_a_key_the_locator_loads_the_maps_script_with_the_markers_and_allows_it(client, chain, settings):
    settings.GOOGLE_MAPS_BROWSER_KEY = BROWSER_KEY

    response = get(client, chain["bellecour"].get_parent())

    soup = soup_of(response)
    script = soup.find(
        "script", src=lambda src: src and src.startswith("https://maps.googleapis.com/maps/api/js?")
    )
    assert script is not None and script.has_attr("async")
    assert f"key={BROWSER_KEY}" in script["src"] and "callback=ocpizzaInitMap" in script["src"]
    nonce = script["nonce"]
    assert f"'nonce-{nonce}'" in response["Content-Security-Policy"]
    markers = json.loads(soup.find("script", id="map-markers").string)
    assert markers["origin"] is None
    assert [(m["title"], m["lat"], m["lng"], m["url"]) for m in markers["stores"]] == [
        ("OC Pizza Bellecour", 45.75504, 4.83076, "/pizzerias/bellecour/"),
        ("OC Pizza Croix-Rousse", 45.77451, 4.83183, "/pizzerias/croix-rousse/"),
        ("OC Pizza Part-Dieu", 45.76041, 4.85191, "/pizzerias/part-dieu/"),
    ]
    policy = response["Content-Security-Policy"]
    script_src = next(part for part in policy.split(";") if part.strip().startswith("script-src"))
    assert "https://maps.googleapis.com" in script_src
    assert "https://fonts.gstatic.com" in policy
    # Links stay, for whoever's browser does not load the map.
    assert len(soup.select(".store-links a")) == 6
    assert_accessible(response)


def test_the_maps_origins_are_only_allowed_on_pages_with_a_map(client, chain, settings, home_page):
    settings.GOOGLE_MAPS_BROWSER_KEY = BROWSER_KEY

    response = client.get(home_page.url)

    assert "googleapis" not in response["Content-Security-Policy"]


def test_an_address_sorts_the_stores_by_distance_and_tells_who_delivers_it(client, chain):
    # The offline geocoder places "69003" at its centre: Part-Dieu, then Bellecour, then Croix-Rousse.
    response = get(client, chain["bellecour"].get_parent(), adresse="3 rue Paul Bert, 69003 Lyon")

    assert listed(response) == ["part-dieu", "bellecour", "croix-rousse"]
    assert "Les pizzerias les plus proches de « 3 rue Paul Bert, 69003 Lyon »" in text(response)
    cards = {card["data-store"]: card.get_text(" ") for card in soup_of(response).select("li.store-card")}
    assert "À 0,6 km" in " ".join(cards["part-dieu"].split())
    assert "Livre votre adresse : livraison gratuite." in " ".join(cards["part-dieu"].split())
    assert "Ne livre pas votre adresse (retrait possible)." in cards["bellecour"]
    directions = soup_of(response).select_one('li[data-store="part-dieu"] .store-links a')["href"]
    assert directions.startswith("https://www.google.com/maps/dir/?api=1&origin=45.759900%2C4.859000&")
    assert (
        soup_of(response).find("input", attrs={"name": "adresse"})["value"] == "3 rue Paul Bert, 69003 Lyon"
    )
    assert_accessible(response)


def test_an_address_shows_the_band_fee_and_minimum(client, chain):
    DeliveryBand.objects.create(
        store=chain["part-dieu"],
        up_to_km=Decimal("2.5"),
        delivery_fee=Decimal("2.50"),
        minimum_order=Decimal("20"),
    )

    response = get(client, chain["bellecour"].get_parent(), adresse="69003 Lyon")

    card = " ".join(soup_of(response).select_one('li[data-store="part-dieu"]').get_text(" ").split())
    assert "Livre votre adresse : frais 2,50 €, minimum 20,00 €." in card


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("69003", "Indiquez le numéro, la rue et la ville, pas seulement des chiffres."),
        ("x" * 2000, "Cette adresse est trop longue (300 caractères au plus)."),
        ("улица Ленина, Лион", "Écrivez l'adresse en caractères latins."),
        ("1 rue du Port, 13002 Marseille", "Nous ne trouvons pas le code postal 13002 : vérifiez l'adresse."),
        ("Place Bellecour, Lyon", "Précisez le code postal ou l'arrondissement de Lyon."),
    ],
    ids=["digits only", "2,000 characters", "Cyrillic", "not found", "ambiguous"],
)
def test_an_address_the_locator_cannot_use_is_refused_with_a_clear_message(client, chain, address, message):
    response = get(client, chain["bellecour"].get_parent(), adresse=address)

    soup = soup_of(response)
    errors = soup.find(id="adresse-errors")
    assert errors is not None and message in errors.get_text()
    assert soup.find("input", attrs={"name": "adresse"})["aria-invalid"] == "true"
    assert listed(response) == ["bellecour", "croix-rousse", "part-dieu"]  # still the whole list
    assert_accessible(response)


def test_an_empty_search_lists_every_store_without_an_error(client, chain):
    response = get(client, chain["bellecour"].get_parent(), adresse="   ")

    assert soup_of(response).find(id="adresse-errors") is None
    assert listed(response) == ["bellecour", "croix-rousse", "part-dieu"]


def test_the_browser_position_sorts_the_stores_by_distance(client, chain, settings):
    settings.GOOGLE_MAPS_BROWSER_KEY = BROWSER_KEY

    response = get(client, chain["bellecour"].get_parent(), lat="45.775000", lng="4.832000")

    assert listed(response) == ["croix-rousse", "bellecour", "part-dieu"]
    assert "Les pizzerias les plus proches de vous" in text(response)
    assert "Livre votre adresse" not in text(response)  # a position has no postcode to check
    markers = json.loads(soup_of(response).find("script", id="map-markers").string)
    assert markers["origin"] == {"lat": 45.775, "lng": 4.832}


@pytest.mark.parametrize(
    "params",
    [
        {"lat": "91", "lng": "4.8"},
        {"lat": "abc", "lng": "4.8"},
        {"lat": "45.7"},
        {"lat": "nan", "lng": "inf"},
    ],
    ids=["out of range", "not a number", "latitude alone", "nan"],
)
def test_a_position_that_cannot_be_read_asks_for_the_address(client, chain, params):
    response = get(client, chain["bellecour"].get_parent(), **params)

    assert "Votre position n'a pas pu être lue : saisissez votre adresse." in text(response)
    assert listed(response) == ["bellecour", "croix-rousse", "part-dieu"]


def test_the_locator_queries_do_not_grow_with_the_number_of_stores(
    client, chain, django_assert_max_num_queries
):
    page = chain["bellecour"].get_parent()
    for store in chain.values():
        DeliveryBand.objects.create(store=store, up_to_km=Decimal("3"), delivery_fee=Decimal("1"))
        StoreClosure.objects.create(store=store, starts_on="2000-01-01", ends_on="2000-01-02", message="x")
    get(client, page, adresse="69003 Lyon")
    with django_assert_max_num_queries(100) as few:
        get(client, page, adresse="69003 Lyon")
    baseline = len(few.captured_queries)
    for number in range(5):
        store = StorePageFactory(parent=page, slug=f"autre-{number}", delivery_radius_km=Decimal("9"))
        DeliveryBand.objects.create(store=store, up_to_km=Decimal("3"), delivery_fee=Decimal("1"))
        StoreClosure.objects.create(store=store, starts_on="2000-01-01", ends_on="2000-01-02", message="x")

    with django_assert_max_num_queries(baseline):
        response = get(client, page, adresse="69003 Lyon")

    assert len(listed(response)) == 8


# The store page


def test_a_store_page_without_a_key_links_to_google_maps_and_directions(client, chain, settings):
    settings.GOOGLE_MAPS_BROWSER_KEY = ""

    response = get(client, chain["bellecour"])

    soup = soup_of(response)
    assert soup.find(id="store-map") is None and "maps.googleapis.com" not in response.content.decode()
    assert [(a.get_text(), a["href"]) for a in soup.select(".store-links a")] == [
        (
            "Itinéraire",
            "https://www.google.com/maps/dir/?api=1&destination=45.755040%2C4.830760&travelmode=driving",
        ),
        ("Ouvrir dans Google Maps", "https://www.google.com/maps/search/?api=1&query=45.755040%2C4.830760"),
    ]
    assert_accessible(response)


def test_a_store_page_with_a_key_shows_its_map(client, chain, settings):
    settings.GOOGLE_MAPS_BROWSER_KEY = BROWSER_KEY

    response = get(client, chain["bellecour"])

    soup = soup_of(response)
    assert soup.find(id="store-map") is not None
    markers = json.loads(soup.find("script", id="map-markers").string)
    assert [m["title"] for m in markers["stores"]] == ["OC Pizza Bellecour"]
    assert "https://maps.googleapis.com" in response["Content-Security-Policy"]
    assert len(soup.select(".store-links a")) == 2
    assert_accessible(response)


def test_a_closed_store_page_says_when_it_opens_again(client, store_index):
    store = StorePageFactory(parent=store_index)  # every day 11:00–23:00
    today = timezone.localdate()
    StoreClosure.objects.create(store=store, starts_on=today, ends_on=today, message="Inventaire")

    response = get(client, store)

    tomorrow = date_format(today + datetime.timedelta(days=1), "l j F")
    assert f"Fermé pour le moment Ouvre {tomorrow} à 11:00." in text(response)


# With Google's geocoder (the real client against the local stub)


@pytest.fixture
def google(settings):
    stub = GoogleStub().start()
    settings.GOOGLEAPIKEY = "AIzaSyA-test-key-for-the-local-stub-0000"
    settings.GEO_GEOCODING_BASE_URL = settings.GEO_ROUTES_BASE_URL = stub.url
    settings.GEO_TIMEOUT_SECONDS = 0.5
    yield stub
    stub.stop()


def test_the_locator_searches_with_google_and_a_second_search_is_not_paid_again(client, chain, google):
    google.answer(GEOCODE_PATH, {"results": [geocode_result()], "status": "OK"})  # 12 rue Victor Hugo
    page = chain["bellecour"].get_parent()

    first = get(client, page, adresse="12 rue Victor Hugo, 69002 Lyon")
    second = get(client, page, adresse="12 rue Victor Hugo, 69002 Lyon")

    assert listed(first) == listed(second) == ["bellecour", "part-dieu", "croix-rousse"]
    assert "Les pizzerias les plus proches de « 12 Rue Victor Hugo, 69002 Lyon, France »" in text(first)
    assert len(google.requests_to(GEOCODE_PATH)) == 1


def test_the_locator_still_answers_when_google_refuses_the_key(client, chain, google):
    google.answer(GEOCODE_PATH, {"results": [], "status": "REQUEST_DENIED", "error_message": "denied"})

    response = get(client, chain["bellecour"].get_parent(), adresse="3 rue Paul Bert, 69003 Lyon")

    assert listed(response) == ["part-dieu", "bellecour", "croix-rousse"]  # the offline twin's answer
