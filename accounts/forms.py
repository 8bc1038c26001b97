from allauth.account.adapter import get_adapter
from allauth.account.forms import ChangePasswordForm as AllauthChangePasswordForm
from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
from django.contrib.auth import authenticate
from django.utils.translation import gettext_lazy as _

from stores.geo import GeoError, get_geocoder
from stores.models import StorePage

from .models import Address, User
from .personal_data import deletion_blockers


def password_is_right(request, user, password):
    """Whether `password` is `user`'s, checked through `authenticate(request, ...)` so that a wrong
    guess counts against django-axes' lockout like a failed login (a signed-in session must not
    guess the password unboundedly on the pages that ask for it again)."""
    checked = authenticate(request, email=user.email, password=password)
    return checked is not None and checked.pk == user.pk


class SignupForm(AllauthSignupForm):
    """allauth's sign-up (e-mail, password twice) plus the customer's name and phone."""

    first_name = forms.CharField(label=_("Prénom"), max_length=150)
    last_name = forms.CharField(label=_("Nom"), max_length=150)
    phone = forms.CharField(label=_("Téléphone"), max_length=20, required=False)

    field_order = ["email", "first_name", "last_name", "phone", "password1", "password2"]

    def custom_signup(self, request, user):
        # allauth's adapter has saved the e-mail and the names; the phone is ours.
        user.phone = self.cleaned_data.get("phone", "")
        user.save(update_fields=["phone"])
        super().custom_signup(request, user)


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["first_name", "last_name", "phone", "preferred_store"]
        labels = {"first_name": _("Prénom"), "last_name": _("Nom")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["preferred_store"]
        field.queryset = StorePage.objects.live().order_by("title")
        field.empty_label = _("Aucune")
        field.help_text = _("Nous vous la proposons en premier quand vous commandez.")


class AddressForm(forms.ModelForm):
    """A saved delivery address, geocoded here once (`stores.geo`): the address is kept as the
    geocoder normalised it, with its coordinates, so the checkout does not look it up again.

    An address the geocoder refuses (digits only, another script, not found, ambiguous) is not
    saved; its French message is shown on the form with what was typed.
    """

    ADDRESS_FIELDS = ("street_address", "postcode", "city")

    class Meta:
        model = Address
        fields = ["label", "street_address", "postcode", "city", "details", "is_default"]

    def clean(self):
        data = super().clean()
        if any(field in self.errors for field in self.ADDRESS_FIELDS):
            return data
        instance = self.instance
        unchanged = instance.pk is not None and all(
            data.get(field) == getattr(instance, field) for field in self.ADDRESS_FIELDS
        )
        if unchanged and instance.latitude is not None:
            return data  # already geocoded: moving the default or renaming costs no lookup
        text = "{street_address}, {postcode} {city}".format(
            **{f: data.get(f, "") for f in self.ADDRESS_FIELDS}
        )
        try:
            place = get_geocoder().geocode(text)
        except GeoError as error:
            self.add_error("street_address", error.message)
            return data
        street = data["street_address"]
        if place.postcode and f", {place.postcode}" in place.address:
            street = place.address.split(f", {place.postcode}")[0].strip(" ,") or street
        data["street_address"] = street[: Address._meta.get_field("street_address").max_length]
        data["postcode"] = place.postcode or data["postcode"]
        data["city"] = place.city or data["city"]
        instance.latitude, instance.longitude = place.latitude, place.longitude
        return data


class DeleteAccountForm(forms.Form):
    password = forms.CharField(
        label=_("Votre mot de passe"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, user, *args, request, **kwargs):
        self.user = user
        self.request = request
        super().__init__(*args, **kwargs)

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not password_is_right(self.request, self.user, password):
            raise forms.ValidationError(_("Ce mot de passe n’est pas le bon."))
        return password

    def clean(self):
        for reason in deletion_blockers(self.user):
            self.add_error(None, reason)
        return super().clean()


class ChangePasswordForm(AllauthChangePasswordForm):
    """allauth's password change, whose current-password check counts against the lockout."""

    def __init__(self, *args, request, **kwargs):
        self.request = request
        super().__init__(*args, **kwargs)

    def clean_oldpassword(self):
        password = self.cleaned_data.get("oldpassword", "")
        if not password_is_right(self.request, self.user, password):
            raise get_adapter().validation_error("enter_current_password")
        return password
