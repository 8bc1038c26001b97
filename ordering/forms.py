"""The storefront's forms: add to cart, change a line, checkout, payment, change an order.

Forms carry ids and choices only. Prices are never read from a POST: the server prices the cart
again (`pricing.quote`) and `services.place_order` re-prices once more when placing the order.
"""

import functools
import uuid
from datetime import UTC

from django import forms
from django.core.validators import RegexValidator
from django.forms.utils import flatatt
from django.utils.html import conditional_escape, escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from menu.models import ProductExtra, ProductSize
from stores.models import StorePage
from stores.services import parse_id

from .cart import MAX_LINE_QUANTITY, make_line
from .models import Order


def new_idempotency_key():
    return uuid.uuid4().hex


class IdChoiceField(forms.ModelChoiceField):
    """A ModelChoiceField that looks up only plain ids: digits within a bigint. A huge number
    overflows SQLite's integer (a 500); `²` or `1e3` are no id either."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if parse_id(value) is None:
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class IdMultipleChoiceField(forms.ModelMultipleChoiceField):
    """IdChoiceField's rule for each id of a multiple choice."""

    def _check_values(self, value):
        for pk in value if isinstance(value, (list, tuple)) else []:
            if parse_id(pk) is None:
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": pk}
                )
        return super()._check_values(value)


class AddToCartForm(forms.Form):
    """One product, in one size, with extras, from the store menu or the product page."""

    store = IdChoiceField(queryset=StorePage.objects.live(), widget=forms.HiddenInput)
    size = IdChoiceField(
        queryset=ProductSize.objects.filter(product__live=True).select_related("product"),
        label=_("Taille"),
        error_messages={"invalid_choice": _("Cette taille n'est pas à la carte.")},
    )
    quantity = forms.IntegerField(label=_("Quantité"), min_value=1, max_value=MAX_LINE_QUANTITY, initial=1)
    extras = IdMultipleChoiceField(
        queryset=ProductExtra.objects.all(),
        required=False,
        label=_("Options"),
        error_messages={
            "invalid_choice": _("Cette option n'existe pas."),
            "invalid_pk_value": _("Option inconnue."),
        },
    )

    def clean(self):
        data = super().clean()
        size, extras = data.get("size"), data.get("extras") or []
        if size is not None and any(extra.product_id != size.product_id for extra in extras):
            raise forms.ValidationError(_("Cette option n'existe pas pour ce produit."))
        return data

    def cart_line(self):
        data = self.cleaned_data
        return make_line(data["size"].id, data["quantity"], [extra.id for extra in data["extras"]])


class LineForm(forms.Form):
    """Change one cart line: a new quantity (0 removes it), or the remove button."""

    quantity = forms.IntegerField(
        label=_("Quantité"), min_value=0, max_value=MAX_LINE_QUANTITY, required=False
    )
    remove = forms.BooleanField(required=False)

    def clean(self):
        data = super().clean()
        if not data.get("remove") and data.get("quantity") is None:
            raise forms.ValidationError(_("Indiquez une quantité."))
        return data

    def new_quantity(self):
        return 0 if self.cleaned_data.get("remove") else self.cleaned_data["quantity"]


class StoreSwitchForm(forms.Form):
    store = IdChoiceField(
        queryset=StorePage.objects.live().order_by("title"), label=_("Pizzeria"), empty_label=None
    )


class PromoCodeForm(forms.Form):
    code = forms.CharField(label=_("Code promo"), max_length=40, required=False)


phone_validator = RegexValidator(
    r"^\+?[0-9 .()-]{10,20}$", _("Un numéro de téléphone, par exemple 06 12 34 56 78.")
)
postcode_validator = RegexValidator(r"^\d{5}$", _("Code postal à 5 chiffres."))
ASAP = "asap"


