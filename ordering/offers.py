"""Another store for a cart the chosen store cannot serve.

When the store of the cart is closed (no "as soon as possible", or no slot at all), does not
deliver the address, or is out of something in the cart, the checkout offers the next store that
can: `next_store(...)` tries the candidates in the order a customer would want them and returns
the first that takes the order, with its promised time and its own quote (prices, fee and minimum
may differ between stores), or None.

Candidates: for a delivery, the stores whose area covers the address (`stores.areas.serving_stores`:
open ones nearest first, then closed ones by next opening); for a pickup, the live stores taking
orders, open ones first, nearest to the chosen store first (the customer chose it near them).
A candidate is kept when the cart prices there without a problem (every line available, the
minimum reached) and it has a time to promise: as soon as possible while open, else its first slot.
At most `MAX_CANDIDATES` stores are tried, so the checkout's queries stay bounded.
"""

from dataclasses import dataclass

from django.utils import timezone

from stores.areas import delivery_quote, distance_km, serving_stores
from stores.hours import is_open_at, ordering_settings
from stores.models import StorePage

from .exceptions import OrderError
from .models import Order
from .pricing import quote
from .slots import asap_slot, available_slots

MAX_CANDIDATES = 4


@dataclass
class StoreOffer:
    """A store that can take the cart: when (`promised_at`, `asap`) and for how much (`quote`)."""

    store: object
    promised_at: object  # aware datetime
    asap: bool
    quote: object  # pricing.Quote at that store
    fulfilment: str

    @property
    def today(self):
        return timezone.localdate(self.promised_at) == timezone.localdate()


def next_store(*, store, lines, fulfilment, code="", place=None, now=None):
    """The first other store that can serve `lines` for `fulfilment` now, as a `StoreOffer`.

    `place` (anything with latitude, longitude and postcode: a located address) is required for a
    delivery: without it there is nothing to offer. Reads only.
    """
    now = now or timezone.now()
    if fulfilment == Order.Fulfilment.DELIVERY:
        if place is None:
            return None
        candidates = [entry.store for entry in serving_stores(place, now) if entry.store.pk != store.pk]
    else:
        candidates = pickup_candidates(store, now)
    for candidate in candidates[:MAX_CANDIDATES]:
        offer = store_offer(candidate, lines=lines, fulfilment=fulfilment, code=code, place=place, now=now)
        if offer is not None:
            return offer
    return None


def pickup_candidates(store, now):
    """The live stores taking online orders, other than `store`: open first, nearest first."""
    stores = [
        other
        for other in StorePage.objects.live().for_listing().exclude(pk=store.pk)
        if ordering_settings(other).accepts_orders
    ]
    return sorted(stores, key=lambda other: (not is_open_at(other, now), distance_km(store, other)))


def store_offer(store, *, lines, fulfilment, code="", place=None, now=None):
    """`store`'s `StoreOffer` for the cart, or None when it cannot take it (a line it cannot make,
    the minimum not reached, no time to promise, the address outside its area)."""
    now = now or timezone.now()
    delivery = None
    if fulfilment == Order.Fulfilment.DELIVERY:
        delivery = delivery_quote(store, place)
        if not delivery.covered:
            return None
    try:
        priced = quote(store, list(lines), fulfilment=fulfilment, code=code, now=now, delivery=delivery)
    except OrderError:
        return None
    if not priced.orderable:
        return None
    slot = asap_slot(store, fulfilment, now) if is_open_at(store, now) else None
    asap = slot is not None
    if slot is None:
        slot = next(iter(available_slots(store, fulfilment, now)), None)
    if slot is None:
        return None
    return StoreOffer(
        store=store, promised_at=slot.promised_at, asap=asap, quote=priced, fulfilment=fulfilment
    )
