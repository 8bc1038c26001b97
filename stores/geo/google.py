"""Google Maps Platform: the Geocoding API (through `googlemaps`) and the Routes API (REST).

Distances, times and rounds come from the Routes API only (`computeRouteMatrix`, `computeRoutes`
with `optimizeWaypointOrder`): the legacy Distance Matrix and Directions APIs cannot be enabled on
new Google Cloud projects. Requests go to the base URLs of the settings, which tests point at a
local stub server.

Geocoding answers are kept in Django's cache for `GEO_CACHE_SECONDS` (Google allows coordinates to
be cached for 30 days), so an address is paid for once; "not found" answers too. A cache that is
down (ocpizza.cache.FailSoftRedisCache) reads as empty: every lookup is then paid, none fails.

Quota exceeded, a denied or malformed key, an HTTP error, a timeout or an unreadable answer make
the call fall back on the offline twin, with a warning in the log (never the key, never the
customer's address). Nothing is cached from a fallback, so Google is asked again next time.
"""

import hashlib
import logging
from decimal import Decimal

import googlemaps
import requests
from django.core.cache import cache
from django.utils.translation import gettext as _

from .base import (
    COORDINATE_PLACES,
    AddressAmbiguous,
    AddressNotFound,
    Geocoder,
    GeocodeResult,
    Leg,
    Precision,
    Router,
)

logger = logging.getLogger(__name__)

CACHE_PREFIX = "geo:geocode:v1:"
MAX_CANDIDATES = 5
ADDRESS_TYPES = {"street_address", "premise", "subpremise", "establishment", "point_of_interest"}
STREET_TYPES = {"route", "intersection"}

GEOCODING_FAILURES = (
    googlemaps.exceptions.ApiError,  # OVER_QUERY_LIMIT, REQUEST_DENIED, INVALID_REQUEST, UNKNOWN_ERROR
    googlemaps.exceptions.HTTPError,
    googlemaps.exceptions.Timeout,  # also what the client raises once its retries of a 5xx run out
    googlemaps.exceptions.TransportError,
    ValueError,  # a malformed key (refused by the client), a body that is not JSON
    KeyError,  # a JSON body without the fields the API promises
    TypeError,
)
ROUTES_FAILURES = (requests.RequestException, ValueError, KeyError, TypeError, IndexError)


class RoutesUnavailable(Exception):
    """The Routes API answered with an HTTP error (its status, e.g. "HTTP 403 PERMISSION_DENIED")."""


def describe(error):
    """What went wrong, for the log: a status, never the URL (it carries the key) nor the address."""
    if isinstance(error, googlemaps.exceptions.ApiError):
        return error.status
    if isinstance(error, googlemaps.exceptions.HTTPError):
        return f"HTTP {error.status_code}"
    if isinstance(error, googlemaps.exceptions.TransportError):
        return f"transport error ({type(error.base_exception).__name__})"
    if isinstance(error, RoutesUnavailable):
        return str(error)
    return type(error).__name__


def cache_key(text):
    return CACHE_PREFIX + hashlib.sha256(text.casefold().encode()).hexdigest()


def _component(result, kind):
    for component in result.get("address_components", []):
        if kind in component.get("types", []):
            return component.get("long_name", "")
    return ""


def _precision(result):
    types = set(result.get("types", []))
    if types & ADDRESS_TYPES or _component(result, "street_number"):
        return Precision.ADDRESS
    if types & STREET_TYPES:
        return Precision.STREET
    return Precision.AREA


def _decimal(value):
    return Decimal(str(value)).quantize(COORDINATE_PLACES)


class GoogleGeocoder(Geocoder):
    """Geocoding API, region and language "fr", limited to France; cached; offline fallback."""

    source = "google"

    def __init__(self, *, key, base_url, timeout, cache_seconds, fallback):
        self.key = key
        self.base_url = base_url
        self.timeout = timeout
        self.cache_seconds = cache_seconds
        self.fallback = fallback

    def _geocode(self, text):
        key = cache_key(text)
        results = cache.get(key)
        if results is None:
            try:
                results = self._fetch(text)
            except GEOCODING_FAILURES as error:
                logger.warning("Google geocoding failed (%s): the offline geocoder answers", describe(error))
                return self.fallback._geocode(text)
            cache.set(key, results, self.cache_seconds)
        return self._result(results)

    def _fetch(self, text):
        """Google's results for `text`, reduced to what `_result` reads (a list, [] if none)."""
        client = googlemaps.Client(
            key=self.key,
            base_url=self.base_url,
            timeout=self.timeout,
            # The client retries 5xx answers until this much time has passed, then raises Timeout.
            retry_timeout=self.timeout,
            retry_over_query_limit=False,
        )
        try:
            results = client.geocode(text, components={"country": "FR"}, region="fr", language="fr")
        finally:
            client.session.close()
        return [
            {
                "formatted_address": result["formatted_address"],
                "location": result["geometry"]["location"],
                "types": result.get("types", []),
                "address_components": result.get("address_components", []),
            }
            for result in results
        ]

    def _result(self, results):
        if not results:
            raise AddressNotFound(_("Adresse introuvable : vérifiez le numéro, la rue et la ville."))
        distinct = list(dict.fromkeys(result["formatted_address"] for result in results))
        if len(distinct) > 1:
            raise AddressAmbiguous(
                _("Plusieurs adresses correspondent : précisez le code postal et la ville."),
                candidates=distinct[:MAX_CANDIDATES],
            )
        result = results[0]
        return GeocodeResult(
            latitude=_decimal(result["location"]["lat"]),
            longitude=_decimal(result["location"]["lng"]),
            address=result["formatted_address"],
            postcode=_component(result, "postal_code"),
            city=_component(result, "locality") or _component(result, "postal_town"),
            precision=_precision(result),
            source=self.source,
        )


