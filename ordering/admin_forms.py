"""Forms of the orders admin: they parse and check what staff type; the services do the writing.

The only amounts ever read from a form are the ones a member of staff types (a refund, the cash
handed over): euros with at most two decimals, positive, « 27,50 » or « 27.50 ».
"""

import re
from decimal import Decimal, InvalidOperation

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from menu.templatetags.menu_tags import euros
from stores.forms import DateInput

from .models import Order
from .search import search_orders

AMOUNT_PATTERN = re.compile(r"[0-9]{1,8}([.,][0-9]{1,2})?", flags=re.ASCII)


class MoneyField(forms.Field):
    """An amount in euros typed by staff: « 27,50 », « 27.50 », « 27,50 € »; two decimals at most,
    more than zero. Cleans to a Decimal quantized to the cent."""

    default_error_messages = {
        "invalid": _("Saisissez un montant en euros, par exemple 27,50."),
        "decimals": _("Un montant a au plus deux chiffres après la virgule."),
        "not_positive": _("Le montant doit être supérieur à zéro."),
    }

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("inputmode", "decimal")
        self.widget.attrs.setdefault("autocomplete", "off")

    def to_python(self, value):
        if value in self.empty_values:
            return None
        text = str(value).strip().replace("\u00a0", "").replace(" ", "").removesuffix("€")
        if re.fullmatch(r"[0-9]{1,8}[.,][0-9]{3,}", text, flags=re.ASCII):
            raise forms.ValidationError(self.error_messages["decimals"], code="decimals")
        if not AMOUNT_PATTERN.fullmatch(text):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        try:
            amount = Decimal(text.replace(",", ".")).quantize(Decimal("0.01"))
        except InvalidOperation:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        if amount <= 0:
            raise forms.ValidationError(self.error_messages["not_positive"], code="not_positive")
        return amount

    def prepare_value(self, value):
        if isinstance(value, Decimal):
            return f"{value:.2f}".replace(".", ",")
        return value


REASON_ERRORS = {
    "required": _("Indiquez le motif."),
    "max_length": _("Le motif tient en %(limit_value)d caractères au plus."),
}


FORM_EXPIRED = _("Ce formulaire n'est plus valable : rechargez la page.")


class RefundForm(forms.Form):
    """Give back part or all of what the customer paid online, with a reason.

    `refundable` is what may still be refunded (Decimal): an empty amount means all of it."""

    amount = MoneyField(
        label=_("Montant à rembourser"),
        required=False,
        help_text=_("Laissez vide pour rembourser tout ce qui peut l'être."),
    )
    reason = forms.CharField(label=_("Motif"), max_length=200, error_messages=REASON_ERRORS)
    # One key per form shown: the same form posted twice refunds once (services.refund_order).
    key = forms.CharField(
        widget=forms.HiddenInput,
        min_length=16,
        max_length=40,
        error_messages={"required": FORM_EXPIRED, "min_length": FORM_EXPIRED, "max_length": FORM_EXPIRED},
    )

    def __init__(self, *args, refundable, **kwargs):
        super().__init__(*args, **kwargs)
        self.refundable = refundable
        self.fields["amount"].widget.attrs["placeholder"] = f"{refundable:.2f}".replace(".", ",")

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(REASON_ERRORS["required"], code="required")
        return reason

    def clean_key(self):
        key = self.cleaned_data["key"]
        if not re.fullmatch(r"[A-Za-z0-9_-]+", key, flags=re.ASCII):
            raise forms.ValidationError(FORM_EXPIRED)
        return key

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if self.refundable <= 0:
            raise forms.ValidationError(_("Il ne reste rien à rembourser sur cette commande."))
        if amount is not None and amount > self.refundable:
            raise forms.ValidationError(
                _("Vous pouvez rembourser au plus %(amount)s.") % {"amount": euros(self.refundable)}
            )
        return amount


HAND_OVER_METHODS = [
    Order.PaymentMethod.CASH,
    Order.PaymentMethod.CARD_TERMINAL,
    Order.PaymentMethod.MEAL_VOUCHER,
    Order.PaymentMethod.CHEQUE,
]

EXACT_AMOUNT_METHODS = [Order.PaymentMethod.CARD_TERMINAL, Order.PaymentMethod.CHEQUE]


