import json

from allauth.account import views as allauth_views
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, logout
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from wagtail.admin.views import account as wagtail_account_views

from stores.access import staff_accounts

from .forms import AddressForm, ChangePasswordForm, DeleteAccountForm, ProfileForm
from .models import Address
from .personal_data import delete_account, export_personal_data
from .ratelimit import over_limit
from .security import client_ip

TOO_MANY_REQUESTS = 429
RESET_LIMITED = gettext_lazy(
    "Trop de demandes de réinitialisation depuis votre connexion ou pour cette adresse e-mail. "
    "Réessayez dans une heure."
)
SIGNUP_LIMITED = gettext_lazy(
    "Trop de créations de compte depuis votre connexion ou pour cette adresse e-mail. "
    "Réessayez dans une heure."
)


class SignupView(allauth_views.SignupView):
    """allauth's sign-up, limited per hour per address and per e-mail (`accounts/ratelimit.py`).

    A known e-mail gets the same answer as a new one (allauth's enumeration prevention: the
    "confirmation sent" page, and a mail to the owner), so the limit only slows down mass sign-ups
    and mail bombing. Counted before validation.
    """

    def post(self, request, *args, **kwargs):
        if over_limit(
            "signup",
            limit=settings.SIGNUP_LIMIT_PER_HOUR,
            ip=client_ip(request),
            email=request.POST.get("email", ""),
        ):
            # Not validated; the input (passwords aside) is kept.
            fields = ["email", "first_name", "last_name", "phone"]
            form = self.get_form_class()(initial={name: request.POST.get(name, "") for name in fields})
            context = self.get_context_data(form=form, limit_error=SIGNUP_LIMITED)
            return self.render_to_response(context, status=TOO_MANY_REQUESTS)
        return super().post(request, *args, **kwargs)


EMAIL_CHANGE_LIMITED = gettext_lazy(
    "Trop de demandes de changement d’adresse e-mail depuis votre connexion ou pour ce compte. "
    "Réessayez dans une heure."
)


class EmailView(allauth_views.EmailView):
    """allauth's e-mail change; each request that mails a confirmation counts against an hourly limit
    per address and per account, so an account cannot be used to mail strangers in bulk."""

    def post(self, request, *args, **kwargs):
        sends_mail = "action_add" in request.POST or "action_send" in request.POST
        if sends_mail and over_limit(
            "email_change",
            limit=settings.EMAIL_CHANGE_LIMIT_PER_HOUR,
            ip=client_ip(request),
            email=str(request.user.pk),
        ):
            form = self.get_form_class()(user=request.user, initial={"email": request.POST.get("email", "")})
            context = self.get_context_data(form=form, limit_error=EMAIL_CHANGE_LIMITED)
            return self.render_to_response(context, status=TOO_MANY_REQUESTS)
        return super().post(request, *args, **kwargs)


class PasswordChangeView(allauth_views.PasswordChangeView):
    """allauth's password change; the form checks the current password through the lockout."""

    def get_form_class(self):
        return ChangePasswordForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}


class ConfirmEmailView(allauth_views.ConfirmEmailView):
    """allauth's e-mail confirmation, refused for an address that is already another account's
    login. allauth only checks its own verified rows; an account head office made in the admin has
    none, an unconfirmed sign-up an unverified one, and the user model's unique e-mail then failed."""

    def post(self, *args, **kwargs):
        self.object = self.get_object()
        if _login_of_another_account(self.object.email_address):
            return self.render_to_response(self.get_context_data())
        return super().post(*args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.object and _login_of_another_account(self.object.email_address):
            context["can_confirm"] = False
        return context


def _login_of_another_account(email_address):
    users = get_user_model().objects.filter(email__iexact=email_address.email)
    return users.exclude(pk=email_address.user_id).exists()


class RateLimitedPasswordResetMixin:
    """Send at most PASSWORD_RESET_LIMIT_PER_HOUR reset mails per address and per e-mail.

    The limit answers the same whether or not the e-mail has an account (no enumeration).
    """

    def form_valid(self, form):
        if over_limit(
            "password_reset",
            limit=settings.PASSWORD_RESET_LIMIT_PER_HOUR,
            ip=client_ip(self.request),
            email=form.cleaned_data["email"],
        ):
            form.add_error(None, RESET_LIMITED)
            return self.render_to_response(self.get_context_data(form=form), status=TOO_MANY_REQUESTS)
        return super().form_valid(form)


class PasswordResetView(RateLimitedPasswordResetMixin, allauth_views.PasswordResetView):
    """The customer's « Mot de passe oublié » (allauth's)."""


class AdminPasswordResetView(RateLimitedPasswordResetMixin, wagtail_account_views.PasswordResetView):
    """Wagtail's « Forgotten password? », mounted over Wagtail's own URL in `ocpizza/urls.py`."""


@login_required
@require_http_methods(["GET", "POST"])
def account(request):
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Vos informations ont été enregistrées."))
        return redirect("accounts:account")
    context = {"form": form, "addresses": request.user.addresses.all()}
    return render(request, "accounts/account.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def address_edit(request, pk=None):
    address = get_object_or_404(Address, pk=pk, user=request.user) if pk else Address(user=request.user)
    form = AddressForm(request.POST or None, instance=address)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("L’adresse est enregistrée."))
        return redirect("accounts:account")
    return render(request, "accounts/address_form.html", {"form": form, "address": address})


@login_required
@require_http_methods(["GET", "POST"])
def address_delete(request, pk):
    address = get_object_or_404(Address, pk=pk, user=request.user)
    if request.method == "POST":
        address.delete()
        messages.success(request, _("L’adresse est supprimée."))
        return redirect("accounts:account")
    return render(request, "accounts/address_delete.html", {"address": address})


@login_required
@require_POST
def address_default(request, pk):
    address = get_object_or_404(Address, pk=pk, user=request.user)
    address.is_default = True
    address.save()
    messages.success(request, _("C’est maintenant votre adresse par défaut."))
    return redirect("accounts:account")


@login_required
@require_GET
def personal_data(request):
    data = export_personal_data(request.user)
    body = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    day = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="oc-pizza-mes-donnees-{day}.json"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def delete(request):
    user = request.user
    if staff_accounts().filter(pk=user.pk).exists():
        # A staff account is closed by head office in the admin, which keeps its traces consistent.
        return render(request, "accounts/delete.html", {"staff": True}, status=403)
    form = DeleteAccountForm(user, request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        delete_account(user)
        logout(request)
        return redirect("accounts:deleted")
    return render(request, "accounts/delete.html", {"form": form})


def deleted(request):
    return render(request, "accounts/deleted.html")
