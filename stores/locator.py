"""The store locator's content: every store open or closed now, and nearest first when the visitor
gives an address (or their browser's position); the map's markers when a browser key is set.

Used by `StoreIndexPage` and `StorePage` (`get_context`); reads only, one query per relation
whatever the number of stores (the listing's prefetches).
"""

from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from .areas import delivers_somewhere, delivery_quote, distance_km
from .forms import LocatorForm
from .geo import GeocodeResult, GeoError, Point, get_geocoder, maps_link, place_link
from .hours import is_open_at, next_opening


@dataclass
class LocatorEntry:
    store: object
    open_now: bool
    next_opening: object  # aware datetime or None
    distance_km: object = None  # Decimal, when the visitor gave an address or position
    quote: object = None  # `areas.DeliveryQuote`, when the visitor gave an address
    directions_url: str = ""
    map_url: str = ""

    @property
    def delivers(self):
        return delivers_somewhere(self.store)


def search_origin(form):
    """The place the visitor searched from (a `GeocodeResult` or a `Point`), or None.

    A geocoding failure (not found, ambiguous) becomes the address field's error.
    """
    if not form.is_valid():
        return None
    address = form.cleaned_data["adresse"]
    if address:
        try:
            return get_geocoder().geocode(address)
        except GeoError as error:
            form.add_error("adresse", error.message)
            return None
    if form.cleaned_data["lat"] is not None:
        return Point(form.cleaned_data["lat"], form.cleaned_data["lng"])
    return None


def locator_context(request, stores, now=None):
    """The store index page's context: `locator_form`, `origin`, `entries` (nearest first when an
    origin is known, else in the tree's order) and the map's (`map_context`)."""
    now = now or timezone.now()
    form = LocatorForm(request.GET if request.GET else None)
    origin = search_origin(form) if form.is_bound else None
    entries = []
    for store in stores:
        open_now = is_open_at(store, now)
        entry = LocatorEntry(
            store=store,
            open_now=open_now,
            next_opening=None if open_now else next_opening(store, now),
            directions_url=maps_link(destination=store, origin=origin),
            map_url=place_link(store),
        )
        if origin is not None:
            entry.distance_km = distance_km(store, origin)
            if isinstance(origin, GeocodeResult):  # an address, not a bare position
                entry.quote = delivery_quote(store, origin)
        entries.append(entry)
    if origin is not None:
        entries.sort(key=lambda entry: entry.distance_km)
    return {
        "locator_form": form,
        "origin": origin,
        "origin_is_position": isinstance(origin, Point),
        "entries": entries,
        "stores": [entry.store for entry in entries],
        **map_context([entry.store for entry in entries], origin=origin, request=request),
    }


def map_context(stores, origin=None, request=None):
    """`maps_browser_key` and, with a key, `map_markers` (for `json_script`): one per store."""
    key = settings.GOOGLE_MAPS_BROWSER_KEY
    if not key:
        return {"maps_browser_key": "", "map_markers": []}
    markers = [
        {
            "title": store.title,
            "lat": float(store.latitude),
            "lng": float(store.longitude),
            "url": store.get_url(request),
            "address": store.full_address,
        }
        for store in stores
    ]
    center = {"lat": float(origin.latitude), "lng": float(origin.longitude)} if origin is not None else None
    return {
        "maps_browser_key": key,
        "maps_script_url": settings.GOOGLE_MAPS_SCRIPT_URL,
        "map_markers": {"stores": markers, "origin": center},
    }