class RecordPaymentForm(forms.Form):
    """A payment handed over to the driver or at the counter: its method and the amount received.

    `due` is what the order still owes; `refusal`, when given, why nothing may be recorded now.
    Cash may exceed the amount due (the change is given back), meal vouchers too (no change is
    given on vouchers); a card terminal or a cheque is of the amount due exactly."""

    method = forms.ChoiceField(
        label=_("Moyen de paiement"),
        choices=[(method.value, method.label) for method in HAND_OVER_METHODS],
        error_messages={
            "required": _("Choisissez le moyen de paiement."),
            "invalid_choice": _("Moyen de paiement inconnu."),
        },
    )
    amount_received = MoneyField(
        label=_("Montant reçu"), error_messages={"required": _("Indiquez le montant reçu.")}
    )

    def __init__(self, *args, due, refusal="", **kwargs):
        super().__init__(*args, **kwargs)
        self.due = due
        self.refusal = refusal  # why no payment may be recorded for the order now, if so

    def clean(self):
        data = super().clean()
        method, received = data.get("method"), data.get("amount_received")
        if self.refusal:
            raise forms.ValidationError(self.refusal)
        if method is None or received is None:
            return data
        if received < self.due:
            self.add_error(
                "amount_received",
                _("Le montant reçu est inférieur au montant dû (%(due)s).") % {"due": euros(self.due)},
            )
        elif received > self.due and method in EXACT_AMOUNT_METHODS:
            self.add_error(
                "amount_received",
                _("Par carte ou par chèque, le montant reçu est le montant dû (%(due)s).")
                % {"due": euros(self.due)},
            )
        return data

    @property
    def change(self):
        """The change to give back (cash only), once the form is valid."""
        data = self.cleaned_data
        if data["method"] != Order.PaymentMethod.CASH:
            return Decimal("0.00")
        return data["amount_received"] - self.due


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Motif de l'annulation"), max_length=200, error_messages=REASON_ERRORS)

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(REASON_ERRORS["required"], code="required")
        return reason


def _choice(label, choices, everything, unknown):
    return forms.ChoiceField(
        label=label,
        required=False,
        choices=[("", everything), *choices],
        error_messages={"invalid_choice": unknown},
    )


class OrderFilterForm(forms.Form):
    """The filters and the search box of the orders list (and of its CSV export). Each filter is
    one entry of `FILTERS` (name → function of the form, the queryset and the cleaned value), so
    a new filter is a field and one entry. `now` is the time « late » is measured against (now
    by default)."""

    q = forms.CharField(
        label=_("Recherche"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": _("Numéro, nom, téléphone, e-mail")}),
        error_messages={"max_length": _("La recherche tient en %(limit_value)d caractères au plus.")},
    )
    store = forms.ModelChoiceField(
        queryset=None,
        label=_("Point de vente"),
        required=False,
        empty_label=_("Tous les points de vente"),
        error_messages={"invalid_choice": _("Point de vente inconnu.")},
    )
    day = forms.DateField(
        label=_("Jour"),
        required=False,
        widget=DateInput,
        error_messages={"invalid": _("Saisissez une date valide.")},
    )
    status = _choice(_("État"), Order.Status.choices, _("Tous"), _("État inconnu."))
    source = _choice(_("Canal"), Order.Source.choices, _("Tous les canaux"), _("Canal inconnu."))
    payment_method = _choice(
        _("Moyen de paiement"),
        Order.PaymentMethod.choices,
        _("Tous les moyens"),
        _("Moyen de paiement inconnu."),
    )
    payment_state = _choice(_("Paiement"), [], _("Tous"), _("État de paiement inconnu."))
    late = forms.BooleanField(label=_("En retard seulement"), required=False)

    def __init__(self, *args, stores, payment_states, now=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = stores
        self.fields["payment_state"].choices = [("", _("Tous")), *payment_states]
        self.now = now

    FILTERS = {
        "q": lambda form, orders, value: search_orders(orders, value),
        "store": lambda form, orders, value: orders.filter(store=value),
        "day": lambda form, orders, value: orders.filter(created_at__date=value),
        "status": lambda form, orders, value: orders.filter(status=value),
        "source": lambda form, orders, value: orders.filter(source=value),
        "payment_method": lambda form, orders, value: orders.filter(payment_method=value),
        "payment_state": lambda form, orders, value: orders.filter(payment_state_value=value),
        "late": lambda form, orders, value: orders.late(form.now or timezone.now()),
    }

    def filter(self, orders):
        """`orders` narrowed by the filters; none while a filter is invalid (its error shows).
        `orders` must be annotated `with_payment_state()`."""
        if not self.is_bound:
            return orders
        if not self.is_valid():
            return orders.none()
        for name, apply in self.FILTERS.items():
            value = self.cleaned_data.get(name)
            if value not in (None, "", False):
                orders = apply(self, orders, value)
        return orders

    @property
    def is_filtered(self):
        """True when the user typed or chose anything (the list then offers to reset)."""
        return self.is_bound and any(self.data.get(name) for name in self.fields)
