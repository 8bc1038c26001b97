"""Compare the card payments of the last days with the provider's, repair what is safe (cron, hourly)."""

from django.core.management.base import BaseCommand, CommandError

from ordering.payments import ProviderUnavailable, card_payments_online
from ordering.services import reconcile_payments


class Command(BaseCommand):
    help = (
        "Compare the payments of the last N days with the payment provider's, repair what is safe to "
        "repair and save a report for head office. Safe to run twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=7, help="How many days back to compare (default 7).")

    def handle(self, *args, **options):
        days = options["days"]
        if days < 1:
            raise CommandError("--days must be at least 1.")
        if not card_payments_online():
            if options["verbosity"] >= 1:
                self.stdout.write("No card payment online (PAYMENT_PROVIDER=none): nothing to reconcile.")
            return
        try:
            run = reconcile_payments(days=days)
        except ProviderUnavailable as error:
            raise CommandError(unavailable_message(error)) from None
        if options["verbosity"] >= 1:
            self.stdout.write(
                f"{run.checked} payment(s) checked, {run.repaired} repaired, "
                f"{len(run.reported)} reported for head office."
            )


def unavailable_message(error):
    """What the operator reads when the provider did not answer the reconciliation: refused (its
    error category and code: credentials to fix) or unreachable."""
    errors = (error.raw or {}).get("errors") or [{}]
    category, code = errors[0].get("category", ""), errors[0].get("code", "")
    if not category or category in ("API_ERROR", "RATE_LIMIT_ERROR"):
        return f"The payment provider could not be reached: {error}"
    message = f"The payment provider refused the request ({category} {code})"
    if category == "AUTHENTICATION_ERROR":
        return f"{message}: check its credentials (SQUARE_ACCESS_TOKEN, SQUARE_ENVIRONMENT)."
    return f"{message}: check the Square settings and the stores' location ids."
