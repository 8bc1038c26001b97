"""Delivery addresses: checked, geocoded once and priced by the store's delivery area.

    located = locate_address(store=store, address=Address("12 rue Victor Hugo", "69002", "Lyon"))
    located.street_address, located.latitude, located.delivery.fee   # or OrderError (French)

The checkout, `services.place_order` and the staff's order taking call `locate_address`; none of
them re-implements the rules. An `Address` that carries coordinates (a saved address geocoded when
the customer saved it, or one located earlier in the same checkout) is not geocoded again: only its
delivery area is checked, which is a pure read. Everything else goes through the configured
geocoder (`stores.geo.get_geocoder()`: Google with a key, cached; the offline twin without), whose
refusals (empty, too long, digits only, non-Latin script, not found, ambiguous) become `OrderError`
with the geocoder's French message.
"""

import re
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from stores.areas import DeliveryQuote, delivers_somewhere, delivery_quote
from stores.geo import AddressAmbiguous, GeoError, Point, get_geocoder

from .exceptions import OrderError

MAX_STREET_LENGTH = 200
MAX_CITY_LENGTH = 80
MAX_DETAILS_LENGTH = 200
POSTCODE_PATTERN = re.compile(r"[0-9]{5}")


@dataclass(frozen=True)
class Address:
    """A delivery address as typed (or saved). `latitude`/`longitude` set means already geocoded."""

    street_address: str
    postcode: str
    city: str
    details: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None

    @property
    def located(self):
        return self.latitude is not None and self.longitude is not None


@dataclass(frozen=True)
class LocatedAddress:
    """A normalised delivery address, its coordinates and what delivering it from `store` costs."""

    street_address: str
    postcode: str
    city: str
    details: str
    latitude: Decimal
    longitude: Decimal
    store: object
    delivery: DeliveryQuote

    @property
    def point(self):
        return Point(self.latitude, self.longitude)

    @property
    def address(self):
        """The same address as an `Address` with its coordinates (located again without a lookup)."""
        return Address(
            self.street_address, self.postcode, self.city, self.details, self.latitude, self.longitude
        )

    def as_session(self):
        return address_as_session(self)


def address_as_session(address):
    """A located address as the checkout keeps it in the session (strings only)."""
    return {
        "street_address": address.street_address,
        "postcode": address.postcode,
        "city": address.city,
        "address_details": address.details,
        "latitude": str(address.latitude),
        "longitude": str(address.longitude),
    }


class OutsideArea(OrderError):
    """The address is real but the store does not deliver it: `place` says where it is, so that
    another store (`ordering.offers`) can be offered."""

    def __init__(self, message, place, address):
        super().__init__(message)
        self.place = place
        self.address = address  # the normalised `Address`, with its coordinates


def located_address(address, *, geocoder=None):
    """`address` (an `Address`) normalised and with coordinates: geocoded unless it already has
    them. Raises OrderError (French) for an incomplete address or one the geocoder refuses."""
    street = " ".join((address.street_address or "").split())
    postcode = re.sub(r"\s", "", address.postcode or "")
    city = " ".join((address.city or "").split())
    details = " ".join((address.details or "").split())
    if len(street) > MAX_STREET_LENGTH or len(city) > MAX_CITY_LENGTH or len(details) > MAX_DETAILS_LENGTH:
        raise OrderError(_("Cette adresse est trop longue : vérifiez-la."))
    if address.located:
        return Address(street, postcode, city, details, address.latitude, address.longitude)
    if not street or not city:
        raise OrderError(_("Indiquez l'adresse de livraison complète."))
    if postcode and not POSTCODE_PATTERN.fullmatch(postcode):
        raise OrderError(_("Indiquez un code postal à 5 chiffres."))
    text = ", ".join(part for part in (street, f"{postcode} {city}".strip()) if part)
    try:
        place = (geocoder or get_geocoder()).geocode(text)
    except AddressAmbiguous as error:
        message = error.message
        if error.candidates:
            choices = "; ".join(error.candidates[:5])
            message = f"{message} " + _("Par exemple : %(choices)s.") % {"choices": choices}
        raise OrderError(message) from error
    except GeoError as error:
        raise OrderError(error.message) from error
    return Address(
        street_address=normalised_street(place, street),
        postcode=place.postcode or postcode,
        city=place.city or city,
        details=details,
        latitude=place.latitude,
        longitude=place.longitude,
    )


def normalised_street(place, typed):
    """The street part of the geocoder's normalised address ("12 Rue Victor Hugo" of
    "12 Rue Victor Hugo, 69002 Lyon, France"), or what was typed when it has none."""
    if place.postcode and f", {place.postcode}" in place.address:
        street = place.address.split(f", {place.postcode}")[0].strip(" ,")
        if street and len(street) <= MAX_STREET_LENGTH:
            return street
    return typed


def locate_address(*, store, address, geocoder=None):
    """The `LocatedAddress` of `address` for a delivery from `store`.

    Geocodes the address once (not at all when it carries coordinates), then applies the store's
    delivery area (`stores.areas.delivery_quote`: postcodes and/or radius, fee and minimum by
    band). Raises OrderError with a French message for an incomplete or refused address, and
    `OutsideArea` (an OrderError) when the store does not deliver there. Writes nothing.
    """
    if address is None:
        raise OrderError(_("Indiquez l'adresse de livraison."))
    if isinstance(address, LocatedAddress):
        address = address.address
    if not delivers_somewhere(store):
        raise OrderError(_("Cette pizzeria ne livre pas : choisissez le retrait sur place."))
    clean = located_address(address, geocoder=geocoder)
    place = _Place(clean.latitude, clean.longitude, clean.postcode)
    quote = delivery_quote(store, place)
    if not quote.covered:
        raise OutsideArea(
            _(
                "%(store)s ne livre pas cette adresse (%(postcode)s %(city)s). Vous pouvez retirer "
                "votre commande sur place, ou la commander à une autre pizzeria."
            )
            % {"store": store.title, "postcode": clean.postcode, "city": clean.city},
            place=place,
            address=clean,
        )
    return LocatedAddress(
        street_address=clean.street_address,
        postcode=clean.postcode,
        city=clean.city,
        details=clean.details,
        latitude=clean.latitude,
        longitude=clean.longitude,
        store=store,
        delivery=quote,
    )


@dataclass(frozen=True)
class _Place:
    """What the delivery area reads of an address: where it is and its postcode."""

    latitude: Decimal
    longitude: Decimal
    postcode: str


def place_of(address):
    """The point and postcode of a located `Address` or `LocatedAddress` (for `serving_stores`)."""
    return _Place(address.latitude, address.longitude, address.postcode)
