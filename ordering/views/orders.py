"""The customer's orders: the order page (live tracking), change, cancel, history, order again.

An order is shown to its customer (logged in) at /commandes/<number>/, and to whoever holds its
secret link at /commandes/<number>/<secret>/ (guests get it on the confirmation page and in the
e-mail). Anybody else gets 404, whether the order exists or not.

Tracking: the page polls `order_status`, which answers 304 while the order's `version` (its
ETag) is the one the page holds — at most 3 queries: session, user, order; through the secret
link none while the cache holds the order's version (`ordering.tracking`) — and fetches the
timeline fragment (`order_fragment`) only when it changed. Without JavaScript, a refresh shows
the same.
"""

import re
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.http import parse_etags
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from menu.templatetags.menu_tags import euros

from .. import services, slots, tracking
from ..cart import MAX_LINE_QUANTITY, Cart, make_line
from ..forms import ASAP, CancelForm, ChangeSlotForm
from ..models import Order
from ..payments import card_payments_online, get_provider
from ..pricing import OrderError
from .polls import not_modified, poll_response

FINAL_STATUSES = {"delivered", "collected", "cancelled"}


def order_url(order, name, *, secret=None):
    """The URL of one of the order's pages: the secret-link variant for a guest order (or when
    the visitor came through the secret link), else the customer's."""
    if secret is None and order.customer_id is None:
        secret = order.secret
    if secret:
        return reverse(f"ordering:{name}_guest", kwargs={"number": order.number, "secret": secret})
    return reverse(f"ordering:{name}", kwargs={"number": order.number})


def orders_for(request, number, secret):
    """The queryset holding the order if this visitor may see it (else empty)."""
    orders = Order.objects.filter(number=number)
    if secret is not None:
        return orders.filter(secret=secret) if secret else orders.none()
    if not request.user.is_authenticated:
        return orders.none()
    return orders.filter(customer=request.user)


def get_order(request, number, secret=None, *, queryset=None):
    order = (queryset if queryset is not None else orders_for(request, number, secret)).first()
    if order is None:
        raise Http404
    return order


def etag_of(order):
    return tracking.etag(order.number, order.version)


def why_unchangeable(order):
    if order.status == Order.Status.PENDING_PAYMENT:
        return _("Cette commande attend son paiement en ligne.")
    if order.status == Order.Status.CANCELLED:
        return _("Cette commande est annulée.")
    if order.status in FINAL_STATUSES:
        return _("Cette commande est terminée.")
    return _(
        "La pizzeria a commencé à préparer votre commande : elle ne peut plus être modifiée ni "
        "annulée en ligne. Appelez-la si besoin."
    )


def order_context(request, order, secret):
    lines = list(order.lines.all())
    discounts = list(order.discounts.all())
    events = list(order.events.order_by("created_at", "id"))
    return {
        "order": order,
        "lines": lines,
        "discounts": discounts,
        "events": events,
        "vat_lines": order.vat_breakdown(),
        "secret": secret,
        "is_final": order.status in FINAL_STATUSES,
        "why_unchangeable": "" if order.can_change else why_unchangeable(order),
        "status_url": order_url(order, "order_status", secret=secret),
        "fragment_url": order_url(order, "order_fragment", secret=secret),
        "change_url": order_url(order, "order_change", secret=secret),
        "cancel_url": order_url(order, "order_cancel", secret=secret),
        "pay_url": order_url(order, "order_pay", secret=secret),
        "etag": etag_of(order),
        "store_phone": order.store.phone if order.store_id and order.store else "",
    }


def detail_queryset(request, number, secret):
    return (
        orders_for(request, number, secret)
        .select_related("store")
        .prefetch_related("lines", "discounts", "payments")
    )


@require_GET
def order_detail(request, number, secret=None):
    order = get_order(request, number, secret, queryset=detail_queryset(request, number, secret))
    context = order_context(request, order, secret)
    context["offer_signup"] = order.customer_id is None and not request.user.is_authenticated
    return render(request, "ordering/order_detail.html", context)


@require_GET
def order_fragment(request, number, secret=None):
    """The part of the order page that follows the kitchen (status, promised time, timeline)."""
    order = get_order(request, number, secret, queryset=detail_queryset(request, number, secret))
    response = render(request, "ordering/includes/order_live.html", order_context(request, order, secret))
    patch_cache_control(response, no_cache=True, private=True)
    return response


