"""How django-allauth fits OC Pizza: the visitor's address as our security code sees it."""

from allauth.account.adapter import DefaultAccountAdapter

from .security import client_ip


class AccountAdapter(DefaultAccountAdapter):
    def get_client_ip(self, request):
        """The same address as the login lockout and the hourly limits (`security.client_ip`).

        allauth would otherwise read X-Forwarded-For, whose first entry the client chooses.
        """
        return client_ip(request) or super().get_client_ip(request)
