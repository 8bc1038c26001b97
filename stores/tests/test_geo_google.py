"""Google's geocoder and router, driven through the real clients against a local stub server."""

import logging
import socket
from decimal import Decimal

import pytest
from django.core.cache import cache

from stores.geo import (
    AddressAmbiguous,
    AddressNotFound,
    GeocodeResult,
    InvalidAddress,
    Leg,
    Point,
    Precision,
    get_geocoder,
    get_router,
)
from stores.geo.google import GoogleGeocoder, GoogleRouter
from stores.geo.offline import OfflineGeocoder, OfflineRouter

from .google_stub import GEOCODE_PATH, MATRIX_PATH, ROUTES_PATH, GoogleStub, geocode_result

# The googlemaps client refuses keys that do not look like Google's.
KEY = "AIzaSyA-test-key-for-the-local-stub-0000"
ADDRESS = "12 rue Victor Hugo, 69002 Lyon"
BELLECOUR = Point(Decimal("45.755040"), Decimal("4.830760"))
PART_DIEU = Point(Decimal("45.760410"), Decimal("4.851910"))
VAISE = Point(Decimal("45.774120"), Decimal("4.805480"))
CROIX_ROUSSE = Point(Decimal("45.774510"), Decimal("4.831830"))


@pytest.fixture
def google(settings):
    """The stub, with the settings pointing both Google base URLs at it and a key configured."""
    stub = GoogleStub().start()
    settings.GOOGLEAPIKEY = KEY
    settings.GEO_GEOCODING_BASE_URL = stub.url
    settings.GEO_ROUTES_BASE_URL = stub.url
    settings.GEO_TIMEOUT_SECONDS = 0.5
    cache.clear()
    yield stub
    stub.stop()
    cache.clear()


@pytest.fixture
def geo_warnings(caplog):
    caplog.set_level(logging.WARNING, logger="stores.geo.google")
    return caplog


def ok(*results):
    return {"results": list(results), "status": "OK"}


def unused_port_url():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# --- choosing the implementation -------------------------------------------------------------------


def test_without_a_key_the_offline_implementations_answer(settings):
    settings.GOOGLEAPIKEY = ""
    assert type(get_geocoder()) is OfflineGeocoder
    assert type(get_router()) is OfflineRouter


def test_with_a_key_google_answers(google):
    assert type(get_geocoder()) is GoogleGeocoder
    assert type(get_router()) is GoogleRouter


# --- geocoding -----------------------------------------------------------------------------------------


def test_an_address_is_geocoded_with_region_and_language_fr(google):
    google.answer(GEOCODE_PATH, ok(geocode_result()))

    result = get_geocoder().geocode("  12 rue Victor   Hugo, 69002 Lyon ")

    assert result == GeocodeResult(
        latitude=Decimal("45.754872"),
        longitude=Decimal("4.829447"),
        address="12 Rue Victor Hugo, 69002 Lyon, France",
        postcode="69002",
        city="Lyon",
        precision=Precision.ADDRESS,
        source="google",
    )
    [request] = google.received
    assert request.method == "GET"
    assert request.query == {
        "address": ADDRESS,
        "components": "country:FR",
        "region": "fr",
        "language": "fr",
        "key": KEY,
    }


def test_a_street_without_a_number_is_placed_at_street_precision(google):
    google.answer(
        GEOCODE_PATH, ok(geocode_result("Rue Victor Hugo, 69002 Lyon, France", types=("route",), number=""))
    )

    assert get_geocoder().geocode("rue Victor Hugo, Lyon").precision == Precision.STREET


def test_a_town_alone_is_placed_at_area_precision(google):
    google.answer(
        GEOCODE_PATH,
        ok(geocode_result("Villeurbanne, France", types=("locality", "political"), number="", street="")),
    )

    assert get_geocoder().geocode("Villeurbanne").precision == Precision.AREA


def test_zero_results_is_address_not_found(google):
    google.answer(GEOCODE_PATH, {"results": [], "status": "ZERO_RESULTS"})

    with pytest.raises(AddressNotFound) as error:
        get_geocoder().geocode("999 rue qui n'existe pas, 69002 Lyon")

    assert error.value.message == "Adresse introuvable : vérifiez le numéro, la rue et la ville."


