"""Signals of the stock ledger, for the layers above that keep copies of what a store can sell."""

from django.dispatch import Signal

# Sent with `store_id` whenever a store's free stock changes (a reservation, a release, a delivery,
# waste, a count): what the store can make may have changed. Sent inside the ledger's transaction:
# a receiver that caches what a store can sell must act both at once and after the commit.
stock_changed = Signal()
