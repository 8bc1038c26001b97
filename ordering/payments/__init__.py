"""Payment providers behind one interface (`base.PaymentProvider`), chosen by settings.

`PAYMENT_PROVIDER` names the provider of card payments online: "square" (real money, through
Square's API), "simulator" (offline, Square's sandbox test tokens; the default with DEBUG on) or
"none" (no card payment online: the default with DEBUG off until a real provider is configured).
Square is refused without its credentials and a valid environment, with DEBUG on too (an empty
token never means "test cards"), and with DEBUG off without its webhook key and URL; the simulator
is refused with DEBUG off unless `PAYMENT_SIMULATOR_ALLOWED` is set (a demonstration server).
`check_payment_provider` makes each of these a start-up error of every `manage.py` command, not a
failure at a customer's first payment.
Payments on delivery or at the counter go through `OnDeliveryProvider`.
"""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy

from .base import PaymentDeclined, PaymentProvider, ProviderResult, ProviderUnavailable
from .on_delivery import OnDeliveryProvider
from .simulator import SimulatorProvider
from .square import SquareProvider
from .square import configuration_errors as square_configuration_errors

__all__ = [
    "OnDeliveryProvider",
    "PaymentDeclined",
    "PaymentProvider",
    "ProviderResult",
    "NO_CARD_ONLINE",
    "ProviderUnavailable",
    "SimulatorProvider",
    "SquareProvider",
    "card_payments_online",
    "check_payment_provider",
    "get_provider",
    "provider_for_method",
]

PROVIDERS = {"square": SquareProvider, "simulator": SimulatorProvider, "on_delivery": OnDeliveryProvider}
NO_CARD_PAYMENT = "none"
NO_CARD_ONLINE = gettext_lazy(
    "Le paiement par carte en ligne n'est pas disponible : réglez à la livraison ou au retrait."
)


def card_payments_online():
    """Whether customers may pay by card online at all (`PAYMENT_PROVIDER` is not "none")."""
    return getattr(settings, "PAYMENT_PROVIDER", "simulator") != NO_CARD_PAYMENT


def configuration_errors(name):
    """Why provider `name` cannot run with these settings (English, for the operator): a list,
    empty when it can run."""
    if name not in PROVIDERS:
        known = ", ".join(sorted([*PROVIDERS, NO_CARD_PAYMENT]))
        return [f"PAYMENT_PROVIDER={name!r} is not a known payment provider (known: {known})."]
    if name == "square":
        return square_configuration_errors()
    if (
        name == "simulator"
        and not settings.DEBUG
        and not getattr(settings, "PAYMENT_SIMULATOR_ALLOWED", False)
    ):
        return [
            "The payment simulator takes no real money: with DEBUG off it runs only when "
            "PAYMENT_SIMULATOR_ALLOWED=true (a demonstration server). Set PAYMENT_PROVIDER to a real "
            "provider, or to none to take no card payment online."
        ]
    return []


def configuration_error(name):
    """`configuration_errors(name)` as one sentence, or ""."""
    return " ".join(configuration_errors(name))


def check_payment_provider(app_configs=None, **kwargs):
    """System check (every manage.py command, `check --deploy`): the configured provider can run."""
    name = getattr(settings, "PAYMENT_PROVIDER", "simulator")
    if name == NO_CARD_PAYMENT:
        return []
    return [checks.Error(error, id="ordering.E001") for error in configuration_errors(name)]


def get_provider(name=None):
    """The provider of card payments online (`PAYMENT_PROVIDER`), or the one named `name`.

    Raises ProviderUnavailable (a message the customer can read) when card payments online are
    off, and ImproperlyConfigured when the settings name a provider that cannot run.
    """
    name = name or getattr(settings, "PAYMENT_PROVIDER", "simulator")
    if name == NO_CARD_PAYMENT:
        raise ProviderUnavailable(NO_CARD_ONLINE)
    error = configuration_error(name)
    if error:
        raise ImproperlyConfigured(error)
    return PROVIDERS[name]()


def provider_for_method(method):
    """The provider that handles an order's payment method ("card_online" or a hand-over method)."""
    return get_provider() if method == "card_online" else OnDeliveryProvider()