def _waypoint(point):
    return {"location": {"latLng": {"latitude": float(point.latitude), "longitude": float(point.longitude)}}}


def _seconds(duration):
    """Seconds of a protobuf JSON duration ("160s", "3.5s")."""
    return round(float(duration.removesuffix("s")))


class GoogleRouter(Router):
    """Routes API by REST: route matrix and optimised round, driving, no traffic; offline fallback.

    Without traffic (`TRAFFIC_UNAWARE`) a matrix bills at the Essentials rate (per element); waypoint
    optimisation bills a round at the Pro rate of Compute Routes (once called "Advanced").
    """

    source = "google"
    MATRIX_PATH = "/distanceMatrix/v2:computeRouteMatrix"
    ROUTES_PATH = "/directions/v2:computeRoutes"
    COMMON = {
        "travelMode": "DRIVE",
        "routingPreference": "TRAFFIC_UNAWARE",
        "languageCode": "fr",
        "regionCode": "FR",
    }

    def __init__(self, *, key, base_url, timeout, fallback):
        self.key = key
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.fallback = fallback

    def _post(self, path, body, field_mask):
        response = requests.post(
            self.base_url + path,
            json=body,
            headers={"X-Goog-Api-Key": self.key, "X-Goog-FieldMask": field_mask},
            timeout=self.timeout,
        )
        if response.status_code != 200:
            try:
                status = response.json()["error"]["status"]
            except (ValueError, KeyError, TypeError):
                status = ""
            raise RoutesUnavailable(f"HTTP {response.status_code} {status}".strip())
        return response.json()

    def _travel(self, origins, destinations):
        try:
            return self._matrix(origins, destinations)
        except (RoutesUnavailable, *ROUTES_FAILURES) as error:
            logger.warning("Google route matrix failed (%s): offline estimates answer", describe(error))
            return self.fallback._travel(origins, destinations)

    def _matrix(self, origins, destinations):
        elements = self._post(
            self.MATRIX_PATH,
            {
                "origins": [{"waypoint": _waypoint(p)} for p in origins],
                "destinations": [{"waypoint": _waypoint(p)} for p in destinations],
                **self.COMMON,
            },
            "originIndex,destinationIndex,status,condition,distanceMeters,duration",
        )
        matrix = [[None] * len(destinations) for _origin in origins]
        for element in elements:
            # Protobuf JSON leaves out fields at their default: index 0, distance 0.
            row, column = element.get("originIndex", 0), element.get("destinationIndex", 0)
            if element.get("condition") == "ROUTE_EXISTS":
                matrix[row][column] = Leg(
                    distance_m=int(element.get("distanceMeters", 0)),
                    duration_s=_seconds(element.get("duration", "0s")),
                )
        return matrix

    def _optimise_route(self, start, stops):
        try:
            return self._round(start, stops)
        except (RoutesUnavailable, *ROUTES_FAILURES) as error:
            logger.warning(
                "Google route optimisation failed (%s): nearest-neighbour answers", describe(error)
            )
            return self.fallback._optimise_route(start, stops)

    def _round(self, start, stops):
        answer = self._post(
            self.ROUTES_PATH,
            {
                "origin": _waypoint(start),
                "destination": _waypoint(start),
                "intermediates": [_waypoint(p) for p in stops],
                "optimizeWaypointOrder": True,
                **self.COMMON,
            },
            "routes.optimizedIntermediateWaypointIndex,routes.legs.distanceMeters,routes.legs.duration",
        )
        route = answer["routes"][0]  # no route at all: IndexError/KeyError, the fallback answers
        order = route.get("optimizedIntermediateWaypointIndex") or list(range(len(stops)))
        legs = [
            Leg(distance_m=int(leg.get("distanceMeters", 0)), duration_s=_seconds(leg.get("duration", "0s")))
            for leg in route["legs"]
        ]
        if sorted(order) != list(range(len(stops))) or len(legs) != len(stops) + 1:
            raise ValueError("the route does not visit every stop once")
        return order, legs, self.source
