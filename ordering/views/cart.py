"""The cart: add from the menu or a product page, change a line, switch store, promo code.

Every change works as a plain form POST answered by a redirect with a message, and, for the
page's script (`static/js/ordering.js`, which asks for JSON), as a JSON answer carrying the new
cart count and, on the cart page, the cart's new HTML.
"""

from django.contrib import messages
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from stores.availability import check_lines_available
from stores.exceptions import StockError

from ..cart import MAX_LINES, Cart, existing_lines, make_line
from ..forms import AddToCartForm, LineForm, PromoCodeForm, StoreSwitchForm
from ..pricing import OrderError, quote

CONFLICT = 409


def wants_json(request):
    return "application/json" in request.headers.get("Accept", "")


def next_url(request, default):
    """Where a plain form goes back to: its `next` field if it is one of our pages."""
    url = request.POST.get("next", "")
    # A path of ours only: `redirect()` would read a bare word ("0") as a view name and fail.
    if url.startswith("/") and url_has_allowed_host_and_scheme(
        url, {request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return default


def priced_cart(cart, *, fulfilment="pickup"):
    """The cart's quote, or None for an empty cart or one without a store.

    Lines whose product or option left the menu since they were added are dropped first.
    """
    store = cart.store
    if store is None or not cart.lines:
        return None
    try:
        return quote(store, cart.lines, fulfilment=fulfilment, code=cart.code)
    except OrderError:
        kept, _dropped = existing_lines(cart.lines)
        cart.lines = kept
        cart.save()
        return quote(store, kept, fulfilment=fulfilment, code=cart.code) if kept else None


def cart_context(request, cart):
    return {
        "cart": cart,
        "quote": priced_cart(cart),
        "store": cart.store,
        "store_form": StoreSwitchForm(initial={"store": cart.store_id}),
        "code_form": PromoCodeForm(initial={"code": cart.code}),
    }


def answer(request, cart, *, ok, message, default_url, changes=(), status=200):
    """A change's answer: JSON for the script, else a message and a redirect."""
    if wants_json(request):
        data = {"ok": ok, "message": str(message), "changes": [str(c) for c in changes], "count": cart.count}
        if request.POST.get("fragment") == "cart":
            data["html"] = render_to_string(
                "ordering/includes/cart_body.html", cart_context(request, cart), request
            )
        return JsonResponse(data, status=status if not ok else 200)
    (messages.success if ok else messages.error)(request, message)
    for change in changes:
        messages.warning(request, change)
    return HttpResponseRedirect(next_url(request, default_url))


@require_GET
def cart_page(request):
    cart = Cart(request.session)
    return render(request, "ordering/cart.html", cart_context(request, cart))


@require_POST
def cart_add(request):
    cart = Cart(request.session)
    form = AddToCartForm(request.POST)
    cart_url = reverse("ordering:cart")
    if not form.is_valid():
        errors = [error for field_errors in form.errors.values() for error in field_errors]
        return answer(request, cart, ok=False, message=errors[0], default_url=cart_url, status=400)
    store, size = form.cleaned_data["store"], form.cleaned_data["size"]
    line = form.cart_line()
    try:
        check_lines_available(store, [(line.size_id, line.quantity, line.extra_ids)])
    except StockError as error:
        return answer(request, cart, ok=False, message=error.message, default_url=cart_url, status=CONFLICT)
    changes = cart.switch_store(store) if cart.store_id != store.id else []
    basket = merged(cart.lines, line)
    if len(basket) > MAX_LINES:  # the pricing refuses more lines than that
        message = _(
            "Votre panier est plein (%(count)s lignes) : commandez-le, puis faites un second panier."
        ) % {"count": MAX_LINES}
        return answer(
            request, cart, ok=False, message=message, default_url=cart_url, changes=changes, status=CONFLICT
        )
    try:
        if basket != [line]:  # an empty cart: the line was just checked alone
            check_lines_available(store, [(item.size_id, item.quantity, item.extra_ids) for item in basket])
    except StockError as error:
        message = _("Avec le reste de votre panier : %(reason)s") % {"reason": error.message}
        return answer(
            request, cart, ok=False, message=message, default_url=cart_url, changes=changes, status=CONFLICT
        )
    cart.add(line)
    message = _("%(product)s (%(size)s) × %(quantity)s ajouté au panier.") % {
        "product": size.product.title,
        "size": size.name,
        "quantity": line.quantity,
    }
    return answer(request, cart, ok=True, message=message, default_url=cart_url, changes=changes)


def merged(lines, line):
    """`lines` with `line` added the way `Cart.add` adds it (same choice: quantities add up)."""
    result = list(lines)
    for index, existing in enumerate(result):
        if (existing.size_id, existing.extra_ids) == (line.size_id, line.extra_ids):
            result[index] = make_line(line.size_id, existing.quantity + line.quantity, line.extra_ids)
            return result
    return [*result, line]


@require_POST
def cart_line(request, index):
    cart = Cart(request.session)
    cart_url = reverse("ordering:cart")
    if not 0 <= index < len(cart.lines):
        raise Http404
    form = LineForm(request.POST)
    if not form.is_valid():
        errors = [error for field_errors in form.errors.values() for error in field_errors]
        return answer(request, cart, ok=False, message=errors[0], default_url=cart_url, status=400)
    quantity = form.new_quantity()
    if quantity > cart.lines[index].quantity and cart.store is not None:
        increased = list(cart.lines)
        increased[index] = make_line(increased[index].size_id, quantity, increased[index].extra_ids)
        try:
            check_lines_available(
                cart.store, [(item.size_id, item.quantity, item.extra_ids) for item in increased]
            )
        except StockError as error:
            return answer(
                request, cart, ok=False, message=error.message, default_url=cart_url, status=CONFLICT
            )
    cart.set_quantity(index, quantity)
    message = _("Ligne retirée du panier.") if quantity == 0 else _("Quantité modifiée.")
    return answer(request, cart, ok=True, message=message, default_url=cart_url)


@require_POST
def cart_store(request):
    cart = Cart(request.session)
    cart_url = reverse("ordering:cart")
    form = StoreSwitchForm(request.POST)
    if not form.is_valid():
        return answer(
            request,
            cart,
            ok=False,
            message=_("Choisissez une pizzeria de la liste."),
            default_url=cart_url,
            status=400,
        )
    store = form.cleaned_data["store"]
    changes = cart.switch_store(store)
    if changes:
        message = _(
            "Votre panier est maintenant chez %(store)s. Ce qu'elle ne peut pas préparer a été retiré."
        ) % {"store": store.title}
    else:
        message = _("Votre panier est maintenant chez %(store)s : tout y est disponible.") % {
            "store": store.title
        }
    return answer(request, cart, ok=True, message=message, default_url=cart_url, changes=changes)


@require_POST
def cart_code(request):
    cart = Cart(request.session)
    cart_url = reverse("ordering:cart")
    form = PromoCodeForm(request.POST)
    if not form.is_valid():
        return answer(
            request, cart, ok=False, message=_("Code promo trop long."), default_url=cart_url, status=400
        )
    cart.set_code(form.cleaned_data["code"])
    message = _("Code promo enregistré.") if cart.code else _("Code promo retiré.")
    return answer(request, cart, ok=True, message=message, default_url=cart_url)
