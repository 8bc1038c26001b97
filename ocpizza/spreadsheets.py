"""Spreadsheet cells that are never read as formulas (CSV injection), for every admin export.

`csv_safe` (in `stores.spreadsheets`, the lowest app that writes a CSV, so that every layer can
use it) gives a cell that starts like a formula a leading apostrophe.

Wagtail's own exports (reports such as the site history, snippet and ModelViewSet listings) all
go through `SpreadsheetExportMixin.preprocess_field_value`, so one override of it, installed at
start-up by `OcpizzaConfig.ready`, covers every CSV the admin can produce, present and future,
with no per-view code to forget. XLSX is left as Wagtail writes it: it already stores every
value openpyxl would take for a formula as a text cell, which a spreadsheet shows and never runs
(`ocpizza/tests/test_spreadsheets.py` proves both).
"""

from stores.spreadsheets import csv_safe


def escape_formulas_in_wagtail_exports():
    """Make Wagtail's spreadsheet exports pass every CSV cell through `csv_safe` (idempotent)."""
    from wagtail.admin.views.mixins import SpreadsheetExportMixin

    original = SpreadsheetExportMixin.preprocess_field_value
    if getattr(original, "escapes_formulas", False):
        return

    def preprocess_field_value(self, field, value, export_format):
        value = original(self, field, value, export_format)
        return csv_safe(value) if export_format == self.FORMAT_CSV else value

    preprocess_field_value.escapes_formulas = True
    SpreadsheetExportMixin.preprocess_field_value = preprocess_field_value
