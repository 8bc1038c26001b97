"""The offline twin: geocoding and routes from data the project ships, with no key and no network.

- Geocoding reads the postcode (or the town, or "Lyon 3e") in the text and answers with the centre
  of that postcode (`postcodes.POSTCODES`), always at `Precision.AREA`.
- Travel is the straight line (haversine) times `ROAD_FACTOR`, at `URBAN_SPEED_KMH`.
- A round is ordered nearest-neighbour: from the start, always the closest stop not yet visited.

Used when `GOOGLEAPIKEY` is empty (development, tests, demonstrations) and as Google's fallback.
"""

import math
import re
import unicodedata
from decimal import Decimal

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
from .postcodes import POSTCODES

EARTH_RADIUS_M = 6_371_000
# Roads are longer than the straight line; 1.3 is the usual detour index of a European city.
ROAD_FACTOR = 1.3
# Average door-to-door speed of a delivery in town, stops at lights included.
URBAN_SPEED_KMH = 20

POSTCODE_RE = re.compile(r"(?<!\d)(\d{5})(?!\d)")


def _plain(text):
    """Lower case, no accents, words separated by single spaces (for matching town names)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^0-9a-z]+", " ", letters).split())


# (plain alias, postcode), longest alias first, so that "sainte foy les lyon" wins over "lyon".
ALIASES = sorted(
    ((_plain(alias), code) for code, (_city, aliases, _lat, _lng) in POSTCODES.items() for alias in aliases),
    key=lambda item: -len(item[0]),
)


def haversine_m(a, b):
    """Straight-line distance in metres between two points (great circle)."""
    lat1, lng1, lat2, lng2 = map(math.radians, (a.latitude, a.longitude, b.latitude, b.longitude))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


def road_leg(a, b):
    """The estimated road trip from `a` to `b`."""
    distance = haversine_m(a, b) * ROAD_FACTOR
    return Leg(distance_m=round(distance), duration_s=round(distance / (URBAN_SPEED_KMH / 3.6)))


class OfflineGeocoder(Geocoder):
    source = "offline"

    def _geocode(self, text):
        postcode, street = self._postcode_and_street(text)
        city, _aliases, latitude, longitude = POSTCODES[postcode]
        street = street.strip(" ,;-")
        return GeocodeResult(
            latitude=Decimal(latitude).quantize(COORDINATE_PLACES),
            longitude=Decimal(longitude).quantize(COORDINATE_PLACES),
            address=f"{street}, {postcode} {city}" if street else f"{postcode} {city}",
            postcode=postcode,
            city=city,
            precision=Precision.AREA,
            source=self.source,
        )

    def _postcode_and_street(self, text):
        """The postcode the text names and what comes before it (the street), or an error."""
        found = list(POSTCODE_RE.finditer(text))
        if found:
            match = found[-1]  # a street number has fewer digits; the postcode comes last
            postcode = match.group(1)
            if postcode not in POSTCODES:
                raise AddressNotFound(
                    _("Nous ne trouvons pas le code postal %(postcode)s : vérifiez l'adresse.")
                    % {"postcode": postcode}
                )
            return postcode, text[: match.start()]
        plain = _plain(text)
        for alias, postcode in ALIASES:
            if re.search(rf"\b{re.escape(alias)}\b", plain):
                return postcode, self._before_town(text, alias)
        if re.search(r"\blyon\b", plain):
            raise AddressAmbiguous(
                _("Précisez le code postal ou l'arrondissement de Lyon."),
                candidates=[f"{code} Lyon" for code, entry in POSTCODES.items() if entry[0] == "Lyon"],
            )
        raise AddressNotFound(_("Adresse introuvable : indiquez le code postal et la ville."))

    @staticmethod
    def _before_town(text, alias):
        """The part of `text` before the first word of the town's name (the street)."""
        first_word = alias.split()[0]
        words = text.split()
        for index, word in enumerate(words):
            if _plain(word).startswith(first_word):
                return " ".join(words[:index])
        return ""


class OfflineRouter(Router):
    source = "offline"

    def _travel(self, origins, destinations):
        return [[road_leg(origin, destination) for destination in destinations] for origin in origins]

    def _optimise_route(self, start, stops):
        order, here = [], start
        remaining = list(range(len(stops)))
        while remaining:
            # min() keeps the first of equals: ties go to the stop given first.
            nearest = min(remaining, key=lambda i: haversine_m(here, stops[i]))
            remaining.remove(nearest)
            order.append(nearest)
            here = stops[nearest]
        path = [start, *(stops[i] for i in order), start]
        legs = [road_leg(a, b) for a, b in zip(path, path[1:], strict=False)]
        return order, legs, self.source