@require_GET
def order_status(request, number, secret=None):
    """The poll: 304 while nothing changed (ETag = the order's version), else the new version.
    Through the secret link, a poll holding the version the cache holds was answered already
    (`ordering.middleware.LivePollMiddleware`); here the order is read, and its version kept in
    the cache for the next polls if none is there."""
    held = parse_etags(request.headers.get("If-None-Match", ""))
    queryset = orders_for(request, number, secret).only("id", "number", "version", "status", "secret")
    order = get_order(request, number, secret, queryset=queryset)
    if secret:
        tracking.remember(order)
    etag = etag_of(order)
    if etag in held:
        return not_modified(etag)
    response = JsonResponse(
        {"version": order.version, "status": order.status, "label": str(order.get_status_display())}
    )
    return poll_response(response, etag)


def editable_lines(order):
    """The order's lines that can be priced again (their size still exists), as (line, CartLine)."""
    return [
        (
            line,
            make_line(
                line.size_id, line.quantity, [extra["id"] for extra in line.extras or [] if extra.get("id")]
            ),
        )
        for line in order.lines.all()
        if line.size_id is not None
    ]


@require_http_methods(["GET", "POST"])
def order_change(request, number, secret=None):
    order = get_order(request, number, secret, queryset=detail_queryset(request, number, secret))
    detail = order_url(order, "order_detail", secret=secret)
    if not order.can_change:
        if request.method == "POST":
            messages.error(request, why_unchangeable(order))
            return redirect(detail)
        context = {"order": order, "why_unchangeable": why_unchangeable(order), "detail_url": detail}
        return render(request, "ordering/order_change.html", context)
    now = timezone.now()
    store = order.store
    rows = editable_lines(order)
    asap = slots.asap_time(store, order.fulfilment, now) if store else None
    slot_choices = slots.available_slots(store, order.fulfilment, now, exclude_order=order) if store else []
    # In Paris time, as the slots' keys: the database gives UTC, whose key names the same slot
    # differently (it was listed twice, the customer's own choice under a key of its own).
    slot_start = timezone.localtime(order.slot_start) if order.slot_start else None
    current = ASAP if order.asap or slot_start is None else slot_start.isoformat()
    if current != ASAP and current not in {s.start.isoformat() for s in slot_choices}:
        slot_choices = [
            slots.Slot(start=slot_start, promised_at=order.promised_at, remaining=0),
            *slot_choices,
        ]
    slot_form = ChangeSlotForm(
        request.POST or None,
        initial={"when": current},
        slots=slot_choices,
        asap_label=_("Dès que possible"),
    )
    errors = []
    due = None
    if request.method == "POST":
        new_lines = []
        for line, cart_line in rows:
            raw = request.POST.get(f"quantity-{line.id}", str(line.quantity))
            try:
                quantity = int(raw)
            except ValueError:
                quantity = -1
            if not 0 <= quantity <= MAX_LINE_QUANTITY:
                errors.append(_("Quantité invalide pour %(product)s.") % {"product": line.product_name})
                continue
            if quantity:
                new_lines.append(make_line(cart_line.size_id, quantity, cart_line.extra_ids))
        if not slot_form.is_valid():
            errors.append(_("Choisissez un créneau de la liste."))
        if not new_lines and not errors:
            errors.append(_("Une commande garde au moins un produit : pour tout retirer, annulez-la."))
        if not errors:
            kwargs = {}
            if slot_form.cleaned_data["when"] != current:
                when = slot_form.cleaned_data["when"]
                kwargs["slot"] = None if when == ASAP else slot_form.slots[when].start
            old_lines = [cart_line for _line, cart_line in rows]
            if new_lines != old_lines:
                kwargs["lines"] = new_lines
            if not kwargs:
                messages.info(request, _("Rien n'a changé."))
                return redirect(detail)
            source_token, expected_total = posted_card(request)
            try:
                services.change_order(
                    order,
                    user=request.user if request.user.is_authenticated else None,
                    # A card-paid order charges a higher total to a new card, tokenised by the
                    # card form for the difference the page showed (`expected_total`).
                    source_token=source_token,
                    verification_token=request.POST.get("verification_token", "") if source_token else "",
                    expected_total=expected_total,
                    now=now,
                    **kwargs,
                )
            except OrderError as error:
                due = difference_due(order, kwargs, now=now)
                if not (due and not source_token and isinstance(error, services.PaymentError)):
                    errors.append(str(error))  # asked for a card only: not an error
            else:
                order.refresh_from_db()
                messages.success(
                    request,
                    _("Commande modifiée. Nouveau total : %(total)s.") % {"total": euros(order.total)},
                )
                return redirect(detail)
    context = {
        "order": order,
        "rows": [line for line, _cart_line in rows],
        "slot_form": slot_form,
        "errors": errors,
        "detail_url": detail,
        "asap": asap,
        "max_quantity": MAX_LINE_QUANTITY,
        "test_cards": change_test_cards() if order.is_paid_online and not due else [],
        "due": due,
        "card_form": card_form(store) if due else {},
    }
    if request.method == "POST":
        for line in context["rows"]:
            posted = request.POST.get(f"quantity-{line.id}", "")
            # As posted, when it is a whole number the number input can show ("1,5" is not).
            if re.fullmatch(r"-?[0-9]{1,9}", posted):
                line.quantity = posted
    return render(request, "ordering/order_change.html", context, status=409 if errors else 200)


