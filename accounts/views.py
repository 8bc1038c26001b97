from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from wagtail.admin.views import account as wagtail_account_views

from .forms import ProfileForm, SignupForm
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


@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("accounts:account")
    form = SignupForm(request.POST or None)
    if request.method == "POST":
        # Counted before validation: probing which e-mails have an account is limited as well.
        if over_limit(
            "signup",
            limit=settings.SIGNUP_LIMIT_PER_HOUR,
            ip=client_ip(request),
            email=request.POST.get("email", ""),
        ):
            # Not validated: whether the e-mail is taken stays unsaid. The input is kept.
            form = SignupForm(initial={name: request.POST.get(name, "") for name in SignupForm.Meta.fields})
            context = {"form": form, "limit_error": SIGNUP_LIMITED}
            return render(request, "accounts/signup.html", context, status=TOO_MANY_REQUESTS)
        if form.is_valid():
            user = form.save()
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Bienvenue chez OC Pizza ! Votre compte est créé."))
            return redirect("accounts:account")
    return render(request, "accounts/signup.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def account(request):
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Vos informations ont été enregistrées."))
        return redirect("accounts:account")
    return render(request, "accounts/account.html", {"form": form})


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


class PasswordResetView(RateLimitedPasswordResetMixin, auth_views.PasswordResetView):
    """The customer's « Mot de passe oublié »."""


class AdminPasswordResetView(RateLimitedPasswordResetMixin, wagtail_account_views.PasswordResetView):
    """Wagtail's « Forgotten password? », mounted over Wagtail's own URL in `ocpizza/urls.py`."""
