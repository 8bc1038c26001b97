from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Comptes")

    def ready(self):
        from allauth.account.signals import email_confirmed

        from . import security  # noqa: F401  (connects the lockout log line)

        email_confirmed.connect(on_email_confirmed, dispatch_uid="accounts.personal_data.email_confirmed")


def on_email_confirmed(sender, request, email_address, **kwargs):
    from .personal_data import email_confirmed

    email_confirmed(email_address.user, email_address.email)
