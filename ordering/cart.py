"""The visitor's cart, kept in the session: one store, lines of ids (never prices), a promo code.

The session survives login (Django's `login` keeps the data of an anonymous session), so a
cart filled before signing in is still there after. Prices are never stored: the cart page and
the checkout ask `pricing.quote` every time.

Stored as plain JSON under `session["cart"]`:
`{"store_id": 3, "lines": [[size_id, quantity, [extra_id, ...]], ...], "code": "PIZZA10"}`.
"""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from menu.catalogue import kept
from menu.models import ProductExtra, ProductSize
from stores.hours import read_store_for_order
from stores.models import StorePage

from .pricing import CartLine, OrderError, quote

SESSION_KEY = "cart"
MAX_LINE_QUANTITY = 20  # units of one line; more is a phone call to the store
MAX_LINES = 30


def make_line(size_id, quantity, extra_ids=()):
    """A CartLine with its extras sorted and unique (two lines with the same choice merge)."""
    return CartLine(
        size_id=int(size_id), quantity=int(quantity), extra_ids=tuple(sorted({int(i) for i in extra_ids}))
    )


@dataclass
class Change:
    """What happened to one line when the cart was checked again (store switch, reorder)."""

    name: str
    reason: str

    def __str__(self):
        if self.name.split(" (")[0] in self.reason:  # the reason names the product already
            return str(self.reason)
        return _("%(name)s : %(reason)s") % {"name": self.name, "reason": self.reason}


class Cart:
    """`Cart(request.session)`: read and change the visitor's cart; every change is saved at once."""

    def __init__(self, session, request=None):
        self.session, self.request = session, request
        data = session.get(SESSION_KEY) or {}
        self.store_id = data.get("store_id")
        self.code = data.get("code", "")
        self.lines = []
        for raw in data.get("lines", []):
            try:
                size_id, quantity, extra_ids = raw
                self.lines.append(make_line(size_id, quantity, extra_ids))
            except (TypeError, ValueError):
                continue  # a line from an older format: dropped rather than failing the page
        self._store = None

    # -- reading ------------------------------------------------------------------------------------
    def __len__(self):
        return len(self.lines)

    def __bool__(self):
        return bool(self.lines)

    @property
    def count(self):
        """Units in the cart (what the header shows)."""
        return sum(line.quantity for line in self.lines)

    @property
    def store(self):
        """The cart's store (a live StorePage) or None; one query, then remembered.

        Given the request, it is read with its settings, opening hours and closures
        (`stores.hours.read_store_for_order`), once per content generation (`menu.catalogue`: a
        store's edit, its hours included, is a new one), and shared by the process's requests:
        nothing may change it."""
        if self.store_id and (self._store is None or self._store.id != self.store_id):
            self._store = kept(self.request, ("cart store", self.store_id), self._read_store)
        return self._store if self.store_id else None

    def _read_store(self):
        if self.request is not None:
            return read_store_for_order(self.store_id)
        return StorePage.objects.live().filter(id=self.store_id).select_related("ordering_settings").first()

    # -- changing -----------------------------------------------------------------------------------
    def save(self):
        self.session[SESSION_KEY] = {
            "store_id": self.store_id,
            "lines": [[line.size_id, line.quantity, list(line.extra_ids)] for line in self.lines],
            "code": self.code,
        }
        self.session.modified = True

    def add(self, line):
        """Add `line`; the same size with the same extras adds to the existing line's quantity.

        Returns the index of the line. The quantity is capped at MAX_LINE_QUANTITY.
        """
        line = make_line(line.size_id, line.quantity, line.extra_ids)
        for index, existing in enumerate(self.lines):
            if (existing.size_id, existing.extra_ids) == (line.size_id, line.extra_ids):
                quantity = min(existing.quantity + line.quantity, MAX_LINE_QUANTITY)
                self.lines[index] = make_line(line.size_id, quantity, line.extra_ids)
                self.save()
                return index
        self.lines.append(make_line(line.size_id, min(line.quantity, MAX_LINE_QUANTITY), line.extra_ids))
        self.save()
        return len(self.lines) - 1

    def set_quantity(self, index, quantity):
        """Set line `index`'s quantity (0 removes it). IndexError for a line that does not exist."""
        if not 0 <= index < len(self.lines):
            raise IndexError(index)
        if quantity <= 0:
            return self.remove(index)
        line = self.lines[index]
        self.lines[index] = make_line(line.size_id, min(quantity, MAX_LINE_QUANTITY), line.extra_ids)
        self.save()

    def remove(self, index):
        if not 0 <= index < len(self.lines):
            raise IndexError(index)
        del self.lines[index]
        self.save()

    def set_code(self, code):
        self.code = code.strip().upper()[:40]
        self.save()

    def clear(self):
        """Empty the cart (after an order is placed); the store is kept for the next one."""
        self.lines = []
        self.code = ""
        self.save()

    def set_store(self, store):
        self.store_id = store.id
        self._store = store
        self.save()

    def switch_store(self, store):
        """Move the cart to `store`, checking every line again there.

        Lines the store cannot make now, or whose product or option left the menu, are removed.
        Returns the list of `Change`s (empty when everything follows).
        """
        self.set_store(store)
        kept, changes = checked_lines(store, self.lines)
        self.lines = kept
        self.save()
        return changes

    def replace_lines(self, store, lines):
        """Fill the cart with `lines` for `store` (reorder): what cannot be made is left out.

        Returns the `Change`s.
        """
        self.set_store(store)
        self.lines = []
        for line in lines:
            self.add(line)  # merges duplicates, caps quantities
        kept, changes = checked_lines(store, self.lines)
        self.lines = kept
        self.save()
        return changes


def existing_lines(lines):
    """Split `lines` into those whose size and extras (of that size's product) still exist, and
    the number of the others, in two queries. (An unpublished product is flagged by `quote`.)"""
    if not lines:
        return [], 0
    sizes = {
        size.id: size
        for size in ProductSize.objects.filter(id__in={line.size_id for line in lines}).only(
            "id", "product_id"
        )
    }
    extra_ids = {extra_id for line in lines for extra_id in line.extra_ids}
    extras = (
        dict(ProductExtra.objects.filter(id__in=extra_ids).values_list("id", "product_id"))
        if extra_ids
        else {}
    )
    kept = [
        line
        for line in lines
        if line.size_id in sizes
        and all(extras.get(extra_id) == sizes[line.size_id].product_id for extra_id in line.extra_ids)
    ]
    return kept, len(lines) - len(kept)


def checked_lines(store, lines):
    """(lines `store` can make now, [Change]) — what left the menu, then what it cannot make."""
    kept, vanished = existing_lines(lines)
    changes = []
    if vanished:
        changes.append(
            Change(
                name=_("Produit retiré de la carte"),
                reason=_("%(count)s ligne(s) retirée(s) du panier") % {"count": vanished},
            )
        )
    if not kept:
        return kept, changes
    try:
        priced = quote(store, kept)
    except OrderError as error:  # should not happen after `existing_lines`; keep the cart usable
        changes.append(Change(name=_("Panier"), reason=str(error)))
        return [], changes
    available = []
    for priced_line in priced.lines:
        if priced_line.available:
            available.append(priced_line.line)
        else:
            changes.append(Change(name=line_label(priced_line), reason=priced_line.problem))
    return available, changes


def line_label(priced_line):
    """« Margherita (Moyenne) » for a priced line."""
    return f"{priced_line.product.title} ({priced_line.size.name})"
