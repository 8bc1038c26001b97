"""Order taking by phone and at the counter (/equipe/<store_id>/prise-de-commande/).

One page, one form, usable with a keyboard or on a tablet, without JavaScript. The order being
built lives in the form itself: its lines are posted as hidden `line-<n>` fields ("size:extra,…")
beside their `quantity-<n>`, the customer picked and the address located as signed values
(`ordering.taking`), the idempotency key and the total shown as hidden fields. Every button posts
the whole form back; the page comes back with everything typed kept:

- « Rechercher » (also what Enter does): the customers of that phone number (`taking.find_customers`);
  « Choisir » fills in the contact and offers their last addresses;
- « Vérifier l'adresse »: the address located and priced by `addresses.locate_address`, the same
  function as the website's checkout (French error, outside the area included);
- « Ajouter » on a product of the menu: a line, checked like the cart checks it
  (`stores.availability.check_lines_available`); the menu greys what the store cannot make
  (the store menu's own `StoreMenuProvider`); « Retirer » / a quantity of 0 removes a line;
- « Enregistrer la commande »: `services.place_order` with the channel, the form's key (a double
  submit gives the one order), the total shown (a price that changed meanwhile comes back to be
  confirmed), then the confirmation page (PRG).

The quote is the server's (`pricing.quote`) with the address's delivery band once located; the
times are the checkout's (`slots`, `checkout.asap_label`); payment only on delivery or at the
counter, among the store's accepted on-site methods. Nothing is written before the order is placed.
"""

from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import User
from menu.models import MenuPage
from menu.offers import store_menu_provider
from stores.areas import delivers_somewhere
from stores.availability import check_lines_available
from stores.exceptions import StockError
from stores.hours import is_open_at, ordering_settings
from stores.models import OnSitePayment
from stores.services import parse_id

from .. import services, slots, taking
from ..access import TAKE_ORDERS
from ..addresses import OutsideArea, locate_address
from ..cart import MAX_LINE_QUANTITY, make_line
from ..forms import OrderTakingForm, new_idempotency_key
from ..models import Order, order_for_key
from ..pricing import MAX_LINES, OrderError, quote
from ..search import normalise_phone
from .checkout import asap_label
from .staff import staff_screen

ADDRESS_FIELDS = ("street_address", "postcode", "city", "address_details")
# The buttons that only change the order being built: the form's other errors are not shown yet.
PLACE = "place"


class LineError(Exception):
    pass


def posted_id(value):
    """A size's or an extra's id as posted: digits within a bigint, else ValueError."""
    found = parse_id(value)
    if found is None:
        raise ValueError(value)
    return found


def posted_lines(data):
    """The CartLines posted as `line-<n>` ("size:extra,extra") and `quantity-<n>`, n from 0,
    those with a quantity of 0 left out. Raises LineError (French) for a value that is not one."""
    lines = []
    for index in range(MAX_LINES + 1):
        value = data.get(f"line-{index}")
        if value is None:
            break
        try:
            size_id, _sep, extras = value.partition(":")
            quantity = int(data.get(f"quantity-{index}") or 0)
            extra_ids = [posted_id(extra) for extra in extras.split(",") if extra]
            if quantity < 0 or quantity > MAX_LINE_QUANTITY:
                raise ValueError
            if quantity:
                lines.append(make_line(posted_id(size_id), quantity, extra_ids))
        except ValueError:
            raise LineError(
                _("Quantité entre 0 et %(max)s pour chaque ligne.") % {"max": MAX_LINE_QUANTITY}
            ) from None
    return lines


def line_value(line):
    return f"{line.size_id}:{','.join(str(extra) for extra in line.extra_ids)}"


def merged(lines, line):
    """`lines` with `line` added: the same size with the same extras adds up (as the cart does)."""
    result = list(lines)
    for index, existing in enumerate(result):
        if (existing.size_id, existing.extra_ids) == (line.size_id, line.extra_ids):
            quantity = min(existing.quantity + line.quantity, MAX_LINE_QUANTITY)
            result[index] = make_line(line.size_id, quantity, line.extra_ids)
            return result
    return [*result, line]