def posted_card(request):
    """(source_token, expected_total) of a change post: the card token goes with the total the
    page showed; without a readable total, no token (the page asks for the card again)."""
    source_token = request.POST.get("source_token", "")
    raw = request.POST.get("expected_total", "")
    if not raw:
        return source_token, None
    try:
        total = Decimal(raw)
    except InvalidOperation:
        return "", None
    if not total.is_finite():  # "NaN", "sNaN", "Infinity": no total a page shows
        return "", None
    return source_token, total


def difference_due(order, change, *, now):
    """{"total", "amount", "expected_total"} when the `change` of a card-paid order raises its
    total above what was paid online (priced again by the server, nothing kept), else None."""
    if not order.is_paid_online or "lines" not in change:
        return None
    try:
        total = services.change_total(
            order, lines=change["lines"], slot=change.get("slot", services.UNCHANGED), now=now
        )
    except OrderError:
        return None
    amount = total - order.paid_amount()
    if amount <= 0:
        return None
    return {"total": total, "amount": amount, "expected_total": f"{total:.2f}"}


def card_form(store):
    """What the card form needs from the provider of card payments online (`card_form()`: Square's
    SDK settings for the store's location, or the simulator's test cards); {} without one."""
    if not card_payments_online():
        return {}
    return get_provider().card_form(location_id=getattr(store, "payment_location_id", "") or "")


def change_test_cards():
    """[(token, label)] of the simulator's test cards a change may charge a higher total to (those
    needing no 3-D Secure step: the change page has no card form); none with another provider,
    whose tokens only its own card form makes."""
    card_form = get_provider().card_form() if card_payments_online() else {}
    if card_form.get("kind") != "simulator":
        return []
    cards = {}
    for card in card_form["cards"]:
        if card["verification"] == "none":
            cards.setdefault(card["token"], f"{card['number']} — {card['label']}")
    return list(cards.items())


@require_http_methods(["GET", "POST"])
def order_cancel(request, number, secret=None):
    order = get_order(request, number, secret, queryset=detail_queryset(request, number, secret))
    detail = order_url(order, "order_detail", secret=secret)
    form = CancelForm(request.POST or None)
    error = ""
    if not order.can_change and order.status != Order.Status.PENDING_PAYMENT:
        error = why_unchangeable(order)
    if request.method == "POST" and not error and form.is_valid():
        try:
            services.cancel_order(
                order,
                user=request.user if request.user.is_authenticated else None,
                reason=form.cleaned_data["reason"],
                by_customer=True,
            )
        except OrderError as refusal:
            error = str(refusal)
        else:
            messages.success(request, _("Votre commande %(number)s est annulée.") % {"number": order.number})
            return redirect(detail)
    if request.method == "POST" and error:
        messages.error(request, error)
        return redirect(detail)
    context = {"order": order, "form": form, "error": error, "detail_url": detail}
    return render(request, "ordering/order_cancel.html", context)


@login_required
@require_GET
def history(request):
    orders = request.user.orders.order_by("-created_at", "-id")
    page = Paginator(orders, 20).get_page(request.GET.get("page"))
    return render(request, "ordering/history.html", {"page": page, "orders": page.object_list})


@login_required
@require_POST
def reorder(request, number):
    order = get_order(request, number)
    cart = Cart(request.session)
    store = order.store if order.store_id and order.store and order.store.live else cart.store
    if store is None:
        messages.error(request, _("Cette pizzeria ne prend plus de commandes : choisissez-en une autre."))
        return redirect("ordering:history")
    gone = [
        line.product_name for line in order.lines.all() if line.size_id is None or line.product_id is None
    ]
    changes = cart.replace_lines(store, order.cart_lines())
    messages.success(
        request,
        _("Votre panier reprend la commande %(number)s chez %(store)s.")
        % {"number": order.number, "store": store.title},
    )
    for name in gone:
        messages.warning(request, _("%(product)s n'est plus à la carte.") % {"product": name})
    for change in changes:
        messages.warning(request, change)
    return redirect("ordering:cart")