def test_several_places_are_ambiguous_and_listed(google):
    google.answer(
        GEOCODE_PATH,
        ok(
            geocode_result("1 Rue de la République, 69002 Lyon, France"),
            geocode_result("1 Rue de la République, 69100 Villeurbanne, France", postcode="69100"),
            geocode_result("1 Rue de la République, 69002 Lyon, France"),
        ),
    )

    with pytest.raises(AddressAmbiguous) as error:
        get_geocoder().geocode("1 rue de la République")

    assert error.value.message == "Plusieurs adresses correspondent : précisez le code postal et la ville."
    assert error.value.candidates == [
        "1 Rue de la République, 69002 Lyon, France",
        "1 Rue de la République, 69100 Villeurbanne, France",
    ]


@pytest.mark.parametrize(
    ("status", "body", "delay", "reason"),
    [
        (200, {"results": [], "status": "OVER_QUERY_LIMIT", "error_message": "quota"}, 0, "OVER_QUERY_LIMIT"),
        (200, {"results": [], "status": "REQUEST_DENIED", "error_message": "denied"}, 0, "REQUEST_DENIED"),
        (500, {"error": "boom"}, 0, "Timeout"),  # the client retries 5xx until its retry time is up
        (403, {"error": "forbidden"}, 0, "HTTP 403"),
        (200, ok(geocode_result()), 2, "Timeout"),
    ],
    ids=["over-query-limit", "request-denied", "http-500", "http-403", "timeout"],
)
def test_a_failing_google_falls_back_on_the_offline_geocoder(
    google, geo_warnings, status, body, delay, reason
):
    google.answer(GEOCODE_PATH, body, status=status, delay=delay)

    result = get_geocoder().geocode(ADDRESS)

    assert result == OfflineGeocoder().geocode(ADDRESS)
    assert result.source == "offline"
    assert [r.levelname for r in geo_warnings.records] == ["WARNING"]
    assert geo_warnings.records[0].getMessage() == (
        f"Google geocoding failed ({reason}): the offline geocoder answers"
    )


def test_over_query_limit_is_not_retried(google):
    google.answer(GEOCODE_PATH, {"results": [], "status": "OVER_QUERY_LIMIT"})

    get_geocoder().geocode(ADDRESS)

    assert len(google.received) == 1


def test_an_unreachable_google_falls_back_and_logs_neither_key_nor_address(settings, google, geo_warnings):
    settings.GEO_GEOCODING_BASE_URL = unused_port_url()

    result = get_geocoder().geocode(ADDRESS)

    assert result.source == "offline"
    assert geo_warnings.records[0].getMessage() == (
        "Google geocoding failed (transport error (ConnectionError)): the offline geocoder answers"
    )
    assert KEY not in geo_warnings.text
    assert "Victor" not in geo_warnings.text


def test_a_malformed_key_falls_back_on_the_offline_geocoder(settings, google, geo_warnings):
    settings.GOOGLEAPIKEY = "not-a-google-key"

    assert get_geocoder().geocode(ADDRESS).source == "offline"
    assert google.received == []
    assert geo_warnings.records[0].getMessage() == (
        "Google geocoding failed (ValueError): the offline geocoder answers"
    )


# --- the cache -----------------------------------------------------------------------------------------


def test_a_second_lookup_of_the_same_address_makes_no_request(google):
    google.answer(GEOCODE_PATH, ok(geocode_result()))

    first = get_geocoder().geocode(ADDRESS)
    second = get_geocoder().geocode("12 RUE VICTOR HUGO,   69002 lyon")

    assert second == first
    assert len(google.received) == 1


def test_an_address_not_found_is_remembered_too(google):
    google.answer(GEOCODE_PATH, {"results": [], "status": "ZERO_RESULTS"})

    for _attempt in range(2):
        with pytest.raises(AddressNotFound):
            get_geocoder().geocode("999 rue qui n'existe pas, 69002 Lyon")

    assert len(google.received) == 1


