"""A driver's round (`ordering.routes.driver_route`): the visiting order from the store, offline
(nearest neighbour) and with Google's Routes API (through the local stub), and its Maps links."""

from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.core.cache import cache

from ordering.models import Order
from ordering.routes import driver_route, round_links
from stores.geo.postcodes import POSTCODES
from stores.tests.google_stub import GEOCODE_PATH, ROUTES_PATH, GoogleStub

from .delivery_helpers import POSTCODES as DELIVERED
from .delivery_helpers import ready
from .factories import make_shop

KEY = "AIzaSyA-test-key-for-the-local-stub-0000"
DIRECTIONS = "https://www.google.com/maps/dir/?"
STORE = "45.760000,4.835000"  # the test store's coordinates (StorePageFactory)


@pytest.fixture
def shop(home_page, store_index, menu_page):
    return make_shop(store_index, menu_page, postcodes=DELIVERED)


@pytest.fixture
def google(settings):
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
def offline(settings):
    settings.GOOGLEAPIKEY = ""


def orders_at(shop, postcodes):
    return [ready(shop, street=f"{n + 1} rue du Test", postcode=code) for n, code in enumerate(postcodes)]


def address(number, postcode):
    return f"{number} rue du Test, {postcode} Lyon"


def link(origin, destination, waypoints):
    params = {"api": "1", "origin": origin, "destination": destination}
    if waypoints:
        params["waypoints"] = "|".join(waypoints)
    params["travelmode"] = "driving"
    return DIRECTIONS + urlencode(params)


def at(order, postcode):
    """The order with stored coordinates (as checkout will save them): those of `postcode`."""
    _city, _aliases, latitude, longitude = POSTCODES[postcode]
    order.latitude, order.longitude = Decimal(latitude), Decimal(longitude)
    return order


def test_offline_the_round_goes_to_the_nearest_stop_each_time(shop, offline):
    orders = orders_at(shop, ["69009", "69003", "69007", "69004", "69008"])

    route = driver_route(shop.store, orders)

    assert [stop.address for stop in route.stops] == [
        address(2, "69003"),
        address(3, "69007"),
        address(5, "69008"),
        address(4, "69004"),
        address(1, "69009"),
    ]
    assert route.source == "offline"
    assert route.unplaced == []
    assert route.links == [link(STORE, STORE, [stop.address for stop in route.stops])]
    assert route.distance_m > 0 and route.duration_s > 0


def test_each_stop_has_its_own_directions_from_the_phone(shop, offline):
    [order] = orders_at(shop, ["69009"])

    [stop] = driver_route(shop.store, [order]).stops

    assert stop.link == DIRECTIONS + urlencode(
        {"api": "1", "destination": "1 rue du Test, 69009 Lyon", "travelmode": "driving"}
    )


def test_stored_coordinates_are_used_without_geocoding(shop, google):
    """Orders that carry coordinates are not geocoded: the stub receives no geocoding request,
    and the round follows their coordinates, not their address."""
    google.answer(ROUTES_PATH, {}, status=500)  # the round itself falls back offline
    first, second = orders_at(shop, ["69009", "69003"])
    at(first, "69001")  # next to the store
    at(second, "69008")
    geocoded_at_checkout = len(google.requests_to(GEOCODE_PATH))

    route = driver_route(shop.store, [second, first])

    assert [stop.order for stop in route.stops] == [first, second]
    assert len(google.requests_to(GEOCODE_PATH)) == geocoded_at_checkout


def test_an_address_the_geocoder_cannot_place_ends_the_round_by_its_text(shop, offline):
    near, lost, far = orders_at(shop, ["69002", "69003", "69009"])
    # An order placed before addresses had coordinates, whose address no longer places.
    Order.objects.filter(pk=lost.pk).update(postcode="38000", city="Grenoble", latitude=None, longitude=None)
    lost.refresh_from_db()

    route = driver_route(shop.store, [lost, far, near])

    assert [stop.address for stop in route.stops] == [
        address(1, "69002"),
        address(3, "69009"),
        "2 rue du Test, 38000 Grenoble",
    ]
    assert [stop.order for stop in route.unplaced] == [lost]
    assert route.links == [link(STORE, STORE, [stop.address for stop in route.stops])]


def test_a_round_of_more_than_nine_stops_takes_several_links_that_follow_each_other(shop):
    places = [f"{n} rue du Test, 69002 Lyon" for n in range(1, 13)]

    links = round_links(shop.store, places)

    assert links == [
        link(STORE, places[9], places[:9]),
        link(places[9], STORE, places[10:]),
    ]


def test_nine_stops_fit_one_link_and_none_take_none(shop):
    places = [f"{n} rue du Test, 69002 Lyon" for n in range(1, 10)]

    assert round_links(shop.store, places) == [link(STORE, STORE, places)]
    assert round_links(shop.store, []) == []


def leg(metres, seconds):
    return {"distanceMeters": metres, "duration": f"{seconds}s"}


def test_with_a_key_the_routes_api_chooses_the_visiting_order(shop, google):
    google.answer(
        ROUTES_PATH,
        {
            "routes": [
                {
                    "optimizedIntermediateWaypointIndex": [2, 0, 1],
                    "legs": [leg(900, 180), leg(1200, 240), leg(800, 150), leg(2000, 400)],
                }
            ]
        },
    )
    orders = [
        at(order, code)
        for order, code in zip(
            orders_at(shop, ["69001", "69003", "69009"]), ["69001", "69003", "69009"], strict=True
        )
    ]

    route = driver_route(shop.store, orders)

    assert [stop.order for stop in route.stops] == [orders[2], orders[0], orders[1]]
    assert (route.source, route.distance_m, route.duration_s) == ("google", 4900, 970)
    [request] = google.requests_to(ROUTES_PATH)
    assert request.body["origin"] == request.body["destination"]
    assert request.body["origin"]["location"]["latLng"] == {"latitude": 45.76, "longitude": 4.835}
    assert [p["location"]["latLng"]["latitude"] for p in request.body["intermediates"]] == [
        45.7696,
        45.7599,
        45.78,
    ]
    assert request.body["optimizeWaypointOrder"] is True


def test_google_s_round_is_asked_once_for_the_same_stops(shop, google):
    google.answer(
        ROUTES_PATH,
        {"routes": [{"optimizedIntermediateWaypointIndex": [0], "legs": [leg(900, 180), leg(900, 180)]}]},
    )
    [order] = orders_at(shop, ["69001"])
    at(order, "69001")

    driver_route(shop.store, [order])
    again = driver_route(shop.store, [order])

    assert again.source == "google"
    assert len(google.requests_to(ROUTES_PATH)) == 1


def test_when_the_routes_api_fails_the_round_is_nearest_neighbour(shop, google):
    google.answer(ROUTES_PATH, {"error": {"status": "INTERNAL"}}, status=500)
    codes = ["69009", "69003", "69007", "69004", "69008"]
    orders = [at(order, code) for order, code in zip(orders_at(shop, codes), codes, strict=True)]

    route = driver_route(shop.store, orders)
    again = driver_route(shop.store, orders)

    assert route.source == "offline"
    assert [stop.address for stop in route.stops] == [
        address(2, "69003"),
        address(3, "69007"),
        address(5, "69008"),
        address(4, "69004"),
        address(1, "69009"),
    ]
    assert again.source == "offline"
    assert len(google.requests_to(ROUTES_PATH)) == 2  # a fallback is never cached
