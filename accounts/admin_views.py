"""The superusers' screen of login attempts and lockouts, with an « unlock » button."""

from axes.models import AccessFailureLog
from django.contrib import messages
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView, View
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from .security import LOCK_KINDS, current_lockouts, unlock

RECENT_FAILURES = 100


class SuperuserOnlyMixin:
    """403 for anyone but a superuser (Wagtail would turn PermissionDenied into a redirect)."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_superuser:
            return TemplateResponse(request, "accounts/admin/forbidden.html", status=403)
        return super().dispatch(request, *args, **kwargs)


class LoginAttemptsView(SuperuserOnlyMixin, WagtailAdminTemplateMixin, TemplateView):
    page_title = gettext_lazy("Tentatives de connexion")
    header_icon = "lock"
    template_name = "accounts/admin/login_attempts.html"

    def get_context_data(self, **kwargs):
        failures = AccessFailureLog.objects.order_by("-attempt_time")[:RECENT_FAILURES]
        return super().get_context_data(
            lockouts=current_lockouts(), failures=failures, recent_failures=RECENT_FAILURES, **kwargs
        )


class UnlockView(SuperuserOnlyMixin, View):
    http_method_names = ["post"]

    def post(self, request):
        kind, value = request.POST.get("kind", ""), request.POST.get("value", "").strip()
        if kind not in LOCK_KINDS or not value:
            return HttpResponseBadRequest(
                _("Indiquez une adresse ou un compte à débloquer."), content_type="text/plain; charset=utf-8"
            )
        unlock(kind=kind, value=value, user=request.user)
        if kind == "ip_address":
            messages.success(request, _("L’adresse %(value)s est débloquée.") % {"value": value})
        else:
            messages.success(request, _("Le compte %(value)s est débloqué.") % {"value": value})
        return redirect("accounts_login_attempts")
