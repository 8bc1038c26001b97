"""Expected failures of ordering, with messages a customer can read (French, translated)."""


class OrderError(Exception):
    """An ordering operation was refused; nothing was written. `str(error)` is shown as is."""

    @property
    def message(self):
        return str(self.args[0]) if self.args else ""


class TransitionError(OrderError):
    """The order is not in a state that allows this change (e.g. cancelling a delivered order)."""


class PriceChanged(OrderError):
    """The total computed now differs from the one the customer saw; `quote` holds the new one."""

    def __init__(self, message, *, quote):
        super().__init__(message)
        self.quote = quote


class PaymentError(OrderError):
    """A payment or a refund was refused or failed (card declined, provider unavailable)."""
