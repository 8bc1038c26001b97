"""Cancel the orders whose online payment did not arrive in time (cron, every minute or so)."""

from django.core.management.base import BaseCommand

from ordering.services import expire_unpaid_orders


class Command(BaseCommand):
    help = (
        "Cancel unpaid online orders past their payment deadline and release their stock. Safe to run twice."
    )

    def handle(self, *args, **options):
        expired = expire_unpaid_orders()
        if options["verbosity"] >= 1:
            self.stdout.write(f"{expired} unpaid order(s) expired.")
