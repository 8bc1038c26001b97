"""Payment providers behind one interface (`base.PaymentProvider`), chosen by settings.

`PAYMENT_PROVIDER` names the provider of card payments online: "simulator" (default, offline,
Square's sandbox test tokens) or, once the payments issue adds it, "square". With DEBUG off the
simulator is refused unless `PAYMENT_SIMULATOR_ALLOWED` is set (a demonstration server).
Payments on delivery or at the counter go through `OnDeliveryProvider`.
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .base import PaymentDeclined, PaymentProvider, ProviderResult, ProviderUnavailable
from .on_delivery import OnDeliveryProvider
from .simulator import SimulatorProvider

__all__ = [
    "OnDeliveryProvider",
    "PaymentDeclined",
    "PaymentProvider",
    "ProviderResult",
    "ProviderUnavailable",
    "SimulatorProvider",
    "get_provider",
    "provider_for_method",
]

PROVIDERS = {"simulator": SimulatorProvider, "on_delivery": OnDeliveryProvider}


def get_provider(name=None):
    """The provider of card payments online (`PAYMENT_PROVIDER`), or the one named `name`."""
    name = name or getattr(settings, "PAYMENT_PROVIDER", "simulator")
    if name not in PROVIDERS:
        raise ImproperlyConfigured(
            f"PAYMENT_PROVIDER={name!r} is not a known payment provider "
            f"(known: {', '.join(sorted(PROVIDERS))})."
        )
    if (
        name == "simulator"
        and not settings.DEBUG
        and not getattr(settings, "PAYMENT_SIMULATOR_ALLOWED", False)
    ):
        raise ImproperlyConfigured(
            "The payment simulator takes no real money: with DEBUG off it runs only when "
            "PAYMENT_SIMULATOR_ALLOWED=true (a demonstration server). "
            "Set PAYMENT_PROVIDER to a real provider."
        )
    return PROVIDERS[name]()


def provider_for_method(method):
    """The provider that handles an order's payment method ("card_online" or a hand-over method)."""
    return get_provider() if method == "card_online" else OnDeliveryProvider()
