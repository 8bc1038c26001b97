"""The orders list as a CSV file for a French spreadsheet (Excel, LibreOffice in French).

What a French spreadsheet reads without an import dialog: UTF-8 with a byte order mark (else
Excel shows « RÃ©seau » for « Réseau »), cells separated by semicolons, amounts in euros with a
decimal comma and no currency sign (« 22,00 », summed as numbers), dates as « 25/11/2026 12:00 ».
Every text typed by someone (a name, an address, a reason) goes through `csv_safe`, so that a
customer called `=HYPERLINK(…)` stays text.

The file is streamed: one query reads every matching order (a server-side cursor on PostgreSQL,
in chunks), whatever their number; nothing is held in memory but a chunk.
"""

import csv

from django.db.models import OuterRef, Subquery, Sum
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from stores.spreadsheets import csv_safe

from .models import Order, OrderLine

CHUNK = 2000
DATE_FORMAT = "%d/%m/%Y %H:%M"


def header():
    return [
        _("Numéro"),
        _("Passée le"),
        _("Point de vente"),
        _("Canal"),
        _("Mode"),
        _("Client"),
        _("Téléphone"),
        _("E-mail"),
        _("Adresse"),
        _("Heure promise"),
        _("État"),
        _("Motif d'annulation"),
        _("Moyen de paiement"),
        _("État du paiement"),
        _("Articles"),
        _("Sous-total TTC (€)"),
        _("Remises (€)"),
        _("Frais de livraison (€)"),
        _("Total TTC (€)"),
        _("Encaissé (€)"),
        _("Remboursé (€)"),
    ]


def euros_cell(amount):
    """« 1234,50 »: what a French spreadsheet reads as a number (no thousands separator)."""
    return f"{amount:.2f}".replace(".", ",")


def date_cell(moment):
    return timezone.localtime(moment).strftime(DATE_FORMAT) if moment else ""


class _Echo:
    """A file-like object whose `write` gives back what it is given (Django's streaming CSV)."""

    def write(self, value):
        return value


def order_rows(orders):
    """The CSV rows (header first) of `orders`, a queryset annotated `with_payment_state()`.
    One query, read in chunks."""
    # Labels are read now, in the request's language: the rows are written later, while streaming.
    labels = {
        field: {value: str(label) for value, label in choices}
        for field, choices in (
            ("source", Order.Source.choices),
            ("fulfilment", Order.Fulfilment.choices),
            ("status", Order.Status.choices),
            ("payment_method", Order.PaymentMethod.choices),
            ("payment_state", Order.PaymentState.choices),
        )
    }
    items = OrderLine.objects.filter(order=OuterRef("pk")).values("order").annotate(n=Sum("quantity"))
    orders = orders.annotate(item_count=Subquery(items.values("n")))
    yield [str(title) for title in header()]
    for order in orders.iterator(chunk_size=CHUNK):
        address = order.full_address
        if address and order.address_details:
            address = f"{address} ({order.address_details})"
        yield [
            order.number,
            date_cell(order.created_at),
            csv_safe(order.store_name),
            labels["source"].get(order.source, order.source),
            labels["fulfilment"].get(order.fulfilment, order.fulfilment),
            csv_safe(order.contact_name),
            csv_safe(order.contact_phone),
            csv_safe(order.contact_email),
            csv_safe(address),
            date_cell(order.promised_at),
            labels["status"].get(order.status, order.status),
            csv_safe(order.cancel_reason),
            labels["payment_method"].get(order.payment_method, order.payment_method),
            labels["payment_state"].get(order.payment_state_value, order.payment_state_value),
            order.item_count or 0,
            euros_cell(order.subtotal),
            euros_cell(order.discount_total),
            euros_cell(order.delivery_fee),
            euros_cell(order.total),
            euros_cell(order.charged_total),
            euros_cell(order.refunded_total),
        ]


def orders_csv(orders, *, now=None):
    """A streamed CSV download of `orders` (annotated `with_payment_state()`), named after the
    time of the export: « commandes-20261125-1200.csv »."""
    writer = csv.writer(_Echo(), delimiter=";")
    stamp = timezone.localtime(now).strftime("%Y%m%d-%H%M")

    def lines():
        yield "\ufeff"  # the byte order mark: Excel then reads the file as UTF-8
        for row in order_rows(orders):
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="commandes-{stamp}.csv"'
    return response
