"""Demo data for accounts: the demo users' e-mail addresses count as confirmed."""

from allauth.account.models import EmailAddress


def confirm_email(user):
    """Give `user` a confirmed primary address, as allauth needs to log in on the storefront."""
    EmailAddress.objects.update_or_create(
        user=user, email=user.email.lower(), defaults={"verified": True, "primary": True}
    )
