"""The storefront's ordering pages: cart, checkout, payment, order tracking, history, change, cancel.

Views parse a form, call one service (`ordering.services`) or the session cart, and choose a
response; prices always come from `pricing.quote` on the server.
"""
