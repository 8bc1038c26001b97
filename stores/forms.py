"""Forms of the stock screens: they parse and check input; the services do the writing."""

import datetime
import re
import secrets

from django import forms
from django.utils.translation import gettext_lazy as _

from menu.models import Ingredient

from .geo import InvalidAddress, clean_address
from .models import MAX_LINE_QUANTITY, OnSitePayment, StockMovement, StoreClosure, StoreOrderingSettings

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", flags=re.ASCII)
WHOLE_NUMBER = re.compile(r"[+-]?\d{1,100}", flags=re.ASCII)


class DateInput(forms.DateInput):
    """The browser's date picker (`type="date"`, ISO dates). A value it could not have sent (typed
    into the URL, say) is not written back into it, which HTML forbids: the error says why."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")

    def format_value(self, value):
        if isinstance(value, str) and not ISO_DATE.fullmatch(value.strip()):
            return None
        return super().format_value(value)


class WholeNumberInput(forms.NumberInput):
    """A number input that writes back only a number (a forged "beaucoup" is refused by the
    field's error, not echoed into `type="number"`, which HTML forbids)."""

    def format_value(self, value):
        if isinstance(value, str) and not WHOLE_NUMBER.fullmatch(value.strip()):
            return None
        return super().format_value(value)


QUANTITY_ERRORS = {
    "invalid": _("La quantité doit être un nombre entier."),
    "required": _("Indiquez une quantité."),
    "max_value": _("La quantité ne peut pas dépasser %(limit_value)s."),
}


class QuantityField(forms.IntegerField):
    """A whole number of units, at most MAX_LINE_QUANTITY; never a 500 on a huge or odd number."""

    widget = WholeNumberInput

    def __init__(self, **kwargs):
        kwargs.setdefault("max_value", MAX_LINE_QUANTITY)
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("inputmode", "numeric")

    def to_python(self, value):
        # IntegerField would accept "١٢" (Arabic-Indic digits) or pass a 4,000-digit string to
        # int(); only plain digits, and a bounded number of them, reach the bound check.
        if isinstance(value, str):
            value = value.strip()
            if value and not re.fullmatch(r"[+-]?[0-9]{1,100}", value, flags=re.ASCII):
                raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class IngredientLineForm(forms.Form):
    """One line of a delivery or of a waste record: an ingredient and a positive quantity."""

    ingredient = forms.ModelChoiceField(
        Ingredient.objects.order_by("name"),
        label=_("Ingrédient"),
        error_messages={
            "invalid_choice": _("Ingrédient inconnu."),
            "required": _("Choisissez un ingrédient."),
        },
    )
    quantity = QuantityField(
        label=_("Quantité"),
        min_value=1,
        error_messages={**QUANTITY_ERRORS, "min_value": _("La quantité doit être positive.")},
    )


class BaseLinesFormSet(forms.BaseFormSet):
    def clean(self):
        super().clean()
        if any(self.errors):
            return
        if not self.lines():
            raise forms.ValidationError(_("Saisissez au moins une ligne."))

    def lines(self):
        return [
            (form.cleaned_data["ingredient"], form.cleaned_data["quantity"])
            for form in self.forms
            if form.cleaned_data
        ]


IngredientLinesFormSet = forms.formset_factory(IngredientLineForm, formset=BaseLinesFormSet, extra=8)


class SubmittedOnceForm(forms.Form):
    """A form whose post must be recorded once: it carries a random token drawn when it is shown
    (`new_token`), which the view claims (`StockFormSubmission`) in the same transaction as the
    write. A second post of the same form — a double click, the back button — finds it taken."""

    submission = forms.RegexField(
        regex=r"^[A-Za-z0-9_-]{16,64}$",
        widget=forms.HiddenInput,
        error_messages={
            "required": _("Ce formulaire n'est plus valide : rechargez la page."),
            "invalid": _("Ce formulaire n'est plus valide : rechargez la page."),
        },
    )

    @staticmethod
    def new_token():
        return secrets.token_urlsafe(24)


class RestockForm(SubmittedOnceForm):
    supplier = forms.CharField(label=_("Fournisseur"), max_length=200, required=False)


class WasteForm(SubmittedOnceForm):
    reason = forms.CharField(label=_("Motif"), max_length=200, required=False)


class PerIngredientForm(forms.Form):
    """One optional whole-number field per ingredient (`field_<id>`); blank means "not entered"."""

    def __init__(self, *args, ingredients, initial_values=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.ingredients = list(ingredients)
        initial_values = initial_values or {}
        for ingredient in self.ingredients:
            self.fields[f"field_{ingredient.id}"] = QuantityField(
                label=ingredient.name,
                min_value=0,
                required=False,
                initial=initial_values.get(ingredient.id),
                error_messages={**QUANTITY_ERRORS, "min_value": _("La quantité ne peut pas être négative.")},
            )

    def rows(self):
        return [(ingredient, self[f"field_{ingredient.id}"]) for ingredient in self.ingredients]

    def entered(self):
        """[(ingredient, value)] for the fields filled in."""
        return [
            (ingredient, self.cleaned_data[f"field_{ingredient.id}"])
            for ingredient in self.ingredients
            if self.cleaned_data.get(f"field_{ingredient.id}") is not None
        ]

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not self.entered():
            raise forms.ValidationError(_("Saisissez au moins une quantité."))
        return cleaned


class MovementFilterForm(forms.Form):
    store = forms.ModelChoiceField(queryset=None, label=_("Point de vente"), required=False)
    ingredient = forms.ModelChoiceField(
        Ingredient.objects.order_by("name"), label=_("Ingrédient"), required=False
    )
    kind = forms.ChoiceField(
        label=_("Type"), required=False, choices=[("", "---------"), *StockMovement.Kind.choices]
    )
    date_from = forms.DateField(label=_("Du"), required=False, widget=DateInput)
    date_to = forms.DateField(label=_("Au"), required=False, widget=DateInput)

    def __init__(self, *args, stores, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = stores

    def filter(self, movements):
        """`movements` narrowed by the filters; none while a filter is invalid (its error shows)."""
        if not self.is_valid():
            return movements.none()
        data = self.cleaned_data
        if data["store"]:
            movements = movements.filter(store=data["store"])
        if data["ingredient"]:
            movements = movements.filter(ingredient=data["ingredient"])
        if data["kind"]:
            movements = movements.filter(kind=data["kind"])
        if data["date_from"]:
            movements = movements.filter(created_at__date__gte=data["date_from"])
        if data["date_to"]:
            movements = movements.filter(created_at__date__lte=data["date_to"])
        return movements


class FoodCostPeriodForm(forms.Form):
    """The days of an expected-against-actual use report (Europe/Paris), this month by default."""

    date_from = forms.DateField(label=_("Du"), widget=DateInput)
    date_to = forms.DateField(label=_("Au"), widget=DateInput)
    # Beyond these the report's day arithmetic would leave the calendar (a 500, not an answer).
    first_day, last_day = datetime.date(2000, 1, 1), datetime.date(2100, 12, 31)

    def __init__(self, data=None, *, today):
        if not data or not {"date_from", "date_to"} & set(data):
            data = {"date_from": today.replace(day=1).isoformat(), "date_to": today.isoformat()}
        super().__init__(data)

    def clean(self):
        data = super().clean()
        for name in ("date_from", "date_to"):
            if data.get(name) and not self.first_day <= data[name] <= self.last_day:
                self.add_error(name, _("Choisissez une date entre 2000 et 2100."))
                data.pop(name, None)
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise forms.ValidationError(_("La date de début doit précéder la date de fin."))
        return data


class OrderingSettingsForm(forms.ModelForm):
    """A store's ordering settings. Only head office changes the prefix of order numbers
    (`can_change_prefix`): it names the store's orders for good."""

    accepted_payments = forms.MultipleChoiceField(
        label=_("Paiements acceptés à la livraison ou au retrait"),
        choices=OnSitePayment.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        error_messages={"invalid_choice": _("Moyen de paiement inconnu : %(value)s.")},
    )

    class Meta:
        model = StoreOrderingSettings
        fields = [
            "accepts_orders",
            "order_prefix",
            "minimum_order",
            "delivery_fee",
            "free_delivery_from",
            "lead_time_minutes",
            "delivery_minutes",
            "slot_capacity",
            "accepted_payments",
            "online_payment",
        ]
        error_messages = {
            "order_prefix": {"unique": _("Ce préfixe est déjà celui d'un autre point de vente.")}
        }

    def __init__(self, *args, can_change_prefix=True, **kwargs):
        super().__init__(*args, **kwargs)
        if not can_change_prefix:
            self.fields["order_prefix"].disabled = True
            self.fields["order_prefix"].help_text = _(
                "Seul le siège change le préfixe des numéros de commande."
            )
        # The bounds are the model's validators (checked on save); the browser shows them too.
        for name in ("minimum_order", "delivery_fee", "free_delivery_from"):
            self.fields[name].widget.attrs["min"] = "0"
        for name in ("lead_time_minutes", "delivery_minutes"):
            self.fields[name].widget.attrs["max"] = "240"
        self.fields["slot_capacity"].widget.attrs["min"] = "1"

    def clean_order_prefix(self):
        return (self.cleaned_data.get("order_prefix") or "").strip().upper()

    def clean_accepted_payments(self):
        chosen = set(self.cleaned_data.get("accepted_payments") or [])
        return [code for code in OnSitePayment.values if code in chosen]  # in the usual order


class StoreClosureForm(forms.ModelForm):
    class Meta:
        model = StoreClosure
        fields = ["starts_on", "ends_on", "message"]
        widgets = {
            "starts_on": DateInput,
            "ends_on": DateInput,
        }


COORDINATE_ERRORS = {
    "invalid": _("Position non valide."),
    "min_value": _("Position non valide."),
    "max_value": _("Position non valide."),
    "max_digits": _("Position non valide."),
    "max_decimal_places": _("Position non valide."),
    "max_whole_digits": _("Position non valide."),
}


class LocatorForm(forms.Form):
    """The store locator's search (GET): an address, or the position the browser gave.

    The address is checked by `stores.geo.clean_address` (French messages); geocoding it is the
    caller's (`stores.locator`). With both, the address wins.
    """

    adresse = forms.CharField(label=_("Votre adresse"), required=False, strip=False)
    lat = forms.DecimalField(
        required=False,
        min_value=-90,
        max_value=90,
        max_digits=9,
        decimal_places=6,
        error_messages=COORDINATE_ERRORS,
        widget=forms.HiddenInput,
    )
    lng = forms.DecimalField(
        required=False,
        min_value=-180,
        max_value=180,
        max_digits=9,
        decimal_places=6,
        error_messages=COORDINATE_ERRORS,
        widget=forms.HiddenInput,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["adresse"].widget.attrs.update(
            {"autocomplete": "address-line1", "placeholder": _("12 rue Victor Hugo, 69002 Lyon")}
        )

    def clean_adresse(self):
        text = self.cleaned_data["adresse"]
        if not (text or "").strip():
            return ""
        try:
            return clean_address(text)
        except InvalidAddress as error:
            raise forms.ValidationError(error.message) from None

    def clean(self):
        cleaned_data = super().clean()
        if cleaned_data.get("adresse"):
            self.errors.pop("lat", None)
            self.errors.pop("lng", None)
            return cleaned_data
        lat, lng = cleaned_data.get("lat"), cleaned_data.get("lng")
        if "lat" in self.errors or "lng" in self.errors or (lat is None) != (lng is None):
            self.errors.pop("lat", None)
            self.errors.pop("lng", None)
            raise forms.ValidationError(_("Votre position n'a pas pu être lue : saisissez votre adresse."))
        return cleaned_data
