"""Links that open Google Maps on a phone or a computer, with no key (Google Maps URLs, api=1)."""

from urllib.parse import urlencode

from .base import as_point

DIRECTIONS_URL = "https://www.google.com/maps/dir/"
SEARCH_URL = "https://www.google.com/maps/search/"
# Google Maps URLs take at most 9 waypoints (fewer in some mobile browsers): a longer round needs
# several links.
MAX_LINK_WAYPOINTS = 9
TRAVEL_MODES = {"driving", "walking", "bicycling", "two-wheeler", "transit"}


def _place(place):
    """A point as "lat,lng", or an address text as it is."""
    if isinstance(place, str):
        return place
    point = as_point(place)
    return f"{point.latitude},{point.longitude}"


def maps_link(*, destination, origin=None, waypoints=(), travelmode="driving"):
    """A Google Maps directions URL from `origin` (the phone's position if None) to `destination`.

    Places are points (anything with latitude/longitude) or address texts; `waypoints` are visited
    in the order given.
    """
    waypoints = list(waypoints)
    if len(waypoints) > MAX_LINK_WAYPOINTS:
        raise ValueError(f"Google Maps URLs take at most {MAX_LINK_WAYPOINTS} waypoints")
    if travelmode not in TRAVEL_MODES:
        raise ValueError(f"unknown travel mode {travelmode!r}")
    params = {"api": "1"}
    if origin is not None:
        params["origin"] = _place(origin)
    params["destination"] = _place(destination)
    if waypoints:
        params["waypoints"] = "|".join(_place(w) for w in waypoints)
    params["travelmode"] = travelmode
    return DIRECTIONS_URL + "?" + urlencode(params)


def route_link(start, route):
    """The directions URL of a `Route`: from `start` through its stops in order and back."""
    return maps_link(origin=start, destination=start, waypoints=route.stops)


def place_link(place):
    """A URL that shows one place (a store, an address) on Google Maps."""
    return SEARCH_URL + "?" + urlencode({"api": "1", "query": _place(place)})
