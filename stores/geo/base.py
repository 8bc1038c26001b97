"""The geocoding and routing interface every implementation (Google, offline) follows.

Callers hold a `Geocoder` and a `Router` (from `stores.geo.get_geocoder()` / `get_router()`) and
never learn which implementation answers: Google's when `GOOGLEAPIKEY` is set, the offline twin
otherwise, and the offline twin again whenever Google fails (quota, denied key, 5xx, timeout).

A *point* is anything with `latitude` and `longitude` attributes (Decimal or float, degrees):
a `Point`, a `GeocodeResult`, a `StorePage`. Routers give back the caller's own objects.
"""

import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from django.utils.translation import gettext as _

MAX_ADDRESS_LENGTH = 300
# Routes API limits: 25 intermediate waypoints for an optimised route, 625 matrix elements.
MAX_ROUTE_STOPS = 25
MAX_MATRIX_ELEMENTS = 625
COORDINATE_PLACES = Decimal("0.000001")  # the precision StorePage stores (6 decimal places)


class GeoError(Exception):
    """An address we cannot use; the message is French and can be shown to a customer as is."""

    @property
    def message(self):
        return str(self.args[0]) if self.args else ""


class InvalidAddress(GeoError):
    """The text cannot be an address (empty, too long, digits only, non-Latin script).

    Raised before any network call or cache lookup.
    """


class AddressNotFound(GeoError):
    """No place matches the address."""


class AddressAmbiguous(GeoError):
    """Several places match the address; `candidates` holds their normalised addresses."""

    def __init__(self, message, candidates=()):
        super().__init__(message)
        self.candidates = list(candidates)


class Precision(StrEnum):
    """How exactly the coordinates place the address."""

    ADDRESS = "address"  # a building or a street number
    STREET = "street"  # the street, without the number
    AREA = "area"  # a postcode, a district or a town (the offline geocoder's answer)


@dataclass(frozen=True)
class Point:
    latitude: Decimal
    longitude: Decimal

    def __str__(self):
        return f"{self.latitude},{self.longitude}"


@dataclass(frozen=True)
class GeocodeResult:
    """A place found for an address text.

    `latitude`/`longitude` are Decimal degrees with 6 places (as `StorePage` stores them);
    `address` is the normalised address to show and save; `source` is "google" or "offline".
    """

    latitude: Decimal
    longitude: Decimal
    address: str
    postcode: str
    city: str
    precision: str
    source: str

    @property
    def point(self):
        return Point(self.latitude, self.longitude)


@dataclass(frozen=True)
class Leg:
    """Travel by road from one point to another."""

    distance_m: int
    duration_s: int


@dataclass(frozen=True)
class Route:
    """A round trip from a start point through every stop and back to the start.

    `stops` are the caller's objects in visiting order, `order` their indexes in the list the caller
    gave; `legs` has one more entry than `stops` (the last one is the way back to the start).
    """

    stops: list
    order: list
    legs: list
    source: str

    @property
    def distance_m(self):
        return sum(leg.distance_m for leg in self.legs)

    @property
    def duration_s(self):
        return sum(leg.duration_s for leg in self.legs)


def as_point(obj):
    """The `Point` of anything with `latitude` and `longitude`."""
    return Point(
        Decimal(str(obj.latitude)).quantize(COORDINATE_PLACES),
        Decimal(str(obj.longitude)).quantize(COORDINATE_PLACES),
    )


def _is_latin(char):
    return char.isascii() or unicodedata.name(char, "").startswith("LATIN")


def clean_address(text):
    """The address text with its whitespace collapsed, or `InvalidAddress` (French message).

    Refused: nothing but spaces, more than `MAX_ADDRESS_LENGTH` characters, no letter at all (only
    digits and punctuation), letters of another script than Latin (Cyrillic, Chinese, Arabic…),
    and control characters. Accents and French punctuation are fine.
    """
    text = " ".join((text or "").split())
    if not text:
        raise InvalidAddress(_("Saisissez une adresse."))
    if len(text) > MAX_ADDRESS_LENGTH:
        raise InvalidAddress(
            _("Cette adresse est trop longue (%(max)d caractères au plus).") % {"max": MAX_ADDRESS_LENGTH}
        )
    has_letter = False
    for char in text:
        category = unicodedata.category(char)
        if category.startswith("C"):
            raise InvalidAddress(_("Cette adresse contient des caractères non valides."))
        if char.isalpha() or (char.isdigit() and not char.isascii()):
            # Compatibility forms count as what they stand for: "3ᵉ", "nº", ligatures, full width.
            plain = [c for c in unicodedata.normalize("NFKD", char) if c.isalpha() or c.isdigit()]
            if not plain or not all(map(_is_latin, plain)):
                raise InvalidAddress(_("Écrivez l'adresse en caractères latins."))
            has_letter = has_letter or any(c.isalpha() for c in plain)
    if not has_letter:
        raise InvalidAddress(_("Indiquez le numéro, la rue et la ville, pas seulement des chiffres."))
    return text


class Geocoder:
    """Turns an address typed by a person into a place.

    `geocode(text)` returns a `GeocodeResult`, or raises `InvalidAddress` (checked before anything
    else: no network call, no cache lookup), `AddressNotFound` or `AddressAmbiguous`. It never
    raises because a service is down: an implementation that talks to a service falls back on the
    offline geocoder and logs a warning. Subclasses implement `_geocode(clean_text)`.
    """

    def geocode(self, address_text):
        return self._geocode(clean_address(address_text))

    def _geocode(self, text):
        raise NotImplementedError


class Router:
    """Road distances and times between points, and the visiting order of a driver's round.

    - `travel(origins, destinations)`: a matrix, one row per origin, one `Leg` per destination
      (None where no road joins them). At most `MAX_MATRIX_ELEMENTS` pairs.
    - `optimise_route(start, stops)`: a `Route` from `start` through every stop and back, in the
      order that makes it short. At most `MAX_ROUTE_STOPS` stops.

    Like the geocoder, a router that talks to a service falls back on the offline one (logged),
    never raises because the service failed. Subclasses implement `_travel` and `_optimise_route`
    on lists of `Point`s.
    """

    def travel(self, origins, destinations):
        origins, destinations = list(origins), list(destinations)
        if len(origins) * len(destinations) > MAX_MATRIX_ELEMENTS:
            raise ValueError(f"at most {MAX_MATRIX_ELEMENTS} origin-destination pairs")
        if not origins or not destinations:
            return [[] for _origin in origins]
        return self._travel([as_point(o) for o in origins], [as_point(d) for d in destinations])

    def optimise_route(self, start, stops):
        stops = list(stops)
        if len(stops) > MAX_ROUTE_STOPS:
            raise ValueError(f"at most {MAX_ROUTE_STOPS} stops per route")
        if not stops:
            return Route(stops=[], order=[], legs=[], source=self.source)
        order, legs, source = self._optimise_route(as_point(start), [as_point(s) for s in stops])
        return Route(stops=[stops[i] for i in order], order=order, legs=legs, source=source)

    def _travel(self, origins, destinations):
        raise NotImplementedError

    def _optimise_route(self, start, stops):
        """Return (order, legs, source) for the round start → stops in `order` → start."""
        raise NotImplementedError