def test_a_fallback_answer_is_not_cached(google):
    google.answer(GEOCODE_PATH, {"results": [], "status": "REQUEST_DENIED"})
    assert get_geocoder().geocode(ADDRESS).source == "offline"

    google.answer(GEOCODE_PATH, ok(geocode_result()))

    assert get_geocoder().geocode(ADDRESS).source == "google"
    assert len(google.received) == 2


def test_with_the_cache_down_every_lookup_is_paid_and_none_fails(settings, google):
    # Nothing listens on the port: the fail-soft Redis cache reads as empty (ocpizza/cache.py).
    settings.CACHES = {
        "default": {
            "BACKEND": "ocpizza.cache.FailSoftRedisCache",
            "LOCATION": unused_port_url().replace("http", "redis") + "/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2, "RETRY_AFTER": 60},
        }
    }
    google.answer(GEOCODE_PATH, ok(geocode_result()))

    first = get_geocoder().geocode(ADDRESS)
    second = get_geocoder().geocode(ADDRESS)

    assert first == second
    assert first.source == "google"
    assert len(google.received) == 2


# --- bad addresses: refused before any request ---------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "a" * 2000,
        "69002",
        "12, 69002 - 04 78 42 11 20",
        "ул. Ленина 1, Москва",
        "北京市朝阳区建国路 1 号",
    ],
    ids=["empty", "blank", "2000-characters", "postcode-only", "digits-only", "cyrillic", "chinese"],
)
def test_a_bad_address_is_refused_without_any_request(google, text):
    google.answer(GEOCODE_PATH, ok(geocode_result()))

    with pytest.raises(InvalidAddress):
        get_geocoder().geocode(text)

    assert google.received == []


# --- routes: the matrix ----------------------------------------------------------------------------------


def test_travel_reads_the_route_matrix(google):
    # Protobuf JSON leaves out fields at their default (index 0), and the order is not the request's.
    google.answer(
        MATRIX_PATH,
        [
            {"originIndex": 1, "destinationIndex": 1, "distanceMeters": 4210, "duration": "712s",
             "condition": "ROUTE_EXISTS", "status": {}},
            {"destinationIndex": 1, "distanceMeters": 2480, "duration": "455.4s", "condition": "ROUTE_EXISTS",
             "status": {}},
            {"originIndex": 1, "distanceMeters": 3105, "duration": "590s", "condition": "ROUTE_EXISTS",
             "status": {}},
            {"distanceMeters": 0, "duration": "0s", "condition": "ROUTE_EXISTS", "status": {}},
        ],
    )  # fmt: skip

    matrix = get_router().travel([BELLECOUR, VAISE], [BELLECOUR, PART_DIEU])

    assert matrix == [
        [Leg(distance_m=0, duration_s=0), Leg(distance_m=2480, duration_s=455)],
        [Leg(distance_m=3105, duration_s=590), Leg(distance_m=4210, duration_s=712)],
    ]
    [request] = google.received
    assert request.method == "POST"
    assert request.headers["X-Goog-Api-Key"] == KEY
    assert request.headers["X-Goog-FieldMask"] == (
        "originIndex,destinationIndex,status,condition,distanceMeters,duration"
    )
    assert request.body == {
        "origins": [
            {"waypoint": {"location": {"latLng": {"latitude": 45.75504, "longitude": 4.83076}}}},
            {"waypoint": {"location": {"latLng": {"latitude": 45.77412, "longitude": 4.80548}}}},
        ],
        "destinations": [
            {"waypoint": {"location": {"latLng": {"latitude": 45.75504, "longitude": 4.83076}}}},
            {"waypoint": {"location": {"latLng": {"latitude": 45.76041, "longitude": 4.85191}}}},
        ],
        "travelMode": "DRIVE",
        "routingPreference": "TRAFFIC_UNAWARE",
        "languageCode": "fr",
        "regionCode": "FR",
    }


def test_a_pair_without_a_road_is_none(google):
    google.answer(
        MATRIX_PATH,
        [
            {"distanceMeters": 2480, "duration": "455s", "condition": "ROUTE_EXISTS", "status": {}},
            {"destinationIndex": 1, "condition": "ROUTE_NOT_FOUND", "status": {}},
        ],
    )

    assert get_router().travel([BELLECOUR], [PART_DIEU, VAISE]) == [[Leg(2480, 455), None]]


