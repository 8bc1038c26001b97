"""Checkout and online payment.

The checkout shows the server's quote of the cart and a form (contact, delivery or pickup,
when, payment) holding a fresh idempotency key and the total the customer saw. On POST,
`services.place_order` prices everything again: a different total comes back as `PriceChanged`
and the new quote is shown for the customer to confirm; a double click or a retried POST gives
the one order placed with that key.

Delivery: the address is located once (`ordering.addresses.locate_address`: geocoded unless a saved
address or the session's draft already holds its coordinates) and the quote carries its band's
fee and minimum. A POST with `recalculate` prices the address without placing anything: the page
again without JavaScript, JSON for `ordering.js` (summary, total, offer). When the store cannot
serve (closed or full, outside its area, out of something in the cart), `ordering.offers` finds
the next store that can and the page offers to move the cart there (`cart_store`); what was
typed waits in the session's draft (`DRAFT_KEY`) until the order is placed.

Card online: the card form (Square's Web Payments SDK, or the simulator's look-alike form) turns
the card into a token in the browser; the card number never reaches us. The checkout POST then
places the order and pays it in the same request, with the payment key derived from the form's
key ("<key>-pay"), so the same POST sent twice gives one order and one charge. A declined card
leads to the pay page with the reason (the order waits, its stock reserved); without a token (no
JavaScript) the pay page takes the card.
"""

import functools
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from menu.catalogue import reads_catalogue, use_database_token
from menu.templatetags.menu_tags import euros
from stores.areas import delivers_somewhere
from stores.hours import is_open_at, ordering_settings, with_hours

from .. import offers, services, slots
from ..addresses import Address, OutsideArea, address_as_session, locate_address, place_of
from ..cart import Cart
from ..forms import CardTokenFields, CheckoutForm, PaymentForm, new_idempotency_key
from ..models import Order, Payment, order_for_key
from ..payments import card_payments_online
from ..pricing import OrderError, quote
from .orders import card_form, get_order, order_url


def payment_methods(settings):
    methods = list(settings.accepted_payments or [])
    if settings.online_payment and card_payments_online():
        methods.insert(0, Order.PaymentMethod.CARD_ONLINE)
    return methods


def customer_addresses(user):
    """The account's saved delivery addresses, default first (accounts.Address)."""
    if not user.is_authenticated:
        return []
    return list(user.addresses.order_by("-is_default", "id"))


def initial_contact(user):
    if not user.is_authenticated:
        return {}
    return {
        "name": user.get_full_name(),
        "phone": user.phone,
        "email": user.email,
    }


def asap_label(promised, fulfilment):
    if promised is None:
        return ""
    at = timezone.localtime(promised).strftime("%H:%M")
    if fulfilment == Order.Fulfilment.DELIVERY:
        return _("Dès que possible : livrée vers %(time)s") % {"time": at}
    return _("Dès que possible : prête vers %(time)s") % {"time": at}


DRAFT_KEY = "checkout_draft"
# What the checkout keeps in the session between its pages (an address located, a store offered):
# never the card, never the form's key or total.
DRAFT_FIELDS = ("name", "phone", "email", "street_address", "postcode", "city", "address_details")


