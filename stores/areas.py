"""Delivery areas: whether a store delivers an address, at what fee and minimum, and which store
serves it.

A store's area (head office's fields of `StorePage`, see `menu.head_office`):
- `delivery_postcodes`: the postcodes it delivers; empty means "not restricted by postcode";
- `delivery_radius_km`: how far it delivers, in a straight line from the store (inclusive);
  empty means "not restricted by distance";
- a store with neither delivers nowhere (pickup only). With both, an address must be in both:
  the radius caps postcodes that stretch far (a listed postcode outside the radius is refused).
- `delivery_bands`: fee and minimum order by distance. The band with the smallest limit at or above
  the distance applies; a field it leaves empty, or a distance beyond every band, takes the
  store's ordering settings (`StoreOrderingSettings.delivery_fee` / `minimum_order`).

Distances are straight lines (great circle) in km, rounded to 10 m, so that an address exactly at
the radius is inside, whatever the floating point says. Pure reads: the bands and ordering
settings come from a prefetch when the caller made one (`StoreQuerySet.for_listing`).
"""

from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from .geo.base import as_point
from .geo.offline import haversine_m
from .hours import is_open_at, next_opening, ordering_settings
from .models import StorePage

DISTANCE_PLACES = Decimal("0.01")


class DeliveryQuote(NamedTuple):
    """What delivering an address costs: `fee` and `minimum` are None when not `covered`.

    `fee` is before `free_delivery_from` (see `fee_for_basket`).
    """

    covered: bool
    distance_km: Decimal
    fee: Decimal | None
    minimum: Decimal | None


class ServingStore(NamedTuple):
    store: object
    distance_km: Decimal
    open_now: bool
    next_opening: object  # an aware datetime, None when open now or no opening is known
    fee: Decimal
    minimum: Decimal


def distance_km(store, place):
    """The straight-line distance from `store` to `place` (anything with latitude/longitude), in km."""
    metres = haversine_m(as_point(store), as_point(place))
    return (Decimal(metres) / 1000).quantize(DISTANCE_PLACES, rounding=ROUND_HALF_UP)


def delivers_somewhere(store):
    """Whether the store has a delivery area at all (else: pickup only)."""
    return bool(store.delivery_postcode_list) or store.delivery_radius_km is not None


def delivery_quote(store, place):
    """(covered, distance_km, fee, minimum) for delivering `place` (a `GeocodeResult`) from `store`.

    `place` without a `postcode` attribute (a browser's position) is covered only by a radius, and
    only by a store that lists no postcodes.
    """
    distance = distance_km(store, place)
    postcodes = store.delivery_postcode_list
    postcode = getattr(place, "postcode", "") or ""
    radius = store.delivery_radius_km
    covered = (
        delivers_somewhere(store)
        and (not postcodes or postcode in postcodes)
        and (radius is None or distance <= radius)
    )
    if not covered:
        return DeliveryQuote(False, distance, None, None)
    settings = ordering_settings(store)
    band = band_for(store, distance)
    fee = band.delivery_fee if band is not None and band.delivery_fee is not None else settings.delivery_fee
    minimum = (
        band.minimum_order if band is not None and band.minimum_order is not None else settings.minimum_order
    )
    return DeliveryQuote(True, distance, fee, minimum)


def band_for(store, distance):
    """The `DeliveryBand` of `store` that applies at `distance` km, or None."""
    bands = sorted(store.delivery_bands.all(), key=lambda band: band.up_to_km)
    return next((band for band in bands if distance <= band.up_to_km), None)


def fee_for_basket(store, quote, subtotal):
    """The delivery fee of a basket of `subtotal` euros: the quote's, or 0 from the store's
    `free_delivery_from`."""
    settings = ordering_settings(store)
    if settings.free_delivery_from is not None and subtotal >= settings.free_delivery_from:
        return Decimal("0.00")
    return quote.fee


def serving_stores(place, now, stores=None):
    """The stores that deliver `place`, the one to order from first: a list of `ServingStore`.

    Open stores first, nearest first; then closed stores by next opening (the soonest first), then
    distance. Stores that do not take orders online (`accepts_orders` off) are left out. `stores`
    defaults to every live store.
    """
    if stores is None:
        stores = StorePage.objects.live().for_listing()
    serving = []
    for store in stores:
        if not ordering_settings(store).accepts_orders:
            continue
        quote = delivery_quote(store, place)
        if not quote.covered:
            continue
        open_now = is_open_at(store, now)
        serving.append(
            ServingStore(
                store=store,
                distance_km=quote.distance_km,
                open_now=open_now,
                next_opening=None if open_now else next_opening(store, now),
                fee=quote.fee,
                minimum=quote.minimum,
            )
        )
    return sorted(serving, key=_serving_order)


def _serving_order(entry):
    if entry.open_now:
        return (0, 0, entry.distance_km)
    if entry.next_opening is None:
        return (2, 0, entry.distance_km)
    return (1, entry.next_opening.timestamp(), entry.distance_km)