FAILURES = [
    (429, {"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED"}}, 0,
     "HTTP 429 RESOURCE_EXHAUSTED"),
    (403, {"error": {"code": 403, "message": "denied", "status": "PERMISSION_DENIED"}}, 0,
     "HTTP 403 PERMISSION_DENIED"),
    (500, {"error": {"code": 500, "message": "boom", "status": "INTERNAL"}}, 0, "HTTP 500 INTERNAL"),
    (200, [], 2, "ReadTimeout"),
]  # fmt: skip
FAILURE_IDS = ["quota", "denied", "http-500", "timeout"]


@pytest.mark.parametrize(("status", "body", "delay", "reason"), FAILURES, ids=FAILURE_IDS)
def test_a_failing_route_matrix_falls_back_on_offline_estimates(
    google, geo_warnings, status, body, delay, reason
):
    google.answer(MATRIX_PATH, body, status=status, delay=delay)

    matrix = get_router().travel([BELLECOUR], [PART_DIEU, VAISE])

    assert matrix == OfflineRouter().travel([BELLECOUR], [PART_DIEU, VAISE])
    assert geo_warnings.records[0].getMessage() == (
        f"Google route matrix failed ({reason}): offline estimates answer"
    )


# --- routes: the optimised round -----------------------------------------------------------------------


def test_a_round_follows_googles_optimised_order(google):
    google.answer(
        ROUTES_PATH,
        {
            "routes": [
                {
                    "optimizedIntermediateWaypointIndex": [2, 0, 1],
                    "legs": [
                        {"distanceMeters": 3900, "duration": "610s"},
                        {"distanceMeters": 2100, "duration": "400s"},
                        {"distanceMeters": 1800, "duration": "330s"},
                        {"distanceMeters": 2500, "duration": "460s"},
                    ],
                }
            ]
        },
    )
    stops = ["Part-Dieu", "Croix-Rousse", "Vaise"]
    points = [PART_DIEU, CROIX_ROUSSE, VAISE]

    route = get_router().optimise_route(BELLECOUR, points)

    assert route.stops == [VAISE, PART_DIEU, CROIX_ROUSSE]
    assert [stops[i] for i in route.order] == ["Vaise", "Part-Dieu", "Croix-Rousse"]
    assert (route.distance_m, route.duration_s, route.source) == (10300, 1800, "google")
    [request] = google.received
    assert request.headers["X-Goog-FieldMask"] == (
        "routes.optimizedIntermediateWaypointIndex,routes.legs.distanceMeters,routes.legs.duration"
    )
    start = {"location": {"latLng": {"latitude": 45.75504, "longitude": 4.83076}}}
    assert request.body["origin"] == start
    assert request.body["destination"] == start
    assert request.body["optimizeWaypointOrder"] is True
    assert request.body["intermediates"] == [
        {"location": {"latLng": {"latitude": 45.76041, "longitude": 4.85191}}},
        {"location": {"latLng": {"latitude": 45.77451, "longitude": 4.83183}}},
        {"location": {"latLng": {"latitude": 45.77412, "longitude": 4.80548}}},
    ]


@pytest.mark.parametrize(("status", "body", "delay", "reason"), FAILURES, ids=FAILURE_IDS)
def test_a_failing_round_falls_back_on_nearest_neighbour(google, geo_warnings, status, body, delay, reason):
    google.answer(ROUTES_PATH, body, status=status, delay=delay)

    route = get_router().optimise_route(BELLECOUR, [PART_DIEU, CROIX_ROUSSE, VAISE])

    assert route == OfflineRouter().optimise_route(BELLECOUR, [PART_DIEU, CROIX_ROUSSE, VAISE])
    assert route.source == "offline"
    assert geo_warnings.records[0].getMessage() == (
        f"Google route optimisation failed ({reason}): nearest-neighbour answers"
    )


def test_no_route_at_all_falls_back_on_nearest_neighbour(google, geo_warnings):
    google.answer(ROUTES_PATH, {})

    route = get_router().optimise_route(BELLECOUR, [PART_DIEU, VAISE])

    assert route.source == "offline"
    assert geo_warnings.records[0].getMessage() == (
        "Google route optimisation failed (KeyError): nearest-neighbour answers"
    )