class Checkout:
    """Everything the checkout page needs for one store, fulfilment and moment.

    For a delivery, `located` is the address once known (`ordering.addresses.LocatedAddress`): the
    customer's default saved address, the address of the session's draft, or the one just posted.
    The quote then carries its band's fee and minimum. `offer` is another store that can serve when
    this one cannot (`ordering.offers.next_store`), with `offer_reason` saying why.
    """

    def __init__(self, request, cart, fulfilment):
        # Hours and closures read once: the slots, "as soon as possible" and the order ask often.
        self.request, self.cart, self.store = request, cart, with_hours(cart.store)
        self.settings = ordering_settings(self.store)
        self.now = timezone.now()
        delivers = delivers_somewhere(self.store)
        self.addresses = customer_addresses(request.user)
        self.draft = request.session.get(DRAFT_KEY) or {}
        if fulfilment not in Order.Fulfilment.values or (
            fulfilment == Order.Fulfilment.DELIVERY and not delivers
        ):
            # Pickup unless the customer saved (or just typed) an address and the store delivers.
            wants_delivery = delivers and (
                bool(self.addresses) or self.draft.get("fulfilment") == Order.Fulfilment.DELIVERY
            )
            fulfilment = Order.Fulfilment.DELIVERY if wants_delivery else Order.Fulfilment.PICKUP
        self.fulfilment = fulfilment
        self.delivers = delivers
        self.located = None
        self.outside_place = None  # where an address the store does not deliver is
        self.outside_address = None  # and that address, normalised
        self.offer = None
        self.offer_reason = ""
        # As soon as possible while the store is open; closed, the customer picks a slot
        # (`services.place_order` refuses "as soon as possible" then).
        self.open_now = is_open_at(self.store, self.now)
        self.methods = payment_methods(self.settings)

    @functools.cached_property
    def slots(self):
        """The slots offered: read only when the page is shown or a slot was chosen. An order
        placed as soon as possible takes its slot under the placing lock (`services.place_order`),
        and needs none listed before (one query and about 3 ms of its CPU)."""
        return slots.available_slots(self.store, self.fulfilment, self.now)

    @functools.cached_property
    def asap(self):
        """When an order placed now as soon as possible would be ready (None if it cannot be)."""
        if not self.open_now:
            return None
        return slots.asap_time(self.store, self.fulfilment, self.now, slots=self.slots)

    # The address -------------------------------------------------------------------------------

    def locate(self, address):
        """Locate `address` (an `addresses.Address`) for this store; keeps the error for the page.

        Raises OrderError (French); `OutsideArea` records where the address is, for the offer.
        """
        try:
            self.located = locate_address(store=self.store, address=address)
        except OutsideArea as outside:
            self.outside_place, self.outside_address = outside.place, outside.address
            raise
        return self.located

    def locate_known_address(self):
        """On arrival (GET): the draft's address (already located), else the default saved one.
        An address that cannot be used here is left for the customer to see when they post."""
        if self.fulfilment != Order.Fulfilment.DELIVERY:
            return
        chosen = int_or_none(self.draft.get("saved_address"))
        saved = next((a for a in self.addresses if a.id == chosen), None) or self.default_address()
        address = self.draft_address() or self.saved_address(saved)
        if address is None:
            return
        try:
            self.locate(address)
        except OrderError:
            self.located = None

    def draft_address(self):
        draft = self.draft
        if not draft.get("latitude") or draft.get("saved_address"):
            return None
        try:
            latitude, longitude = Decimal(draft["latitude"]), Decimal(draft["longitude"])
        except (InvalidOperation, KeyError, TypeError):
            return None
        return Address(
            draft.get("street_address", ""),
            draft.get("postcode", ""),
            draft.get("city", ""),
            draft.get("address_details", ""),
            latitude,
            longitude,
        )

    def posted_address(self, form):
        """The address the valid `form` names: a saved one (its coordinates when it has them), or
        the typed one, with the draft's coordinates when it is the draft's address unchanged."""
        data = form.cleaned_data
        if form.saved is not None:
            return self.saved_address(form.saved, details=data["address_details"])
        typed = Address(data["street_address"], data["postcode"], data["city"], data["address_details"])
        known = self.draft_address()
        fields = ("street_address", "postcode", "city")
        if known is not None and all(getattr(known, f) == getattr(typed, f) for f in fields):
            return Address(
                *[getattr(typed, f) for f in fields], typed.details, known.latitude, known.longitude
            )
        return typed

    def saved_address(self, saved, details=None):
        if saved is None:
            return None
        return Address(
            saved.street_address,
            saved.postcode,
            saved.city,
            saved.details if details is None else details,
            saved.latitude,
            saved.longitude,
        )

    def default_address(self):
        return next(
            (a for a in self.addresses if a.is_default), self.addresses[0] if self.addresses else None
        )

    def remember(self, data):
        """Keep what the customer typed (and the located address) for the next checkout page."""
        draft = {field: str(data.get(field) or "") for field in DRAFT_FIELDS}
        draft["fulfilment"] = self.fulfilment
        draft["saved_address"] = data.get("saved_address") or ""
        located = self.located or self.outside_address
        if located is not None and not draft["saved_address"]:
            draft.update(address_as_session(located))
        self.request.session[DRAFT_KEY] = draft

    # Prices and offers -------------------------------------------------------------------------

    def quote(self):
        return quote(
            self.store,
            self.cart.lines,
            fulfilment=self.fulfilment,
            code=self.cart.code,
            now=self.now,
            delivery=self.located.delivery if self.located else None,
            request=self.request,  # the menu's prices, kept per content generation
        )

    def find_offer(self, the_quote=None):
        """Another store when this one cannot serve: out of something in the cart, outside its
        area (`outside_place`), or closed / full with nothing as soon as possible."""
        place = self.outside_place or (place_of(self.located) if self.located else None)
        if self.outside_place is not None:
            reason = "outside"
        elif the_quote is not None and any(not line.available for line in the_quote.lines):
            reason = "unavailable"
        elif self.asap is None:
            reason = "closed" if not self.open_now else "full"
        else:
            return None
        self.offer = offers.next_store(
            store=self.store,
            lines=list(self.cart.lines),
            fulfilment=self.fulfilment,
            code=self.cart.code,
            place=place,
            now=self.now,
        )
        self.offer_reason = reason if self.offer is not None else ""
        return self.offer

    # The form ----------------------------------------------------------------------------------

    def form(self, data=None, initial=None):
        return CheckoutForm(
            data,
            initial=initial,
            addresses=self.addresses,
            slots=lambda: self.slots,
            asap_label=lambda: asap_label(self.asap, self.fulfilment),
            offer_asap=self.open_now,
            payment_methods=self.methods,
        )

    def as_shown(self, the_quote):
        """The quote of a page shown again without placing: priced as on arrival. A delivery is
        priced again with the address the page was shown with (its band's fee, where `the_quote`,
        made before any address was located, has the store's); a pickup's is `the_quote`."""
        if self.fulfilment != Order.Fulfilment.DELIVERY or self.located is not None:
            return the_quote
        self.locate_known_address()
        return self.quote() if self.located is not None else the_quote

    def form_again(self, posted, the_quote):
        """The form of a page whose hidden fields were altered (their errors would show nowhere)
        or whose key placed another visitor's order: what the customer typed, the page's own values
        written again (a new key, the total shown, this store, no card token), and why nothing was
        placed."""
        fresh = posted.copy()
        fresh["fulfilment"] = self.fulfilment
        fresh["idempotency_key"] = new_idempotency_key()
        fresh["expected_total"] = str(the_quote.total)
        fresh["cart_store"] = str(self.store.id)
        for name in CheckoutForm.CARD_FIELDS:
            fresh.pop(name, None)
        form = self.form(fresh)
        form.is_valid()
        form.add_error(
            None,
            _("Cette page a été modifiée ou n'est plus à jour : vérifiez votre commande, puis confirmez."),
        )
        return form

    def default_when(self):
        """As soon as possible when it can be, else the first slot."""
        if self.asap is not None:
            return "asap"
        return next(iter(s.start.isoformat() for s in self.slots), "")

    def initial(self, the_quote):
        initial = {
            **initial_contact(self.request.user),
            "fulfilment": self.fulfilment,
            "when": self.default_when(),
            "payment_method": self.methods[0] if self.methods else "",
            "idempotency_key": new_idempotency_key(),
            "expected_total": the_quote.total,
            "cart_store": self.store.id,
        }
        default = self.default_address()
        if default is not None:
            initial["saved_address"] = default.id
        draft = self.draft
        initial.update({field: draft[field] for field in DRAFT_FIELDS if draft.get(field)})
        if draft.get("saved_address") and int_or_none(draft["saved_address"]) in {
            a.id for a in self.addresses
        }:
            initial["saved_address"] = int(draft["saved_address"])
        elif draft.get("street_address"):
            initial["saved_address"] = ""
        return initial

    def render(self, form, the_quote, *, status=200, offer_pickup=False, price_changed=None):
        context = {
            "form": form,
            "quote": the_quote,
            "store": self.store,
            "store_settings": self.settings,
            "checkout": self,
            "offer": self.offer,
            "offer_reason": self.offer_reason,
            "offer_pickup": offer_pickup,
            "price_changed": price_changed,
            "asap": self.asap,
            "card_form": card_form(self.store) if Order.PaymentMethod.CARD_ONLINE in self.methods else {},
        }
        if wants_json(self.request):
            return self.json(form, the_quote, context, status)
        return render(self.request, "ordering/checkout.html", context, status=status)

    def json(self, form, the_quote, context, status):
        """The checkout's fee and offer for the page's script (`recalculate`): the summary's HTML,
        the new total to carry in `expected_total`, the address's error if any."""
        errors = [str(e) for field in ADDRESS_FIELDS for e in form.errors.get(field, [])]
        errors += [str(e) for e in form.non_field_errors()]
        return JsonResponse(
            {
                "ok": not errors,
                "errors": errors,
                "expected_total": str(the_quote.total),
                "total": euros(the_quote.total),
                "summary": render_to_string("ordering/includes/quote_table.html", context, self.request),
                "offer": render_to_string("ordering/includes/store_offer.html", context, self.request),
                "address": self.located.as_session() if self.located else None,
            },
            status=status,
        )


