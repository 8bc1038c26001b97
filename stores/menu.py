"""One store's menu: the chain's menu with what this store cannot make right now greyed out.

The catalogue it is drawn from (the menu's products with their sizes, photos, recipes and extras,
what each size needs of each ingredient, and the live stores) is read once per content generation
in each process (`menu.catalogue`): a sale changes none of it. What a sale changes, the store's
stock levels and withdrawals, is read on every drawing.
"""

from django.http import Http404
from django.utils.translation import get_language

from menu.catalogue import kept
from menu.models import ProductPage
from menu.offers import ProductOffer, SizeOffer, StoreMenuProvider

from .availability import menu_availability, menu_needs
from .models import StorePage
from .signals import stock_shown


def live_stores(request):
    """{slug: StorePage} of the live stores, in the tree's order (kept per content generation)."""
    return kept(
        request,
        ("live stores",),
        lambda: {store.slug: store for store in StorePage.objects.live().order_by("path")},
    )


def store_menu_products(menu_page):
    """The menu's live products with what a store's menu shows of them, and what each size needs
    (one value: the needs are always those of these products)."""
    products = list(
        ProductPage.objects.child_of(menu_page).live().with_recipes(allergens=False).order_by("path")
    )
    return products, menu_needs(products)


class StockStoreMenuProvider(StoreMenuProvider):
    def store_links(self, menu_page, request=None):
        def build():
            return [
                (store.title, menu_page.store_menu_url(store, request), store.slug)
                for store in live_stores(request).values()
            ]

        # Per site too: a link is written relative to the request's site (absolute from another).
        site = getattr(request, "_wagtail_site", None)
        key = ("store links", menu_page.pk, get_language(), site.pk if site else None)
        return kept(request, key, build)

    def store_menu_context(self, menu_page, request, store_slug):
        store = live_stores(request).get(store_slug)
        if store is None:
            raise Http404
        products, needs = kept(request, ("store menu", menu_page.pk), lambda: store_menu_products(menu_page))
        stock_shown.send(sender=StorePage, request=request, store_id=store.pk)  # before it is read
        availability = menu_availability(store, needs=needs)
        offers = [
            ProductOffer(
                product=product,
                sizes=[
                    SizeOffer(size=size, availability=availability.sizes[size.id])
                    for size in product.sizes.all()
                ],
            )
            for product in products
        ]
        return {"store": store, "sections": menu_page.sections(offers)}
