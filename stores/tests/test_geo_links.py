"""Google Maps links that need no key."""

from decimal import Decimal

import pytest

from stores.geo import Point, maps_link, place_link, route_link
from stores.geo.offline import OfflineRouter

STORE = Point(Decimal("45.755040"), Decimal("4.830760"))
A = Point(Decimal("45.760410"), Decimal("4.851910"))
B = Point(Decimal("45.774510"), Decimal("4.831830"))


def test_a_directions_link_carries_origin_destination_waypoints_and_mode():
    assert maps_link(origin=STORE, destination=B, waypoints=[A]) == (
        "https://www.google.com/maps/dir/?api=1&origin=45.755040%2C4.830760"
        "&destination=45.774510%2C4.831830&waypoints=45.760410%2C4.851910&travelmode=driving"
    )


def test_without_origin_the_phone_starts_from_where_it_is():
    assert maps_link(destination="12 rue Victor Hugo, 69002 Lyon", travelmode="walking") == (
        "https://www.google.com/maps/dir/?api=1&destination=12+rue+Victor+Hugo%2C+69002+Lyon"
        "&travelmode=walking"
    )


def test_waypoints_are_separated_by_a_pipe_in_the_order_given():
    link = maps_link(origin=STORE, destination=STORE, waypoints=[B, A])

    assert "&waypoints=45.774510%2C4.831830%7C45.760410%2C4.851910&" in link


def test_a_link_takes_at_most_nine_waypoints():
    with pytest.raises(ValueError, match="at most 9 waypoints"):
        maps_link(destination=STORE, waypoints=[A] * 10)


def test_an_unknown_travel_mode_is_refused():
    with pytest.raises(ValueError, match="unknown travel mode"):
        maps_link(destination=STORE, travelmode="flying")


def test_a_round_link_leaves_the_store_visits_the_stops_in_order_and_comes_back():
    route = OfflineRouter().optimise_route(STORE, [B, A])

    assert route_link(STORE, route) == maps_link(origin=STORE, destination=STORE, waypoints=[A, B])


def test_a_place_link_shows_one_place():
    assert place_link(STORE) == "https://www.google.com/maps/search/?api=1&query=45.755040%2C4.830760"