ADDRESS_FIELDS = ("saved_address", "street_address", "postcode", "city", "address_details")


def int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def wants_json(request):
    return request.method == "POST" and "application/json" in request.headers.get("Accept", "")


@reads_catalogue  # the page's store, hours and prices kept per content generation (Redis's token)
@require_http_methods(["GET", "POST"])
def checkout(request):
    placed = None
    if request.method == "POST":
        # An order keeps them under the database's token, read before anything else: a change
        # committed before this read is read again (menu/catalogue.py).
        use_database_token(request)
        # A retried POST whose first attempt placed the order (and emptied the cart) finds it.
        key = request.POST.get("idempotency_key", "").strip()  # as the form cleans it
        placed = order_for_key(key)
        if placed is not None and owns(request, placed):
            return after_placing(request, placed, CardTokenFields(request.POST), key)
    cart = Cart(request.session, request)
    if cart.store is None or not cart.lines:
        messages.info(request, _("Votre panier est vide : ajoutez des produits avant de commander."))
        return redirect("ordering:cart")
    page = Checkout(request, cart, request.POST.get("fulfilment") or request.GET.get("mode", ""))
    if request.method == "GET":
        page.locate_known_address()
    try:
        the_quote = page.quote()
    except OrderError:
        messages.error(request, _("Votre panier a changé : vérifiez-le avant de commander."))
        return redirect("ordering:cart")
    if any(not line.available for line in the_quote.lines) and page.find_offer(the_quote) is None:
        messages.error(
            request, _("Certains produits de votre panier ne sont plus disponibles : modifiez-le.")
        )
        return redirect("ordering:cart")
    if request.method == "GET":
        if page.offer is None:
            page.find_offer(the_quote)
        return page.render(page.form(initial=page.initial(the_quote)), the_quote)

    if "switch_to_pickup" in request.POST:
        data = request.POST.copy()
        data["fulfilment"] = Order.Fulfilment.PICKUP
        page = Checkout(request, cart, Order.Fulfilment.PICKUP)
        the_quote = page.quote()
        data["expected_total"] = str(the_quote.total)
        offered = {s.start.isoformat() for s in page.slots} | ({"asap"} if page.open_now else set())
        if data.get("when") not in offered:
            data["when"] = page.default_when()
        page.find_offer(the_quote)
        messages.info(request, _("Retrait à la pizzeria choisi : vérifiez le total puis confirmez."))
        return page.render(page.form(initial=data.dict()), the_quote)

    form = page.form(request.POST)
    valid = form.is_valid()
    recalculate = "recalculate" in request.POST
    if recalculate:
        # Only the address counts here: the rest of the form is checked when confirming.
        for field in [f for f in form.errors if f not in ADDRESS_FIELDS]:
            del form.errors[field]
        valid = not form.errors
    # Refused, or another visitor's form key (`placed`: place_order would hand over their order):
    # the page again, priced as shown; a new key and the page's own values where it was altered.
    if not valid or placed is not None:
        the_quote = the_quote if recalculate else page.as_shown(the_quote)
        if form.altered or placed is not None:
            form = page.form_again(request.POST, the_quote)
        return page.render(form, the_quote, status=409 if valid else 400)
    data = form.cleaned_data
    if not recalculate and data.get("cart_store") not in (None, page.store.id):
        the_quote = page.as_shown(the_quote)
        fresh = request.POST.copy()
        fresh["cart_store"] = str(page.store.id)
        fresh["expected_total"] = str(the_quote.total)
        form = page.form(fresh)
        form.is_valid()
        form.add_error(
            None,
            _("Votre panier est maintenant chez %(store)s : vérifiez-le, puis confirmez.")
            % {"store": page.store.title},
        )
        return page.render(form, the_quote, status=409)
    if data.get("fulfilment") == Order.Fulfilment.DELIVERY:
        try:
            page.locate(page.posted_address(form))
        except OutsideArea as outside:
            form.add_error(None, str(outside))
            page.find_offer(the_quote)
            page.remember(data)
            if page.offer is None:
                form.add_error(
                    None,
                    _(
                        "Aucune de nos pizzerias ne livre cette adresse en ce moment : "
                        "retirez votre commande sur place."
                    ),
                )
            return page.render(form, the_quote, status=409, offer_pickup=True)
        except OrderError as refused:
            form.add_error("street_address", str(refused))
            return page.render(form, the_quote, status=400)
        the_quote = page.quote()
        page.remember(data)
    if recalculate:
        # The fee of this address is now shown: the customer confirms with it.
        fresh = request.POST.copy()
        fresh["expected_total"] = str(the_quote.total)
        if page.located is not None and form.saved is None:
            fresh.update({k: v for k, v in page.located.as_session().items() if k in ADDRESS_FIELDS})
        form = page.form(fresh)
        form.is_valid()
        for field in [f for f in form.errors if f not in ADDRESS_FIELDS]:
            del form.errors[field]
        page.find_offer(the_quote)
        return page.render(form, the_quote)
    try:
        order = services.place_order(
            store=page.store,
            lines=list(cart.lines),
            fulfilment=data["fulfilment"],
            contact=services.Contact(name=data["name"], phone=data["phone"], email=data["email"]),
            address=page.located,
            slot=form.slot,
            payment_method=data["payment_method"],
            idempotency_key=data["idempotency_key"],
            customer=request.user if request.user.is_authenticated else None,
            code=cart.code,
            expected_total=data["expected_total"],
            user=request.user if request.user.is_authenticated else None,
            quoted=the_quote,  # priced for this page a moment ago: not read again
            key_checked=True,  # no order had this key at the top of this view
        )
    except services.PriceChanged as changed:
        new_quote = changed.quote
        fresh = request.POST.copy()
        fresh["expected_total"] = str(new_quote.total)
        form = page.form(fresh)
        form.is_valid()
        return page.render(form, new_quote, status=409, price_changed=data["expected_total"])
    except OrderError as error:
        form.add_error(None, str(error))
        page.find_offer(the_quote)
        if page.offer is not None:
            page.remember(data)
        # Under the minimum, no slot left…: retiring at the store is one click away.
        offer_pickup = data["fulfilment"] == Order.Fulfilment.DELIVERY
        return page.render(form, the_quote, status=409, offer_pickup=offer_pickup)
    cart.clear()
    request.session.pop(DRAFT_KEY, None)
    remember_guest_order(request, order)
    return after_placing(request, order, form, data["idempotency_key"])


