"""What a menu card shows for one product, and the hook through which stores plug in their stock.

`menu` knows nothing of stores (dependencies point stores → menu). The stores app registers a
`StoreMenuProvider` at start-up; the menu page asks it for the store picker and for one store's
menu with availability. Without a provider, only the chain-wide menu exists.
"""

from dataclasses import dataclass, field


@dataclass
class SizeOffer:
    size: object  # ProductSize
    # stores.availability.Availability, or None on the chain menu: `available`, `reason` (its
    # words) and `key` (a hashable value that decides `available` and `reason` in a language).
    availability: object = None

    @property
    def available(self):
        return self.availability is None or self.availability.available


@dataclass
class ProductOffer:
    product: object  # ProductPage
    sizes: list = field(default_factory=list)

    @property
    def available(self):
        return self.product.is_available and any(offer.available for offer in self.sizes)

    @property
    def reason(self):
        """Why no size can be made (the first size's reason), or ""."""
        if self.available:
            return ""
        reasons = [offer.availability.reason for offer in self.sizes if offer.availability is not None]
        return reasons[0] if reasons else ""


def chain_offers(products):
    return [ProductOffer(product=p, sizes=[SizeOffer(size=s) for s in p.sizes.all()]) for p in products]


class StoreMenuProvider:
    """Interface the stores app implements (see `stores.menu`)."""

    def store_links(self, menu_page, request=None):
        """[(store title, url of its menu, store slug)] for the store picker, in bounded queries
        (none while `request`'s content generation is one this process has read them under)."""
        raise NotImplementedError

    def store_menu_context(self, menu_page, request, store_slug):
        """Context of one store's menu ("store", "sections" of ProductOffer); Http404 if unknown."""
        raise NotImplementedError


_provider = None


def register_store_menu_provider(provider):
    global _provider
    _provider = provider


def store_menu_provider():
    return _provider