def on_site_methods(settings):
    """The payment methods on delivery / at the counter this store accepts (no card online)."""
    accepted = settings.accepted_payments or []
    return [value for value in OnSitePayment.values if value in accepted]


def store_menu(request, store):
    """The store's menu as its page shows it: sections of `menu.offers.ProductOffer`, what the
    store cannot make now greyed (`available`, `reason`)."""
    provider = store_menu_provider()
    menu_page = MenuPage.objects.live().order_by("path").first()
    if provider is None or menu_page is None:
        return []
    try:
        return provider.store_menu_context(menu_page, request, store.slug)["sections"]
    except Http404:  # a store not published: no menu to take orders from
        return []


class OrderTaking:
    """The screen for one store at one moment: the form, the lines, the customer, the address."""

    def __init__(self, request, store, data=None):
        self.request, self.store = request, store
        self.now = timezone.now()
        self.settings = ordering_settings(store)
        self.delivers = delivers_somewhere(store)
        self.data = data  # a mutable copy of the POST, or None on arrival
        self.errors = []  # French messages shown above the form
        self.notices = []
        self.lines = []
        self.customer = None  # taking.KnownCustomer picked
        self.matches = None  # [taking.KnownCustomer] found, None when no search was made
        self.located = None
        self.outside = False
        self.fulfilment = (data or {}).get("fulfilment") or Order.Fulfilment.PICKUP
        if self.fulfilment not in Order.Fulfilment.values or not self.delivers:
            self.fulfilment = Order.Fulfilment.PICKUP
        self.open_now = is_open_at(store, self.now)
        self.set_fulfilment(self.fulfilment)
        self.methods = on_site_methods(self.settings)

    def set_fulfilment(self, fulfilment):
        """Delivery or pickup, and the times offered for it (as the checkout offers them)."""
        self.fulfilment = fulfilment
        self.asap = slots.asap_time(self.store, fulfilment, self.now) if self.open_now else None
        self.slots = slots.available_slots(self.store, fulfilment, self.now)

    def form(self, data=None, initial=None):
        return OrderTakingForm(
            data,
            initial=initial,
            slots=self.slots,
            asap_label=asap_label(self.asap, self.fulfilment),
            offer_asap=self.asap is not None,
            payment_methods=self.methods,
            delivers=self.delivers,
        )

    def initial(self):
        when = "asap" if self.asap is not None else next((s.start.isoformat() for s in self.slots), "")
        return {
            "source": Order.Source.PHONE,
            "fulfilment": Order.Fulfilment.PICKUP,
            "when": when,
            "payment_method": self.methods[0] if self.methods else "",
            "idempotency_key": new_idempotency_key(),
        }

    # The buttons -----------------------------------------------------------------------------------

    def pick_customer(self, token):
        customer = taking.KnownCustomer.from_token(token, self.store.id)
        if customer is None:
            self.errors.append(_("Ce client n’a pas pu être repris : recherchez-le de nouveau."))
            return
        data = self.data
        data["customer"] = token
        data["name"], data["phone"], data["email"] = customer.name, customer.phone, customer.email
        data["lookup"] = ""
        if customer.last_address is not None and self.delivers and not data.get("street_address"):
            data["fulfilment"] = Order.Fulfilment.DELIVERY
            self.set_fulfilment(Order.Fulfilment.DELIVERY)
            self.use_address(customer.last_address)
        self.notices.append(_("Client repris : %(name)s.") % {"name": customer.name})

    def use_address(self, address):
        data = self.data
        data["street_address"], data["postcode"] = address.street_address, address.postcode
        data["city"], data["address_details"] = address.city, address.details
        data["located"] = taking.located_token(address) if address.located else ""

    def add_line(self, product_id):
        data = self.data
        size_id = data.get(f"size-{product_id}", "")
        try:
            quantity = int(data.get(f"add-quantity-{product_id}") or 1)
            extras = [posted_id(extra) for extra in data.getlist(f"extras-{product_id}")]
            if not 1 <= quantity <= MAX_LINE_QUANTITY:
                raise ValueError
            line = make_line(posted_id(size_id), quantity, extras)
        except ValueError:
            self.errors.append(
                _("Choisissez une taille et une quantité entre 1 et %(max)s.") % {"max": MAX_LINE_QUANTITY}
            )
            return
        basket = merged(self.lines, line)
        if len(basket) > MAX_LINES:
            self.errors.append(_("Cette commande a trop de lignes."))
            return
        try:
            check_lines_available(
                self.store, [(item.size_id, item.quantity, item.extra_ids) for item in basket]
            )
        except StockError as error:
            self.errors.append(error.message)
            return
        self.lines = basket
        for key in (f"size-{product_id}", f"add-quantity-{product_id}", f"extras-{product_id}"):
            data.pop(key, None)

    def locate(self, *, lookup):
        """Locate the typed address: always when its coordinates are known (no geocoding, only the
        area is checked), else only when `lookup` (the buttons « Vérifier » and « Enregistrer »)."""
        data = self.data
        if self.fulfilment != Order.Fulfilment.DELIVERY or not any(data.get(f) for f in ADDRESS_FIELDS[:3]):
            return None
        address = taking.typed_address(
            *(data.get(field, "") for field in ADDRESS_FIELDS), data.get("located", "")
        )
        if not address.located and not lookup:
            return None
        try:
            self.located = locate_address(store=self.store, address=address)
        except OutsideArea as outside:
            self.outside = True
            self.errors.append(str(outside))
            data["located"] = ""
            return None
        except OrderError as refused:
            self.errors.append(str(refused))
            data["located"] = ""
            return None
        data["located"] = taking.located_token(self.located.address)
        return self.located

    def quote(self):
        return quote(
            self.store,
            self.lines,
            fulfilment=self.fulfilment,
            now=self.now,
            delivery=self.located.delivery if self.located else None,
        )

    def render(self, form, the_quote, *, status=200):
        context = {
            "store": self.store,
            "screen": self,
            "form": form,
            "quote": the_quote,
            "priced_lines": [
                (index, line_value(priced.line), priced) for index, priced in enumerate(the_quote.lines)
            ],
            "sections": store_menu(self.request, self.store),
            "located": self.located,
            "customer": self.customer,
            "matches": self.matches,
            "errors": self.errors,
            "notices": self.notices,
            "kitchen_url": reverse("staff:kitchen", args=[self.store.id]),
        }
        return render(self.request, "ordering/staff/taking/screen.html", context, status=status)