def after_placing(request, order, tokens, key):
    """Pay the order just placed with the card the checkout tokenised (`tokens`, a valid form
    holding source_token / verification_token), if it waits for one; else show where it is.

    The payment's key derives from the checkout's: the same POST again (a double click, two
    requests at once, a retry) finds the same payment instead of charging twice. Declined, or the
    provider unreachable: the pay page shows why and takes another card; the order keeps waiting.
    """
    token = tokens.cleaned_data.get("source_token") if tokens.is_valid() else ""
    if order.status != Order.Status.PENDING_PAYMENT or not token:
        return redirect(after_placing_url(order))
    try:
        payment = services.pay_order(
            order,
            source_token=token,
            verification_token=tokens.cleaned_data["verification_token"],
            idempotency_key=f"{key}-pay",
            user=request.user if request.user.is_authenticated else None,
        )
    except OrderError as refusal:
        messages.error(request, str(refusal))
        return redirect(after_placing_url(order))
    response = after_payment(request, order, payment)
    if response is not None:
        return response
    messages.error(request, payment_refusal(payment))
    return redirect(order_url(order, "order_pay"))


def after_payment(request, order, payment, *, secret=None):
    """The order page once a payment succeeded or waits for the bank; None for a refused one."""
    if payment.status == Payment.Status.SUCCEEDED:
        messages.success(request, _("Paiement accepté : votre commande est transmise à la pizzeria."))
    elif payment.status == Payment.Status.PENDING:
        messages.info(request, _("Paiement en cours de confirmation par la banque."))
    else:
        return None
    return redirect(order_url(order, "order_detail", secret=secret))


