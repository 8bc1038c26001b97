from django.urls import path, reverse_lazy
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from .admin_views import LoginAttemptsView, UnlockView


class SuperuserMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.is_superuser


@hooks.register("register_admin_urls")
def register_login_attempt_urls():
    return [
        path("tentatives-de-connexion/", LoginAttemptsView.as_view(), name="accounts_login_attempts"),
        path("tentatives-de-connexion/debloquer/", UnlockView.as_view(), name="accounts_login_unlock"),
    ]


@hooks.register("register_settings_menu_item")
def register_login_attempts_menu_item():
    return SuperuserMenuItem(
        _("Tentatives de connexion"),
        reverse_lazy("accounts_login_attempts"),
        icon_name="lock",
        name="login-attempts",
        order=900,
    )
