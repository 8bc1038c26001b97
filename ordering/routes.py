"""A driver's round: the best visiting order of their orders from the store, and the links that
open it in Google Maps on their phone.

`driver_route(store, orders)` places each order (its stored `latitude`/`longitude` when it has
them, else its address geocoded by the configured geocoder, which caches), asks the configured
router for the visiting order (Routes API optimisation with a key, nearest neighbour offline;
either falls back offline on its own), and builds the Google Maps links. An address the geocoder
cannot place keeps its stop, at the end of the round (in promised order), named by its text.

In the links each customer's stop is its address text, not our coordinates: Google Maps places
a text at the door, while our coordinates may be a postcode's centre (the offline geocoder). The
store, whose coordinates are exact, is the start and the end of the round.
"""

import hashlib
from dataclasses import dataclass, field

from django.core.cache import cache

from stores.geo import GeoError, get_geocoder, get_router, maps_link
from stores.geo.base import MAX_ROUTE_STOPS, Point, as_point
from stores.geo.links import MAX_LINK_WAYPOINTS

# Rounds asked from Google are kept a while: the phone's page is drawn again at every change of
# the board, and an optimised round is billed per request.
ROUTE_CACHE_SECONDS = 60 * 60
ROUTE_CACHE_PREFIX = "ordering:route:v1:"


@dataclass(frozen=True)
class Stop:
    """One order of the round: `point` None when its address could not be placed."""

    order: object
    point: Point | None
    address: str

    @property
    def latitude(self):
        return self.point.latitude

    @property
    def longitude(self):
        return self.point.longitude

    @property
    def link(self):
        """Directions from the phone's position to this customer."""
        return maps_link(destination=self.address)


@dataclass
class DriverRoute:
    """`stops` in visiting order (placed ones as the router ordered them, then the unplaced);
    `links` the Google Maps URLs of the whole round from the store and back (several when it has
    more stops than one link takes); `distance_m`/`duration_s` the router's estimate for the
    placed stops (None without any); `source` "google" or "offline" (None without any)."""

    stops: list = field(default_factory=list)
    links: list = field(default_factory=list)
    distance_m: int | None = None
    duration_s: int | None = None
    source: str | None = None

    @property
    def unplaced(self):
        return [stop for stop in self.stops if stop.point is None]


def order_address(order):
    """The address text of a delivery order, as the geocoder and Google Maps read it."""
    return order.full_address


def place_order(order, geocoder):
    """The order's point: its stored coordinates if it has them, else its address geocoded, or
    None when the geocoder cannot place it."""
    latitude, longitude = getattr(order, "latitude", None), getattr(order, "longitude", None)
    if latitude is not None and longitude is not None:
        return as_point(order)
    try:
        return geocoder.geocode(order_address(order)).point
    except GeoError:
        return None


def driver_route(store, orders, *, geocoder=None, router=None):
    """The round of `orders` (delivery orders of `store`) from the store and back: a DriverRoute."""
    geocoder = geocoder or get_geocoder()
    router = router or get_router()
    orders = sorted(orders, key=lambda order: (order.promised_at, order.pk))
    stops = [Stop(order=o, point=place_order(o, geocoder), address=order_address(o)) for o in orders]
    placed = [stop for stop in stops if stop.point is not None]
    unplaced = [stop for stop in stops if stop.point is None]
    # The Routes API optimises up to MAX_ROUTE_STOPS stops: the rest (a very long round) follows.
    routed, beyond = placed[:MAX_ROUTE_STOPS], placed[MAX_ROUTE_STOPS:]
    result = DriverRoute()
    if routed:
        order, legs, source = _optimised(router, store, routed)
        routed = [routed[index] for index in order]
        result.distance_m = sum(leg.distance_m for leg in legs)
        result.duration_s = sum(leg.duration_s for leg in legs)
        result.source = source
    result.stops = routed + beyond + unplaced
    result.links = round_links(store, [stop.address for stop in result.stops])
    return result


def _optimised(router, store, stops):
    """(order, legs, source) of the round, Google's answers cached by the points asked."""
    points = [as_point(store)] + [stop.point for stop in stops]
    key = ROUTE_CACHE_PREFIX + type(router).__name__ + ":"
    key += hashlib.sha256(";".join(str(point) for point in points).encode()).hexdigest()
    cached = cache.get(key)
    if cached is not None:
        return cached
    route = router.optimise_route(store, stops)
    answer = (route.order, route.legs, route.source)
    if route.source != "offline":  # offline is free, and a fallback must not stick
        cache.set(key, answer, ROUTE_CACHE_SECONDS)
    return answer


def round_links(store, places):
    """Google Maps directions URLs of the round store → `places` in order → store.

    One link takes MAX_LINK_WAYPOINTS waypoints between its origin and destination: a longer
    round is cut into links that follow each other (each starts where the previous one ended).
    """
    if not places:
        return []
    path = [store, *places, store]
    links, start = [], 0
    while start < len(path) - 1:
        end = min(start + MAX_LINK_WAYPOINTS + 1, len(path) - 1)
        links.append(maps_link(origin=path[start], destination=path[end], waypoints=path[start + 1 : end]))
        start = end
    return links
