from django import forms
from django.contrib.auth.forms import BaseUserCreationForm
from django.utils.translation import gettext_lazy as _

from .models import User


class SignupForm(BaseUserCreationForm):
    """Customer sign-up with e-mail, name and phone."""

    class Meta:
        model = User
        fields = ["email", "first_name", "last_name", "phone"]
        labels = {"first_name": _("Prénom"), "last_name": _("Nom")}

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(_("Un compte existe déjà avec cette adresse e-mail."))
        return email


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["first_name", "last_name", "phone"]
        labels = {"first_name": _("Prénom"), "last_name": _("Nom")}
