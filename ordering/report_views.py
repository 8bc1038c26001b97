"""The sales reports in the Wagtail admin (/admin/rapports/): one page and its CSV.

Same access as the orders (`ordering.access.order_stores`): head office sees every store side by
side with a total, a manager the stores they manage; another store answers 403, a user with no
store to review 403. The figures come from `ordering.reports.sales_report`.
"""

import csv
import datetime

from django import forms
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from menu.templatetags.menu_tags import euros
from stores.forms import DateInput
from stores.services import parse_id
from stores.spreadsheets import csv_safe

from .admin_views import OrdersAdminView
from .models import Order
from .reports import DAY, PARIS, PERIOD_KINDS, Period, sales_report
from .svg_charts import bar_chart, column_chart

FIRST_DAY, LAST_DAY = datetime.date(2000, 1, 1), datetime.date(2100, 12, 31)


class ReportForm(forms.Form):
    period = forms.ChoiceField(label=gettext_lazy("Période"), choices=PERIOD_KINDS, required=False)
    date = forms.DateField(
        label=gettext_lazy("Date"),
        required=False,
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        widget=DateInput,
        error_messages={"invalid": gettext_lazy("Saisissez une date valide, par exemple 25/11/2026.")},
    )
    store = forms.ModelChoiceField(
        label=gettext_lazy("Point de vente"),
        queryset=None,
        required=False,
        empty_label=gettext_lazy("Tous mes points de vente"),
        error_messages={
            "invalid_choice": gettext_lazy("Ce point de vente n'existe pas ou ne vous est pas ouvert.")
        },
    )

    def clean_date(self):
        day = self.cleaned_data["date"]
        if day and not FIRST_DAY <= day <= LAST_DAY:
            raise forms.ValidationError(_("Choisissez une date entre 2000 et 2100."))
        return day

    def __init__(self, *args, stores, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = stores.order_by("title")

    def choice(self, name):
        """The valid value of field `name` (None when empty or invalid: the other fields still
        apply, and the error is shown beside the field)."""
        if not self.is_bound:
            return None
        self.is_valid()
        return self.cleaned_data.get(name)

    def chosen_period(self, today):
        """The chosen period; the current day when none or an invalid one is given."""
        return Period.containing(self.choice("period") or DAY, self.choice("date") or today)


class ReportView(OrdersAdminView):
    page_title = gettext_lazy("Rapports")
    header_icon = "table"
    template_name = "ordering/admin/reports/report.html"

    def check_access(self, request, **kwargs):
        super().check_access(request, **kwargs)
        store_id = parse_id(request.GET.get("store", ""))
        if store_id is not None:
            self.scoped_store(store_id)  # another store's report: 403 (unknown: 404)

    def setup_report(self):
        today = timezone.localdate(timezone.now(), PARIS)
        self.form = ReportForm(
            self.request.GET or None, stores=self.stores, initial={"period": DAY, "date": today}
        )
        self.period = self.form.chosen_period(today)
        self.store = self.form.choice("store")
        stores = self.stores.filter(id=self.store.id) if self.store else self.stores
        self.report = sales_report(stores, self.period)

    def query(self, period):
        values = {"period": period.kind, "date": period.first_day.isoformat()}
        if self.store:
            values["store"] = self.store.id
        return urlencode(values)

    def get(self, request, *args, **kwargs):
        self.setup_report()
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        report = self.report
        url = reverse("reports_admin:index")
        return super().get_context_data(
            form=self.form,
            report=report,
            columns=report.columns + ([report.total] if report.total else []),
            previous_url=f"{url}?{self.query(self.period.previous())}",
            next_url=f"{url}?{self.query(self.period.next())}",
            csv_url=f"{reverse('reports_admin:csv')}?{self.query(self.period)}",
            charts=charts(report),
            **kwargs,
        )


class ReportCsvView(ReportView):
    def get(self, request, *args, **kwargs):
        self.setup_report()
        return report_csv(self.report)


def charts(report):
    """The charts of the page (each beside the table of its numbers)."""
    summary = report.summary
    period = report.period.label
    result = {
        "series": column_chart(
            chart_id="chart-series",
            title=_("Chiffre d'affaires TTC par heure")
            if report.period.kind == DAY
            else _("Chiffre d'affaires TTC par jour"),
            description=_(
                "%(period)s, total des points de vente affichés ; les montants sont dans le tableau."
            )
            % {"period": period},
            columns=[(bucket.label, bucket.revenue) for bucket in report.series],
            every=3 if report.period.kind == DAY else (1 if len(report.series) <= 7 else 5),
            top_text=_("max. %(amount)s") % {"amount": euros(max(b.revenue for b in report.series))},
        ),
        "sources": bar_chart(
            chart_id="chart-sources",
            title=_("Commandes par canal"),
            description=_("%(period)s, %(column)s ; les nombres sont dans le tableau.")
            % {"period": period, "column": summary.name},
            rows=[(row.label, row.orders, str(row.orders)) for row in summary.source_shares()],
        ),
    }
    if len(report.columns) > 1:
        result["stores"] = bar_chart(
            chart_id="chart-stores",
            title=_("Chiffre d'affaires TTC par point de vente"),
            description=_("%(period)s ; les montants sont dans le tableau.") % {"period": period},
            rows=[(c.name, c.revenue_incl_vat, euros(c.revenue_incl_vat)) for c in report.columns],
        )
    return result


# CSV ---------------------------------------------------------------------------------------------


def number_cell(value, places=2):
    """« 1234,50 »: what a French spreadsheet reads as a number (as the orders export writes)."""
    if value is None:
        return ""
    return f"{value:.{places}f}".replace(".", ",")


def report_rows(report):
    """The report as CSV rows: one column per store (and the total), one row per figure, then the
    best-selling products of the whole report."""
    columns = report.columns + ([report.total] if report.total else [])
    period = report.period
    rows = [
        [_("Rapport des ventes"), csv_safe(str(period.label))],
        [_("Du"), period.first_day.strftime("%d/%m/%Y"), _("au"), period.last_day.strftime("%d/%m/%Y")],
        [],
        [_("Indicateur"), *(csv_safe(column.name) for column in columns)],
    ]

    def row(label, value):
        rows.append([label, *(value(column) for column in columns)])

    row(_("Commandes"), lambda c: c.orders)
    row(_("Chiffre d'affaires TTC (€)"), lambda c: number_cell(c.revenue_incl_vat))
    row(_("Chiffre d'affaires HT (€)"), lambda c: number_cell(c.revenue_excl_vat))
    rates = sorted({line.rate for column in columns for line in column.vat})
    for rate in rates:
        row(
            _("TVA %(rate)s %% (€)") % {"rate": number_cell(rate)},
            lambda c, rate=rate: number_cell(sum((v.vat for v in c.vat if v.rate == rate), 0)),
        )
    row(_("Remboursements déduits (€)"), lambda c: number_cell(c.refunds))
    row(_("Panier moyen TTC (€)"), lambda c: number_cell(c.average_basket))
    for value, label in Order.Source.choices:
        row(
            _("Commandes %(channel)s") % {"channel": label},
            lambda c, v=value: _share(c.source_shares(), v).orders,
        )
        row(
            _("Part %(channel)s (%%)") % {"channel": label},
            lambda c, v=value: number_cell(_share(c.source_shares(), v).percent, 1),
        )
    for value, label in Order.PaymentMethod.choices:
        row(
            _("Commandes %(method)s") % {"method": label},
            lambda c, v=value: _share(c.payment_shares(), v).orders,
        )
        row(
            _("Part %(method)s (%%)") % {"method": label},
            lambda c, v=value: number_cell(_share(c.payment_shares(), v).percent, 1),
        )
    row(_("Délai moyen reçue → prête (min)"), lambda c: number_cell(c.ready_minutes, 1))
    row(_("Délai moyen reçue → livrée (min)"), lambda c: number_cell(c.delivered_minutes, 1))
    row(_("Commandes en retard"), lambda c: c.late)
    row(_("Annulations"), lambda c: c.cancelled)
    rows.append([])
    rows.append([_("Produits les plus vendus"), _("Quantité"), _("Montant des lignes TTC (€)")])
    for product in report.summary.top_products:
        rows.append([csv_safe(product.name), product.quantity, number_cell(product.amount)])
    return rows


def _orders(shares, value):
    return _share(shares, value).orders


def _share(shares, value):
    return next(share for share in shares if share.value == value)


def report_csv(report):
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"rapport-{report.period.kind}-{report.period.first_day:%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response.write("\ufeff")  # so that a French spreadsheet reads the accents right
    writer = csv.writer(response, delimiter=";")
    writer.writerows(report_rows(report))
    return response