# A card token from the browser (Square's Web Payments SDK or the simulator's form): "cnon:…",
# "ccof:…"; the verification token of 3-D Secure: "verf:…". Never a card number.
card_token_validator = RegexValidator(r"^[A-Za-z0-9:_-]+$", _("Ce paiement n'est pas valable : réessayez."))


class SlotSelect(forms.Select):
    """A <select> whose options are drawn in Python: Django's Select draws each option through
    two included templates, which for the checkout's few hundred slots took about half of the
    page's CPU (docs/performance.md). The same HTML, whitespace aside."""

    def render(self, name, value, attrs=None, renderer=None):
        chosen = self.format_value(value)
        selected = chosen[0] if chosen else None  # one choice, as Django's Select: the first match
        options = []
        for key, label in self.choices:
            key = str(key)
            mark = " selected" if key == selected else ""
            if mark:
                selected = None
            options.append(f'<option value="{escape(key)}"{mark}>{conditional_escape(label)}</option>')
        attributes = flatatt(self.build_attrs(self.attrs, attrs))  # escaped by flatatt
        html = f'<select name="{escape(name)}"{attributes}>\n' + "\n".join(options) + "\n</select>"
        return mark_safe(html)  # noqa: S308 (every value and label above is escaped)


class SlotChoiceField(forms.ChoiceField):
    """The chosen time: the valid values are the slots' keys; their labels (a few hundred
    formatted dates) are worked out only if the field is shown. A placed order never shows it: its
    POST checked the key, not the labels (about 3 ms of an order's CPU). The slots themselves may
    be given as a function, called only when a slot's key is checked or the field is shown: "as
    soon as possible" needs none (the order takes its slot under the placing lock)."""

    widget = SlotSelect

    def set_slots(self, slots, asap_label=None):
        """`slots` {key: Slot}, or a function giving them (called once at most); `asap_label` None
        when "as soon as possible" is not offered, else its label or a function giving it."""
        self.slots = functools.cache(slots) if callable(slots) else (lambda: slots)
        self.offers_asap = asap_label is not None

        @functools.cache  # drawing the field asks for its choices twice (`use_required_attribute`)
        def choices():
            listed = self.slots()
            label = asap_label() if callable(asap_label) else asap_label
            asap = [(ASAP, label)] if self.offers_asap else []
            return asap + list(zip(listed, slot_labels(listed.values()), strict=True))

        self.choices = choices

    def valid_value(self, value):
        if value == ASAP:
            return self.offers_asap
        return value in self.slots()


class CardTokenFields(forms.Form):
    """The hidden fields the card form's script fills once the card is tokenised."""

    source_token = forms.CharField(
        widget=forms.HiddenInput, max_length=512, required=False, validators=[card_token_validator]
    )
    verification_token = forms.CharField(
        widget=forms.HiddenInput, max_length=512, required=False, validators=[card_token_validator]
    )


