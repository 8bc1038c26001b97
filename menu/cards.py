"""Menu cards drawn once per content: a card's HTML is kept, in this process, under everything it
shows.

A menu, a store's menu and the home page's featured products draw one card per product
(`templates/includes/product_card.html`): about half of a store menu's rendering when the page
cache has dropped it (after each sale at that store). Most of those cards are the same as a
moment ago. `render_card` keys each card on the values it is drawn from (the product's text,
flags, link and photo with its focal point and renditions, its sizes and prices, the store's
availability of each and its reasons, the store and the options its form offers, the language)
and draws it only for a key it has not seen. A change to any of them is a new key: nothing is
invalidated, so nothing can be served stale for want of an invalidation. A card whose photo's
renditions were not read with it is drawn every time (the files it names are unknown).

What differs from one visitor to the next in a card, the CSRF token and the `next` field of its
add-to-cart form, is cut out of the kept card and filled in for each request. A card drawn
without either (no request, no token) is not kept.

The cards live in this process's memory (no cache round trip, gone with the process, so a new
deployment's templates draw new cards), at most MAX_CARDS of them, the least recently used
dropped first. Off under DEBUG, where a template edited in place would keep its old cards.
"""

import re
import threading
from collections import OrderedDict

from django.conf import settings
from django.template.loader import get_template
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from .catalogue import kept

CARD_TEMPLATE = "includes/product_card.html"
MAX_CARDS = 1000

# The values filled in per request: what the template draws there for this visitor.
PER_REQUEST = re.compile(r'name="(csrfmiddlewaretoken|next)" value="([^"]*)"')


class CardCache:
    """A bounded map of drawn cards, least recently used dropped first; safe across threads."""

    def __init__(self, size=MAX_CARDS):
        self.size = size
        self._cards = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            html = self._cards.get(key)
            if html is not None:
                self._cards.move_to_end(key)
            return html

    def put(self, key, html):
        with self._lock:
            self._cards[key] = html
            self._cards.move_to_end(key)
            while len(self._cards) > self.size:
                self._cards.popitem(last=False)

    def clear(self):
        with self._lock:
            self._cards.clear()

    def __len__(self):
        return len(self._cards)


cards = CardCache()


def render_card(context, product, offer=None):
    """The card of `product` (with `offer`, a menu.offers.ProductOffer, on a menu), as the
    template draws it with this context's request, CSRF token and `store`."""
    request, store, csrf_token = context.get("request"), context.get("store"), context.get("csrf_token")
    template = get_template(CARD_TEMPLATE)
    values = {"product": product, "offer": offer, "store": store, "request": request}
    values["csrf_token"] = csrf_token
    keep = not settings.DEBUG and product.pk is not None and request is not None and csrf_token is not None
    key = card_key(request, product, offer, store) if keep else None
    if key is None:
        return template.render(values)
    parts = cards.get(key)
    if parts is None:
        parts = _cut(template.render(values))
        cards.put(key, parts)
    filled = {"csrfmiddlewaretoken": str(csrf_token)}
    filled["next"] = str(conditional_escape(request.get_full_path()))
    # The template's own output (autoescaped when drawn), with the token and the escaped address
    # it drew for this request.
    return mark_safe("".join(part if isinstance(part, str) else filled[part[0]] for part in parts))  # noqa: S308


def _cut(html):
    """The card as text and (name,) slots where PER_REQUEST values go."""
    parts, start = [], 0
    for match in PER_REQUEST.finditer(html):
        parts += [html[start : match.start(2)], (match.group(1),)]
        start = match.end(2)
    parts.append(html[start:])
    return tuple(parts)


def card_key(request, product, offer, store):
    """Every value the card template reads, and the language it is drawn in; None for a card
    not to keep: its photo's renditions were not read with it (not prefetched, or none made yet),
    so the files its picture would name are unknown."""
    photo = product.photo
    renditions = None if photo is None else getattr(photo, "prefetched_renditions", None)
    if photo is not None and not renditions:
        return None
    selling = bool(store and offer and offer.available)  # the template's test for the form
    return (
        get_language(),
        product.pk,
        product.title,
        product.slug,
        product_url(request, product),
        product.summary,
        product.is_vegetarian,
        product.is_spicy,
        product.is_available,
        None
        if photo is None
        else (
            photo.pk,
            photo.file.name,
            photo.file_hash,
            photo.width,
            photo.height,
            photo.focal_point_x,
            photo.focal_point_y,
            photo.focal_point_width,
            photo.focal_point_height,
            tuple((r.pk, r.file.name) for r in renditions),
        ),
        _offer_key(offer) if offer else tuple((s.pk, s.name, s.price) for s in product.sizes.all()),
        (store.pk, store.title) if selling else None,
        tuple((e.pk, e.name, e.price) for e in product.extras.all()) if selling else None,
    )


def product_url(request, product):
    """The product's link as `{% pageurl %}` writes it for this request: kept per content
    generation and site (`menu.catalogue`; a page moved or a site changed is a new generation)."""
    site = getattr(request, "_wagtail_site", None)
    key = ("product url", product.pk, site.pk if site is not None else None)
    return kept(request, key, lambda: product.get_url(request=request))


def _offer_key(offer):
    # The offer's own availability and reason follow from its sizes' (menu.offers.ProductOffer),
    # and a size's reason from its availability's `key` in the language of the card's key: no
    # reason is worded to find a kept card.
    return (
        offer.product.is_available,
        tuple(
            (
                row.size.pk,
                row.size.name,
                row.size.price,
                row.available,
                None if row.availability is None else row.availability.key,
            )
            for row in offer.sizes
        ),
    )
