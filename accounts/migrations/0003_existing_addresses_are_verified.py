"""Accounts made before django-allauth keep logging in: their e-mail counts as confirmed.

allauth requires a confirmed address to log in (ACCOUNT_EMAIL_VERIFICATION = "mandatory") and
keeps that in its own EmailAddress table, which these accounts have no row in. They were made by
the old sign-up or by head office; asking each of them to confirm first would lock every
existing customer out at once.
"""

from django.db import migrations


def mark_existing_addresses_verified(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    EmailAddress = apps.get_model("account", "EmailAddress")
    known = set(EmailAddress.objects.values_list("user_id", flat=True))
    EmailAddress.objects.bulk_create(
        [
            EmailAddress(user_id=user_id, email=email.lower(), verified=True, primary=True)
            for user_id, email in User.objects.values_list("id", "email")
            if user_id not in known and email
        ]
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_addresses_and_preferred_store"),
        ("account", "0009_emailaddress_unique_primary_email"),
    ]

    operations = [migrations.RunPython(mark_existing_addresses_verified, migrations.RunPython.noop)]