@require_http_methods(["GET", "POST"])
@staff_screen(TAKE_ORDERS)
def order_taking(request, store):
    """The screen: on GET an empty order; on POST, the button pressed, then the page again or,
    once placed, the confirmation."""
    if request.method == "GET":
        screen = OrderTaking(request, store)
        return screen.render(screen.form(initial=screen.initial()), screen.quote())

    placed = order_for_key(request.POST.get("idempotency_key", ""))
    if placed is not None and placed.store_id == store.id:  # a double submit: the first one's order
        return redirect("staff:order_taken", store_id=store.id, number=placed.number)

    data = request.POST.copy()
    screen = OrderTaking(request, store, data)
    try:
        screen.lines = posted_lines(data)
    except LineError as error:
        screen.errors.append(str(error))
    if "pick" in data:
        screen.pick_customer(data["pick"])
    if "forget_customer" in data:
        data["customer"] = ""
    screen.customer = taking.KnownCustomer.from_token(data.get("customer", ""), store.id)
    if "use_address" in data and screen.customer is not None:
        index = data["use_address"]
        position = parse_id(index)
        chosen = (
            screen.customer.addresses[position]
            if position is not None and position < len(screen.customer.addresses)
            else None
        )
        if chosen is not None:
            screen.use_address(chosen)
    if "add" in data:
        screen.add_line(data["add"])
    if "remove" in data and parse_id(data["remove"]) is not None:
        index = parse_id(data["remove"])
        screen.lines = [line for i, line in enumerate(screen.lines) if i != index]
    action = PLACE if "place" in data else ""
    if data.get("lookup", "").strip():
        screen.matches = taking.find_customers(store, data["lookup"])
    # An address chosen from the customer's is checked at once, as with « Vérifier l'adresse ».
    chosen = {"check_address", "pick", "use_address"} & set(data)
    screen.locate(lookup=bool(chosen) or action == PLACE)
    try:
        the_quote = screen.quote()
    except OrderError as error:  # a line altered in the page
        screen.errors.append(str(error))
        screen.lines = []
        the_quote = screen.quote()
    data["expected_total"] = data.get("expected_total") if action == PLACE else str(the_quote.total)

    form = screen.form(data)
    valid = form.is_valid()
    if action != PLACE:
        # Building the order: only the address's errors count yet (the rest is checked on placing).
        for field in [f for f in form.errors if f not in ADDRESS_FIELDS or "check_address" not in data]:
            del form.errors[field]
        status = 400 if screen.errors or form.errors else 200
        return screen.render(form, the_quote, status=status)

    if not screen.lines:
        screen.errors.append(_("Ajoutez au moins un produit à la commande."))
    if not valid or screen.errors:
        data["expected_total"] = str(the_quote.total)  # the total the page shows now
        if placed is not None:  # another store's key: a new one, or the next submit is refused too
            data["idempotency_key"] = new_idempotency_key()
        return screen.render(form, the_quote, status=400)
    if placed is not None:  # another store's key: placing would hand over that order
        screen.errors.append(_("Ce formulaire a déjà servi : rechargez la page."))
        data["idempotency_key"] = new_idempotency_key()
        data["expected_total"] = str(the_quote.total)
        return screen.render(screen.form(data), the_quote, status=409)
    cleaned = form.cleaned_data
    account = None
    # The picked account gets the order only if the number is still theirs: staff who typed
    # another caller's name and number over a picked customer take a new customer's order.
    if (
        screen.customer is not None
        and screen.customer.account_id is not None
        and normalise_phone(cleaned["phone"]) == normalise_phone(screen.customer.phone)
    ):
        account = User.objects.filter(id=screen.customer.account_id, is_active=True).first()
    try:
        order = services.place_order(
            store=store,
            lines=screen.lines,
            fulfilment=cleaned["fulfilment"],
            contact=services.Contact(name=cleaned["name"], phone=cleaned["phone"], email=cleaned["email"]),
            address=screen.located,
            slot=form.slot,
            payment_method=cleaned["payment_method"],
            idempotency_key=cleaned["idempotency_key"],
            customer=account,
            source=cleaned["source"],
            expected_total=cleaned["expected_total"],
            user=request.user,
            key_checked=True,  # no order had this key at the top of this view
        )
    except services.PriceChanged as changed:
        screen.errors.append(str(changed))
        data["expected_total"] = str(changed.quote.total)
        form = screen.form(data)
        form.is_valid()
        return screen.render(form, changed.quote, status=409)
    except OrderError as error:
        screen.errors.append(str(error))
        data["expected_total"] = str(the_quote.total)
        return screen.render(form, the_quote, status=409)
    return redirect("staff:order_taken", store_id=store.id, number=order.number)


@require_GET
@staff_screen(TAKE_ORDERS)
def order_taken(request, store, number):
    """The confirmation: the order's number and promised time, and where to follow it."""
    order = get_object_or_404(Order.objects.prefetch_related("lines"), store=store, number=number)
    context = {
        "store": store,
        "order": order,
        "kitchen_url": reverse("staff:kitchen", args=[store.id]),
        "new_url": reverse("staff:order_taking", args=[store.id]),
    }
    return render(request, "ordering/staff/taking/taken.html", context)
