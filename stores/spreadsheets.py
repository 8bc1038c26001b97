"""Spreadsheet cells that are never read as formulas (CSV injection).

A cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is a formula to Excel and
LibreOffice: a supplier note or a page title such as `=HYPERLINK("http://evil","x")` would become
a live link, or worse, in the file a manager downloads. Such text gets a leading apostrophe, which
spreadsheets read as "this is text".

It lives in `stores`, the lowest app that writes a CSV (the stock history), so that every layer
above can use it: `ocpizza.spreadsheets` applies it to all of Wagtail's exports.
"""

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value):
    """Text for a CSV cell, prefixed with an apostrophe when a spreadsheet would run it."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value
