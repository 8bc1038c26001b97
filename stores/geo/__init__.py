"""Addresses, distances and drivers' rounds: Google Maps with a key, the offline twin without.

    from stores.geo import get_geocoder, get_router, maps_link

    place = get_geocoder().geocode("12 rue Victor Hugo, 69002 Lyon")   # GeocodeResult or GeoError
    matrix = get_router().travel([store], [place])                     # [[Leg(distance_m, duration_s)]]
    route = get_router().optimise_route(store, [place_a, place_b])     # Route(stops, legs, …)

`GOOGLEAPIKEY` set: Google (geocoding cached, offline fallback on any failure); empty: offline.
See docs/maps.md for the keys and APIs to enable.
"""

from django.conf import settings

from .base import (
    AddressAmbiguous,
    AddressNotFound,
    Geocoder,
    GeocodeResult,
    GeoError,
    InvalidAddress,
    Leg,
    Point,
    Precision,
    Route,
    Router,
    clean_address,
)
from .links import maps_link, place_link, route_link
from .offline import OfflineGeocoder, OfflineRouter

__all__ = [
    "AddressAmbiguous",
    "AddressNotFound",
    "GeoError",
    "GeocodeResult",
    "Geocoder",
    "InvalidAddress",
    "Leg",
    "Point",
    "Precision",
    "Route",
    "Router",
    "clean_address",
    "get_geocoder",
    "get_router",
    "maps_link",
    "place_link",
    "route_link",
]


def get_geocoder():
    """Google's geocoder when `GOOGLEAPIKEY` is set, else the offline one."""
    if not settings.GOOGLEAPIKEY:
        return OfflineGeocoder()
    from .google import GoogleGeocoder

    return GoogleGeocoder(
        key=settings.GOOGLEAPIKEY,
        base_url=settings.GEO_GEOCODING_BASE_URL,
        timeout=settings.GEO_TIMEOUT_SECONDS,
        cache_seconds=settings.GEO_CACHE_SECONDS,
        fallback=OfflineGeocoder(),
    )


def get_router():
    """Google's Routes API when `GOOGLEAPIKEY` is set, else the offline estimates."""
    if not settings.GOOGLEAPIKEY:
        return OfflineRouter()
    from .google import GoogleRouter

    return GoogleRouter(
        key=settings.GOOGLEAPIKEY,
        base_url=settings.GEO_ROUTES_BASE_URL,
        timeout=settings.GEO_TIMEOUT_SECONDS,
        fallback=OfflineRouter(),
    )
