"""The cart's bits on other apps' pages: the header count and the add-to-cart forms."""

from django import template
from django.db.models import prefetch_related_objects

from menu.catalogue import kept
from menu.models import recipe_lines_prefetch
from stores.availability import menu_availability
from stores.models import StorePage

from ..cart import Cart

register = template.Library()


@register.simple_tag(takes_context=True)
def cart_count(context):
    """Units in the visitor's cart, read from the session only (no query beyond loading it;
    none at all for a visitor without a session)."""
    request = context.get("request")
    session = getattr(request, "session", None)
    if session is None or (session.session_key is None and not session.modified):
        return 0
    return Cart(session).count  # parses the session, no query


@register.inclusion_tag("includes/add_to_cart.html", takes_context=True)
def store_menu_add_to_cart(context, product, offer, store):
    """The form on a store menu's card: only the sizes the store can make now are offered."""
    return {
        "request": context.get("request"),
        "csrf_token": context.get("csrf_token"),
        "product": product,
        "store": store,
        "stores": None,
        "sizes": [(row.size, row.available) for row in offer.sizes],
        "extras": list(product.extras.all()),
        "sold_out": False,
    }


@register.inclusion_tag("includes/add_to_cart.html", takes_context=True)
def product_add_to_cart(context, product):
    """The form on a product page: the cart's store preselected, any store can be chosen; sizes
    the cart's store cannot make now are shown sold out."""
    request = context.get("request")
    session = getattr(request, "session", None)
    store_id = Cart(session).store_id if session is not None else None
    stores = kept(
        request,
        ("stores by title",),
        lambda: list(StorePage.objects.live().order_by("title").only("id", "title")),
    )
    store = next((s for s in stores if s.id == store_id), None)
    sizes = list(product.sizes.all())
    if store is not None and not getattr(request, "is_preview", False):
        prefetch_related_objects([product], recipe_lines_prefetch(allergens=False))
        availability = menu_availability(store, [product])
        rows = [(size, availability.sizes[size.id].available) for size in sizes]
    else:
        rows = [(size, True) for size in sizes]
    return {
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "product": product,
        "store": store,
        "stores": stores,
        "sizes": rows,
        "extras": list(product.extras.all()),
        "sold_out": not any(available for _size, available in rows),
    }
