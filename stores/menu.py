"""One store's menu: the chain's menu with what this store cannot make right now greyed out."""

from django.http import Http404

from menu.models import ProductPage
from menu.offers import ProductOffer, SizeOffer, StoreMenuProvider

from .availability import menu_availability
from .models import StorePage
from .signals import stock_shown


class StockStoreMenuProvider(StoreMenuProvider):
    def store_links(self, menu_page):
        stores = StorePage.objects.live().order_by("path").only("id", "title", "slug")
        return [(store.title, menu_page.store_menu_url(store), store.slug) for store in stores]

    def store_menu_context(self, menu_page, request, store_slug):
        store = StorePage.objects.live().filter(slug=store_slug).first()
        if store is None:
            raise Http404
        products = list(
            ProductPage.objects.child_of(menu_page).live().with_recipes(allergens=False).order_by("path")
        )
        stock_shown.send(sender=StorePage, request=request, store_id=store.pk)  # before it is read
        availability = menu_availability(store, products)
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
