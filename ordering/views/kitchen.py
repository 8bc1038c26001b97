"""The kitchen board of a store (/equipe/<store_id>/cuisine/) and its recipe cards.

The board shows the store's orders received, preparing and ready (card orders not paid yet stay
off it), oldest promised time first; one tap moves an order on (`start_preparing`, `mark_ready`)
and a mis-tap is undone within `services.KITCHEN_UNDO_DELAY` (`undo_start_preparing`,
`undo_mark_ready`). The page follows new orders through `static/js/live.js`: `board_status`
answers 304 while the board's ETag (`ordering.boards`) is the one the page holds, in at most three
queries (session, user, the board's state with the access check), and `board_fragment` gives
the board again. Without JavaScript the buttons are plain forms and a reload shows the same.
"""

from django.contrib import messages
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpResponseForbidden, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import parse_etags
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from menu.models import ProductExtra, ProductSize, extras_prefetch, recipe_lines_prefetch
from menu.recipes import allergens_for, ingredient_needs

from .. import services
from ..access import KITCHEN_BOARD
from ..boards import KITCHEN_SOON, kitchen_board, kitchen_etag, kitchen_state, poll_holder
from ..exceptions import OrderError
from ..models import Order, OrderLine
from .polls import not_modified, poll_response
from .staff import forbidden, staff_screen

# The board's buttons: the form's `action` → the service it calls, and what the message says.
ACTIONS = {
    "start_preparing": services.start_preparing,
    "mark_ready": services.mark_ready,
    "undo_start_preparing": services.undo_start_preparing,
    "undo_mark_ready": services.undo_mark_ready,
}
DONE = {
    "start_preparing": _lazy("Commande %(number)s en préparation."),
    "mark_ready": _lazy("Commande %(number)s prête."),
    "undo_start_preparing": _lazy(
        "Commande %(number)s remise en attente : ses ingrédients sont de nouveau réservés."
    ),
    "undo_mark_ready": _lazy("Commande %(number)s remise en préparation."),
}


def board_context(request, store, now):
    # The ETag is read before the orders: an order committed in between makes it stale, so the
    # next poll fetches the board again (read after, it could hide that order until the next change).
    etag = kitchen_etag(store, now=now, holder=poll_holder(request))
    return {
        "store": store,
        "columns": kitchen_board(store, now=now),
        "etag": etag,
        "now": now,
        "soon_minutes": int(KITCHEN_SOON.total_seconds() // 60),
        "undo_minutes": int(services.KITCHEN_UNDO_DELAY.total_seconds() // 60),
    }


@require_GET
@staff_screen(KITCHEN_BOARD)
def board(request, store):
    """The kitchen board: three columns of tickets, large print for a tablet at arm's length."""
    return render(request, "ordering/staff/kitchen/board.html", board_context(request, store, timezone.now()))


@require_GET
@staff_screen(KITCHEN_BOARD)
def board_fragment(request, store):
    """The board alone, for live.js to swap in."""
    return render(
        request, "ordering/staff/kitchen/fragment.html", board_context(request, store, timezone.now())
    )


@require_GET
@never_cache
def board_status(request, store_id):
    """The poll: 304 while the board's ETag is the one the page holds, else 200 with the new one.

    A poll holding this browser's current ETag of this minute was answered already, 304 with no
    query and before any access check (`ordering.middleware.LivePollMiddleware`, which tells
    nothing new). Here: at most three queries, the session, the user, and the board's state with
    the access check (`ordering.boards.kitchen_state`). Anybody who may not open the board gets
    403, a store that does not exist 404."""
    now = timezone.now()
    held = parse_etags(request.headers.get("If-None-Match", ""))
    state = kitchen_state(request.user, store_id, now=now, holder=poll_holder(request))
    if state is None:
        raise Http404
    if not state.allowed:
        return HttpResponseForbidden(_("Vous n’avez pas accès à cet écran pour ce point de vente."))
    if state.etag in held:
        return not_modified(state.etag)
    return poll_response(JsonResponse({"etag": state.etag}), state.etag)


@require_POST
@staff_screen(KITCHEN_BOARD)
def order_action(request, store, order_id):
    """One tap on a ticket: the form's `action` names the transition; back to the board (PRG)."""
    order = get_object_or_404(Order, pk=order_id)
    if order.store_id != store.id:
        return forbidden(request, _("Cette commande n’est pas une commande de ce point de vente."))
    action = request.POST.get("action", "")
    service = ACTIONS.get(action)
    if service is None:
        messages.error(request, _("Action inconnue : rien n’a été changé."))
    else:
        try:
            service(order, user=request.user)
        except OrderError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, DONE[action] % {"number": order.number})
    return redirect(reverse("staff:kitchen", args=[store.id]) + f"#commande-{order.id}")


@require_GET
@staff_screen(KITCHEN_BOARD)
def recipe_card(request, store, line_id):
    """The recipe card of one ticket line: its product in its size with its extras applied."""
    line = get_object_or_404(OrderLine.objects.select_related("order"), pk=line_id)
    if line.order.store_id != store.id:
        return forbidden(request, _("Cette ligne n’est pas une commande de ce point de vente."))
    context = {"store": store, "line": line, "order": line.order, **recipe_of(line)}
    return render(request, "ordering/staff/kitchen/recipe.html", context)


def recipe_of(line):
    """What the card shows: the size (None once it left the menu), each ingredient with its
    quantity for one portion — `menu.recipes.ingredient_needs`, the computation the stock
    reservation uses — the steps, the allergens, and the options that no longer exist."""
    size = (
        ProductSize.objects.select_related("product").filter(pk=line.size_id).first()
        if line.size_id
        else None
    )
    if size is None:
        return {"size": None}
    product = size.product
    prefetch_related_objects(
        [product],
        recipe_lines_prefetch(),
        extras_prefetch(),
        "ingredients__allergens",
        "preparation_steps__image",
    )
    options = {extra.id: extra for extra in product.extras.all()}
    chosen = [options[e["id"]] for e in line.extras if e.get("id") in options]
    missing = [e["name"] for e in line.extras if e.get("id") not in options]
    needs = ingredient_needs(size, chosen)
    ingredients = {recipe.ingredient_id: recipe.ingredient for recipe in product.recipe_lines.all()}
    ingredients.update({extra.ingredient_id: extra.ingredient for extra in chosen})
    order_of = [r.ingredient_id for r in product.recipe_lines.all()] + [e.ingredient_id for e in chosen]
    rows = []
    for ingredient_id in dict.fromkeys(order_of):
        if ingredient_id in needs:
            ingredient = ingredients[ingredient_id]
            rows.append(
                {
                    "ingredient": ingredient,
                    "quantity": needs[ingredient_id],
                    "total": needs[ingredient_id] * line.quantity,
                    "added": any(
                        e.ingredient_id == ingredient_id and e.kind == ProductExtra.Kind.ADD for e in chosen
                    ),
                }
            )
    removed = [e for e in chosen if e.kind == ProductExtra.Kind.REMOVE]
    return {
        "size": size,
        "product": product,
        "ingredients": rows,
        "removed": removed,
        "missing_extras": missing,
        "steps": list(product.preparation_steps.all()),
        "allergens": allergens_for(product, chosen),
    }