class CheckoutForm(CardTokenFields):
    """Contact, delivery or pickup, when, and how to pay. Choices come from the store's settings.

    With "card online" the card form's script adds the card's token: the order is placed and paid
    in one request. Without it (no JavaScript), the order waits for its payment on the pay page.
    """

    name = forms.CharField(label=_("Nom"), max_length=120)
    phone = forms.CharField(label=_("Téléphone"), max_length=20, validators=[phone_validator])
    email = forms.EmailField(label=_("Adresse e-mail"), max_length=254)
    # Chosen before the form (the page is priced for it): ?mode=delivery or ?mode=pickup.
    fulfilment = forms.ChoiceField(choices=Order.Fulfilment.choices, widget=forms.HiddenInput)
    saved_address = forms.TypedChoiceField(
        label=_("Adresse enregistrée"), coerce=int, required=False, empty_value=None
    )
    street_address = forms.CharField(label=_("Adresse"), max_length=200, required=False)
    postcode = forms.CharField(
        label=_("Code postal"), max_length=5, required=False, validators=[postcode_validator]
    )
    city = forms.CharField(label=_("Ville"), max_length=80, required=False)
    address_details = forms.CharField(
        label=_("Précisions (étage, code, interphone)"), max_length=200, required=False
    )
    when = SlotChoiceField(label=_("Heure"))
    payment_method = forms.ChoiceField(label=_("Paiement"), widget=forms.RadioSelect)
    # The payment's key is derived from it ("<key>-pay"), which must fit 64 characters too.
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=60, min_length=16)
    expected_total = forms.DecimalField(
        widget=forms.HiddenInput, max_digits=10, decimal_places=2, required=False
    )
    # The store the page was shown for: the cart may have moved to another one since (another tab).
    cart_store = forms.IntegerField(widget=forms.HiddenInput, required=False)

    # What the page itself writes, never typed: an error there means the page was altered.
    PAGE_FIELDS = ("fulfilment", "idempotency_key", "expected_total", "cart_store")
    CARD_FIELDS = ("source_token", "verification_token")

    @property
    def altered(self):
        """Whether a field the page or its card script wrote (hidden, so its error would show
        nowhere) was refused."""
        return any(name in self.errors for name in (*self.PAGE_FIELDS, *self.CARD_FIELDS))

    def __init__(
        self, *args, addresses=(), slots=(), asap_label="", offer_asap=True, payment_methods=(), **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.addresses = {address.id: address for address in addresses}
        if self.addresses:
            self.fields["saved_address"].choices = [("", _("Une autre adresse"))] + [
                (address.id, str(address_label(address))) for address in addresses
            ]
        else:
            del self.fields["saved_address"]

        # `slots` and `asap_label` may be functions (see SlotChoiceField): worked out when needed.
        def keyed_slots():
            return {slot.start.isoformat(): slot for slot in (slots() if callable(slots) else slots)}

        def label():
            return (asap_label() if callable(asap_label) else asap_label) or _("Dès que possible")

        # "As soon as possible" only while the store is open: closed, it takes a slot for later.
        self.fields["when"].set_slots(keyed_slots, label if offer_asap else None)
        self.fields["payment_method"].choices = [
            (value, label) for value, label in Order.PaymentMethod.choices if value in payment_methods
        ]

    def clean(self):
        data = super().clean()
        self.saved = None  # the chosen saved address (accounts.Address), with its coordinates
        if data.get("fulfilment") == Order.Fulfilment.DELIVERY:
            saved = self.addresses.get(data.get("saved_address")) if data.get("saved_address") else None
            self.saved = saved
            if saved is not None:
                data["street_address"], data["postcode"] = saved.street_address, saved.postcode
                data["city"] = saved.city
                data["address_details"] = data.get("address_details") or saved.details
            else:
                for field in ("street_address", "postcode", "city"):
                    if not data.get(field) and field not in self.errors:
                        self.add_error(field, _("Indiquez l'adresse de livraison."))
        return data

    @property
    def slots(self):
        """{key: Slot} of the slots offered."""
        return self.fields["when"].slots()

    @property
    def slot(self):
        """None for as soon as possible, else the chosen slot's aware start."""
        when = self.cleaned_data["when"]
        return None if when == ASAP else self.slots[when].start


def address_label(address):
    label = f"{address.street_address}, {address.postcode} {address.city}"
    return f"{address.label} — {label}" if getattr(address, "label", "") else label


def slot_labels(slots):
    """« lundi 30 novembre, 12:15 (prêt vers 12:35) » for each slot. The checkout lists two days
    of quarter hours, a few hundred slots, and formatting them took a quarter of its page's CPU:
    each label is kept by the process, per language and time zone (the same slots come back page
    after page)."""
    from django.utils import timezone, translation

    language, zone = translation.get_language(), timezone.get_current_timezone_name()
    # Kept by UTC time: two Paris times of the hour the clocks go back compare equal (fold aside).
    return [
        _slot_label(slot.start.astimezone(UTC), slot.promised_at.astimezone(UTC), language, zone)
        for slot in slots
    ]


@functools.lru_cache(maxsize=4096)  # a few days of slots of every store, in both languages
def _slot_label(start, promised_at, language, zone):
    from django.utils import formats, timezone, translation

    with translation.override(language), timezone.override(zone):
        start = timezone.localtime(start)
        return _("%(day)s, %(start)s (prêt vers %(promised)s)") % {
            "day": formats.date_format(start, "l j F"),
            "start": clock(start),
            "promised": clock(timezone.localtime(promised_at)),
        }


def clock(moment):
    """« 02:15 » of an aware Paris time; « 02:15 (UTC+1) » in the hour the clocks go back, which
    comes twice (the same wall-clock time an hour apart)."""
    text = moment.strftime("%H:%M")
    if moment.replace(fold=1 - moment.fold).utcoffset() != moment.utcoffset():
        text += f" (UTC{int(moment.utcoffset().total_seconds() // 3600):+d})"
    return text


class PaymentForm(CardTokenFields):
    """Pay an order waiting for its card payment: the token of the card form, a fresh key."""

    # Only a key of `new_idempotency_key`'s shape: payment keys are unique across all orders, and
    # the server derives others from order numbers ("<number>-handover-v1", refunds…), which a
    # posted key must never take from another order.
    idempotency_key = forms.CharField(
        widget=forms.HiddenInput, validators=[RegexValidator(r"\A[0-9a-f]{32}\Z")]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source_token"].required = True
        self.fields["source_token"].error_messages["required"] = _("Saisissez votre carte.")


class ChangeSlotForm(forms.Form):
    when = SlotChoiceField(label=_("Heure"))

    def __init__(self, *args, slots=(), asap_label="", **kwargs):
        super().__init__(*args, **kwargs)
        self.slots = {slot.start.isoformat(): slot for slot in slots}
        self.fields["when"].set_slots(self.slots, asap_label or _("Dès que possible"))


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Raison (facultatif)"), max_length=200, required=False)


class OrderTakingForm(CheckoutForm):
    """The staff's order taking (phone or counter): the checkout's fields and rules, with the
    channel, an optional e-mail, a pickup or a delivery chosen on the form, and the payment on
    delivery or at the counter only (`payment_methods`: the store's accepted on-site methods).

    `customer` (the picked customer) and `located` (the coordinates of the address located last)
    are signed values (`ordering.taking`); the lines are posted beside the form
    (`ordering.views.taking.posted_lines`)."""

    source = forms.ChoiceField(
        label=_("Canal"),
        choices=[(Order.Source.PHONE, _("Au téléphone")), (Order.Source.COUNTER, _("Au comptoir"))],
        widget=forms.RadioSelect,
        initial=Order.Source.PHONE,
    )
    lookup = forms.CharField(label=_("Numéro de téléphone du client"), max_length=30, required=False)
    customer = forms.CharField(widget=forms.HiddenInput, required=False, max_length=4000)
    located = forms.CharField(widget=forms.HiddenInput, required=False, max_length=1000)

    field_order = ["source", "lookup", "name", "phone", "email", "fulfilment"]

    def __init__(self, *args, delivers=True, **kwargs):
        kwargs.setdefault("addresses", ())
        super().__init__(*args, **kwargs)
        for name in ("cart_store", "source_token", "verification_token"):
            del self.fields[name]
        self.fields["email"].required = False
        self.fields["email"].label = _("Adresse e-mail (facultative)")
        self.fields["fulfilment"].widget = forms.RadioSelect()
        self.fields["fulfilment"].label = _("Livraison ou retrait")
        self.fields["fulfilment"].choices = [
            (value, label)
            for value, label in Order.Fulfilment.choices
            if delivers or value == Order.Fulfilment.PICKUP
        ]
        self.fields["payment_method"].error_messages["required"] = _("Choisissez le moyen de paiement.")
