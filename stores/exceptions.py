"""Expected failures of the stock, with messages a customer or a store manager can read."""


class StockError(Exception):
    """A stock operation was refused (not enough stock, bad quantity, unknown ingredient).

    Nothing was written: the service's transaction (or savepoint) was rolled back.
    """

    @property
    def message(self):
        return str(self.args[0]) if self.args else ""
