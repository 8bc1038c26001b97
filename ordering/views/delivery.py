"""The delivery board of a store (/equipe/<store_id>/livraisons/) and its drivers' phone view.

The board (managers, équipiers, drivers of the store; head office everywhere) shows the ready
orders, oldest promise first, with a late warning: deliveries to give to a driver (`assign_driver`),
each driver's round to send out (`send_out_round`) and the orders out with them, and the pickups
to hand over at the counter (`mark_collected`, recording the payment when one is due). The driver's
phone view shows their own orders with address, phone, amount to collect, the customer's notes,
the round in its best order (`ordering.routes.driver_route`) with its Google Maps links, and one
tap « Livrée » (`mark_delivered`, recording the payment when one is due).

A person whose role in the store is driver acts on their own orders only: they may take a ready
order that nobody has, send out their own round and deliver their own orders; another driver's
order or phone view answers 403, the counter's pickups too. Both pages follow changes through
`static/js/live.js`: `delivery_status` answers 304 in at most 3 queries while nothing changed.
Every action is a POST, one service call, a redirect back with a message (works without JS).
"""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import Http404, HttpResponseForbidden, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import parse_etags
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from menu.templatetags.menu_tags import euros
from stores.access import is_head_office
from stores.models import StoreMembership, StoreRole
from stores.services import parse_id

from .. import services
from ..access import DELIVERY_BOARD
from ..boards import delivery_board_etag, delivery_board_poll, delivery_orders, poll_holder
from ..exceptions import OrderError
from ..models import Order, Payment
from ..money import HAND_OVER_METHODS
from ..routes import driver_route
from .polls import not_modified, poll_response
from .staff import forbidden, staff_screen

Status = Order.Status
PAYMENT_METHODS = [(method.value, method.label) for method in HAND_OVER_METHODS]


def drives_only(user, store):
    """True if `user` works in `store` as a driver (and is not head office): their own orders only."""
    if is_head_office(user):
        return False
    role = StoreMembership.objects.filter(user=user, store=store).values_list("role", flat=True).first()
    return role == StoreRole.DRIVER


def _order_of(request, store, order_id):
    """(order, refusal response or None): the order must exist (404) and be this store's (403)."""
    order = Order.objects.filter(pk=order_id).first()
    if order is None:
        raise Http404
    if order.store_id != store.id:
        return order, forbidden(request, _("Cette commande n’est pas une commande de ce point de vente."))
    return order, None


def _back(request, store, *, driver_id=None):
    """Where a POST goes back to: the phone view it came from, else the board."""
    if request.POST.get("back") == "driver" and driver_id:
        return redirect("staff:delivery_driver", store.id, driver_id)
    return redirect("staff:delivery", store.id)


def _late(order, now):
    return order.promised_at < now