def payment_refusal(payment):
    return payment.error or _("Paiement refusé par la banque.")


def after_placing_url(order):
    """Where a placed order leads: its pay page while it waits for a card payment (unless a
    charge already waits for the bank's answer), else its page."""
    if order.status == Order.Status.PENDING_PAYMENT and order.payment_state != Order.PaymentState.PENDING:
        return order_url(order, "order_pay")
    return order_url(order, "order_detail")


def owns(request, order):
    """Whether this visitor placed `order`: its customer, or the guest session that placed it."""
    if order.customer_id is not None:
        return request.user.is_authenticated and order.customer_id == request.user.id
    return order.number in request.session.get("guest_orders", [])


def remember_guest_order(request, order):
    if order.customer_id is None:
        numbers = request.session.get("guest_orders", [])
        request.session["guest_orders"] = [*numbers[-19:], order.number]


@require_http_methods(["GET", "POST"])
def order_pay(request, number, secret=None):
    """Card payment of an order placed with "card online" (a retry after a declined card, or the
    first try of a checkout without JavaScript): the same card form as the checkout's."""
    order = get_order(request, number, secret)
    if order.status != Order.Status.PENDING_PAYMENT:
        if request.method == "POST":
            messages.info(request, _("Cette commande n'attend plus de paiement."))
        return redirect(order_url(order, "order_detail", secret=secret))
    if order.payment_state == Order.PaymentState.PENDING:
        messages.info(request, _("Paiement en cours de confirmation par la banque."))
        return redirect(order_url(order, "order_detail", secret=secret))
    form = PaymentForm(request.POST or None, initial={"idempotency_key": new_idempotency_key()})
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            payment = services.pay_order(
                order,
                source_token=form.cleaned_data["source_token"],
                verification_token=form.cleaned_data["verification_token"],
                idempotency_key=form.cleaned_data["idempotency_key"],
                user=request.user if request.user.is_authenticated else None,
            )
        except OrderError as refusal:
            error = str(refusal)
        else:
            response = after_payment(request, order, payment, secret=secret)
            if response is not None:
                return response
            error = payment_refusal(payment)
        # A new attempt needs a new key (the refused one is settled) and a new card token.
        form = PaymentForm(initial={"idempotency_key": new_idempotency_key()})
    status = 402 if error else (400 if form.errors else 200)
    context = {
        "order": order,
        "form": form,
        "error": error,
        "card_form": card_form(order.store),
        "detail_url": order_url(order, "order_detail", secret=secret),
    }
    return render(request, "ordering/pay.html", context, status=status)
