from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrderingConfig(AppConfig):
    name = "ordering"
    verbose_name = _("Commandes")

    def ready(self):
        from django.core import checks

        from .payments import check_payment_provider

        checks.register(check_payment_provider)

        # The customer's orders in the personal-data download, anonymised (kept for accounting)
        # when the account goes, and a guest's orders attached once their e-mail is confirmed.
        from accounts.personal_data import (
            register_deletion_blocker,
            register_email_confirmed,
            register_erasure,
            register_export,
        )

        from .personal_data import anonymise_orders, claim_guest_orders, export_orders, open_order_blocker

        register_export("orders", export_orders)
        register_erasure(anonymise_orders)
        register_email_confirmed(claim_guest_orders)
        register_deletion_blocker(open_order_blocker)

        # Every saved or deleted order replaces the version its store's boards are polled with.
        from django.db.models.signals import post_delete, post_save

        from .boards import order_saved_or_deleted
        from .models import Order

        post_save.connect(order_saved_or_deleted, sender=Order, dispatch_uid="boards_order_saved")
        post_delete.connect(order_saved_or_deleted, sender=Order, dispatch_uid="boards_order_deleted")

        # ... and the version its tracking polls are answered from (ordering/tracking.py).
        from .tracking import on_order_deleted, on_order_saved

        post_save.connect(on_order_saved, sender=Order, dispatch_uid="tracking_order_saved")
        post_delete.connect(on_order_deleted, sender=Order, dispatch_uid="tracking_order_deleted")

        from django.core.signals import setting_changed

        setting_changed.connect(cache_replaced, dispatch_uid="ordering_cache_replaced")


def cache_replaced(sender, setting, **kwargs):
    """Another cache (only tests change settings while running): the writes the last one refused
    are tried on it at once."""
    if setting == "CACHES":
        from . import boards, tracking

        boards.retry_now()
        tracking.forget_failures()