def _delay(order, now):
    """How late the order is, « 12 min » or « 2 h 05 »; "" when it is not."""
    if not _late(order, now):
        return ""
    minutes = int((now - order.promised_at).total_seconds() // 60)
    if minutes < 60:
        return _("%(minutes)d min") % {"minutes": minutes}
    return _("%(hours)d h %(minutes)02d") % {"hours": minutes // 60, "minutes": minutes % 60}


def _card(order, now):
    """What a template shows of an order."""
    return {
        "order": order,
        "late": _late(order, now),
        "delay": _delay(order, now),
        "due": order.amount_due(),
        "lines": list(order.lines.all()),
    }


def board_context(request, store):
    now = timezone.now()
    # Read before the orders: a change that commits in between gives the polls a new ETag, so
    # the page is redrawn instead of kept with what it read before the change.
    etag = delivery_board_etag(store, now=now, holder=poll_holder(request))
    orders = list(delivery_orders(store))
    drivers = list(services.store_drivers(store))
    driver_only = drives_only(request.user, store)
    ready = [o for o in orders if o.status == Status.READY]
    rounds = []
    for driver in drivers:
        mine = [o for o in orders if o.driver_id == driver.id]
        rounds.append(
            {
                "driver": driver,
                "ready": [_card(o, now) for o in mine if o.status == Status.READY],
                "out": [_card(o, now) for o in mine if o.status == Status.OUT_FOR_DELIVERY],
                "is_me": driver.id == request.user.id,
            }
        )
    known = {driver.id for driver in drivers}
    return {
        "store": store,
        "now": now,
        "driver_only": driver_only,
        "drivers": drivers,
        "to_assign": [_card(o, now) for o in ready if o.is_delivery and o.driver_id not in known],
        "rounds": rounds,
        "out_elsewhere": [
            _card(o, now) for o in orders if o.status == Status.OUT_FOR_DELIVERY and o.driver_id not in known
        ],
        "pickups": [_card(o, now) for o in ready if not o.is_delivery],
        "payment_methods": PAYMENT_METHODS,
        "etag": etag,
        "status_url": reverse("staff:delivery_status", args=[store.id]),
        "fragment_url": reverse("staff:delivery_fragment", args=[store.id]),
        "mine_url": reverse("staff:delivery_driver", args=[store.id, request.user.id])
        if request.user.id in known
        else "",
    }


@require_GET
@staff_screen(DELIVERY_BOARD)
def delivery_board(request, store):
    return render(request, "ordering/staff/delivery/board.html", board_context(request, store))


@require_GET
@staff_screen(DELIVERY_BOARD)
def delivery_fragment(request, store):
    """The live part of the board, which live.js swaps in when the ETag changed."""
    return render(request, "ordering/staff/delivery/board_live.html", board_context(request, store))


@never_cache
@require_GET
def delivery_status(request, store_id):
    """The poll of the board and of the drivers' phone views: 304 while nothing changed, in at
    most 3 queries (session, user, one query for access and ETag); 403/404 otherwise. A poll
    holding this browser's current ETag was answered already (as the kitchen's: `board_status`)."""
    held = parse_etags(request.headers.get("If-None-Match", ""))
    if not request.user.is_authenticated:
        return HttpResponseForbidden()
    found, allowed, etag = delivery_board_poll(request.user, store_id, holder=poll_holder(request))
    if not found:
        raise Http404
    if not allowed:
        return HttpResponseForbidden()
    if etag in held:
        return not_modified(etag)
    return poll_response(JsonResponse({"etag": etag}), etag)


# The driver's phone view -----------------------------------------------------------------------


def driver_context(request, store, driver):
    now = timezone.now()
    # Before the orders (see `board_context`).
    etag = delivery_board_etag(store, now=now, holder=poll_holder(request))
    orders = list(
        delivery_orders(store).filter(driver=driver, status__in=[Status.READY, Status.OUT_FOR_DELIVERY])
    )
    out = [o for o in orders if o.status == Status.OUT_FOR_DELIVERY]
    ready = [o for o in orders if o.status == Status.READY]
    # The round is what the driver carries; before leaving, what they are about to take.
    batch = out or ready
    route = driver_route(store, batch) if batch else None
    position = {stop.order.pk: index for index, stop in enumerate(route.stops, start=1)} if route else {}
    stops = route.stops if route else []
    cards = {o.pk: {**_card(o, now), "position": position.get(o.pk)} for o in orders}
    return {
        "store": store,
        "driver": driver,
        "is_me": driver.id == request.user.id,
        "now": now,
        "route": route,
        "route_minutes": round(route.duration_s / 60) if route and route.duration_s is not None else None,
        "route_km": route.distance_m / 1000 if route and route.distance_m is not None else None,
        "batch_is_out": bool(out),
        "stops": [cards[stop.order.pk] | {"stop": stop} for stop in stops],
        "waiting": [cards[o.pk] for o in ready] if out else [],
        "payment_methods": PAYMENT_METHODS,
        "etag": etag,
        "status_url": reverse("staff:delivery_status", args=[store.id]),
        "fragment_url": reverse("staff:delivery_driver_fragment", args=[store.id, driver.id]),
    }


def _driver_or_refusal(request, store, driver_id):
    driver = get_object_or_404(services.store_drivers(store), pk=driver_id)
    if driver.pk != request.user.pk and drives_only(request.user, store):
        return driver, forbidden(request, _("Vous ne voyez que vos propres livraisons."))
    return driver, None


@require_GET
@staff_screen(DELIVERY_BOARD)
def my_deliveries(request, store):
    """/moi/: the phone view of the driver who is logged in."""
    if not services.store_drivers(store).filter(pk=request.user.pk).exists():
        return forbidden(
            request, _("Vous n’êtes pas livreur de ce point de vente : ouvrez le tableau des livraisons.")
        )
    return redirect("staff:delivery_driver", store.id, request.user.pk)


@require_GET
@staff_screen(DELIVERY_BOARD)
def driver_view(request, store, driver_id):
    driver, refusal = _driver_or_refusal(request, store, driver_id)
    if refusal:
        return refusal
    return render(request, "ordering/staff/delivery/driver.html", driver_context(request, store, driver))


@require_GET
@staff_screen(DELIVERY_BOARD)
def driver_fragment(request, store, driver_id):
    driver, refusal = _driver_or_refusal(request, store, driver_id)
    if refusal:
        return refusal
    return render(request, "ordering/staff/delivery/driver_live.html", driver_context(request, store, driver))


# Actions ---------------------------------------------------------------------------------------


@require_POST
@staff_screen(DELIVERY_BOARD)
def assign(request, store, order_id):
    """Give a ready delivery order to a driver (`driver` empty: take it back)."""
    order, refusal = _order_of(request, store, order_id)
    if refusal:
        return refusal
    driver_id = request.POST.get("driver", "").strip()
    driver = None
    if driver_id:
        driver_pk = parse_id(driver_id)
        driver = get_user_model().objects.filter(pk=driver_pk).first() if driver_pk else None
        if driver is None:
            messages.error(request, _("Choisissez un livreur de ce point de vente."))
            return _back(request, store)
    driving = drives_only(request.user, store)
    if driving and (driver is None or driver.pk != request.user.pk):
        return forbidden(request, _("Vous ne pouvez prendre que des commandes pour vous-même."))
    try:
        # A driver takes an order only if no other driver has it, checked under the order's lock.
        services.assign_driver(order, driver=driver, user=request.user, unless_taken=driving)
    except OrderError as refused:
        messages.error(request, str(refused))
    else:
        if driver is None:
            messages.success(request, _("Commande %(number)s : livreur retiré.") % {"number": order.number})
        else:
            messages.success(
                request,
                _("Commande %(number)s confiée à %(name)s.")
                % {"number": order.number, "name": services.driver_name(driver)},
            )
    return _back(request, store)


@require_POST
@staff_screen(DELIVERY_BOARD)
def send_out(request, store, driver_id):
    """The driver leaves with the ready orders of their round that the page showed (`order`)."""
    driver, refusal = _driver_or_refusal(request, store, driver_id)
    if refusal:
        return refusal
    ids = [parse_id(value) for value in request.POST.getlist("order")]
    ids = [] if None in ids else ids
    orders = list(Order.objects.filter(pk__in=ids, store=store))
    if len(orders) != len(set(ids)) or not ids:
        messages.error(request, _("Aucune commande prête pour ce livreur : rechargez la page."))
        return _back(request, store, driver_id=driver.pk)
    try:
        services.send_out_round(orders, driver=driver, user=request.user)
    except OrderError as refused:
        messages.error(request, str(refused))
    else:
        numbers = ", ".join(order.number for order in sorted(orders, key=lambda o: o.pk))
        messages.success(
            request,
            _("%(name)s part en livraison : %(numbers)s.")
            % {"name": services.driver_name(driver), "numbers": numbers},
        )
    return _back(request, store, driver_id=driver.pk)


def _payment_message(order, payment_method):
    """« Reçu 50,00 € en espèces : monnaie à rendre 17,50 € » for the payment just recorded."""
    if not payment_method:
        return ""
    payment = (
        Payment.objects.filter(order=order, kind=Payment.Kind.CHARGE, provider="on_delivery")
        .order_by("-id")
        .first()
    )
    if payment is None:
        return ""
    text = _("Reçu %(received)s (%(method)s).") % {
        "received": euros(payment.amount_received),
        "method": payment.get_method_display().lower(),
    }
    if payment.change_given:
        text += " " + _("Monnaie à rendre : %(change)s.") % {"change": euros(payment.change_given)}
    return text


@require_POST
@staff_screen(DELIVERY_BOARD)
def deliver(request, store, order_id):
    """« Livrée »: the order handed over, with the payment received when one was due."""
    order, refusal = _order_of(request, store, order_id)
    if refusal:
        return refusal
    if drives_only(request.user, store) and order.driver_id != request.user.pk:
        return forbidden(request, _("Cette commande est confiée à un autre livreur."))
    method = request.POST.get("payment_method", "").strip()
    received = request.POST.get("amount_received", "").strip()
    try:
        services.mark_delivered(
            order, payment_method=method, amount_received=received or None, user=request.user
        )
    except OrderError as refused:
        messages.error(request, str(refused))
    else:
        text = _("Commande %(number)s livrée.") % {"number": order.number}
        messages.success(request, " ".join(filter(None, [text, _payment_message(order, method)])))
    return _back(request, store, driver_id=order.driver_id)


@require_POST
@staff_screen(DELIVERY_BOARD)
def collect(request, store, order_id):
    """« Retirée »: a pickup handed over at the counter, with the payment when one was due."""
    order, refusal = _order_of(request, store, order_id)
    if refusal:
        return refusal
    if drives_only(request.user, store):
        return forbidden(request, _("Le comptoir remet les commandes à emporter."))
    method = request.POST.get("payment_method", "").strip()
    received = request.POST.get("amount_received", "").strip()
    try:
        services.mark_collected(
            order, payment_method=method, amount_received=received or None, user=request.user
        )
    except OrderError as refused:
        messages.error(request, str(refused))
    else:
        text = _("Commande %(number)s retirée.") % {"number": order.number}
        messages.success(request, " ".join(filter(None, [text, _payment_message(order, method)])))
    return _back(request, store)
