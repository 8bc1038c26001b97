"""Signals of the stock ledger, for the layers above that keep copies of what a store can sell."""

from django.dispatch import Signal

# Sent with `store_id` whenever a store's free stock changes (a reservation, a release, a delivery,
# waste, a count): what the store can make may have changed. Sent inside the ledger's transaction:
# a receiver that caches what a store can sell must act both at once and after the commit, unless
# `after_commit_only` is true: then after the commit alone (placing an order, whose every round
# trip counts: stores.services.announce_stock_change).
stock_changed = Signal()

# Sent with `request` and `store_id` by a page about to read what a store can sell (a store's menu),
# before it reads the stock: a cache of pages keeps the page only until that store's stock changes.
stock_shown = Signal()
