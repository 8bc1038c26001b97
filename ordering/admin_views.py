"""The orders in the Wagtail admin: the list, an order's detail, and what staff do with money.

Head office sees every store's orders; a store manager the orders of the stores they manage
(`ordering.access.order_stores`). Another store's order answers 403, an unknown one 404; a user
with no store to review is refused every screen (403). Views parse a form, call one service
(`cancel_order`, `refund_order`, `record_payment`) and show its OrderError; nothing is written
when a form or a service refuses.
"""

import secrets

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from menu.templatetags.menu_tags import euros
from stores.access import is_head_office
from stores.admin_base import ScopedAdminView

from . import services
from .access import CHANGE_ORDERS, MOVE_MONEY, may_see_order, order_stores, reviewable_orders
from .admin_forms import CancelForm, OrderFilterForm, RecordPaymentForm, RefundForm
from .exceptions import OrderError
from .exports import orders_csv
from .models import ZERO, Order, OrderEvent, Payment

Status = Order.Status
PaymentState = Order.PaymentState

# What staff may still cancel (services.cancel_order decides; this only chooses the buttons).
CANCELLABLE = {
    Status.PENDING_PAYMENT,
    Status.RECEIVED,
    Status.PREPARING,
    Status.READY,
    Status.OUT_FOR_DELIVERY,
}


WAGTAIL_HEADER_DEFAULTS = {
    "search_form": None,
    "filters": None,
    "side_panels": [],
    "history_url": None,
    "index_results_url": None,
}


class OrdersAdminView(ScopedAdminView):
    """Base of the orders screens: the user reviews the orders of some stores (else 403)."""

    header_icon = "list-ul"
    forbidden_template = "ordering/admin/forbidden.html"
    index_url_name = "orders_admin:index"
    index_label = gettext_lazy("Commandes")

    def scoped_stores(self, user):
        return order_stores(user)

    def check_access(self, request, **kwargs):
        super().check_access(request, **kwargs)
        self.head_office = is_head_office(request.user)

    def get_context_data(self, **kwargs):
        # What Wagtail's slim header reads (generic/base.html): these screens have no search box,
        # filters in the header, side panels nor history.
        for name, value in WAGTAIL_HEADER_DEFAULTS.items():
            kwargs.setdefault(name, value)
        return super().get_context_data(**kwargs)

    def scoped_orders(self):
        """The orders of the user's stores (head office: all, those of deleted stores too)."""
        return reviewable_orders(self.stores, head_office=self.head_office)


class OrderListView(OrdersAdminView):
    """The orders of the user's stores, newest first, filtered, searched and paginated; with
    `?format=csv`, every order the same filters find, as a CSV download (`ordering.exports`).

    The list reads one page of orders with their payment state in one query, and the export all
    of them in one query, whatever the number of orders. Filters live in
    `OrderFilterForm.FILTERS`. Invalid filters show their error and no order; the export of
    invalid filters is refused (400), as the stock movements' export is."""

    page_title = gettext_lazy("Commandes")
    template_name = "ordering/admin/order_list.html"
    paginate_by = 50

    def get_breadcrumbs_items(self):
        return []

    def filtered_orders(self):
        self.filter_form = OrderFilterForm(
            self.request.GET or None,
            stores=self.stores.order_by("title"),
            payment_states=PaymentState.choices,
        )
        orders = self.scoped_orders().with_payment_state().order_by("-created_at", "-id")
        return self.filter_form.filter(orders)

    def get(self, request, *args, **kwargs):
        if request.GET.get("format") == "csv":
            orders = self.filtered_orders()
            if self.filter_form.is_bound and not self.filter_form.is_valid():
                return HttpResponseBadRequest(
                    _("Filtres invalides : corrigez-les avant d'exporter."),
                    content_type="text/plain; charset=utf-8",
                )
            return orders_csv(orders)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        page = Paginator(self.filtered_orders(), self.paginate_by).get_page(self.request.GET.get("p"))
        page.object_list = list(page.object_list)
        for order in page.object_list:
            order.payment_state_label = PaymentState(order.payment_state_value).label
        query = _without(self.request.GET, "p", "format")
        return super().get_context_data(
            filter_form=self.filter_form,
            page_obj=page,
            page_query=query,
            csv_query=f"{query}&format=csv" if query else "format=csv",
            head_office=self.head_office,
            **kwargs,
        )


class OrderView(OrdersAdminView):
    """A screen about one order, which must be of one of the user's stores (else 403)."""

    def check_access(self, request, *, number, **kwargs):
        super().check_access(request, **kwargs)
        self.order = get_object_or_404(self.order_queryset(), number=number)
        if not (self.head_office or may_see_order(request.user, self.order, self.stores)):
            raise PermissionDenied

    def order_queryset(self):
        return Order.objects.select_related("store")

    def get_page_subtitle(self):
        return self.order.number

    def get_page_title(self):
        return f"{self.page_title} {self.order.number}"

    def detail_url(self):
        return reverse("orders_admin:detail", args=[self.order.number])

    def inner_breadcrumbs(self):
        return []

    def get_context_data(self, **kwargs):
        return super().get_context_data(order=self.order, **kwargs)


class OrderDetailView(OrderView):
    page_title = gettext_lazy("Commande")
    template_name = "ordering/admin/order_detail.html"

    def order_queryset(self):
        return Order.objects.select_related("store").prefetch_related(
            "lines",
            "discounts",
            Prefetch(
                "payments", queryset=Payment.objects.select_related("created_by").order_by("created_at", "id")
            ),
            Prefetch("events", queryset=OrderEvent.objects.select_related("user")),
        )

    def get_context_data(self, **kwargs):
        order, user = self.order, self.request.user
        return super().get_context_data(
            lines=list(order.lines.all()),
            discounts=list(order.discounts.all()),
            payments=list(order.payments.all()),
            events=list(order.events.all()),
            vat_lines=order.vat_breakdown(),
            paid=order.charged_amount(),
            refunded=order.refunded_amount(),
            payment_state=order.payment_state,
            payment_state_label=order.get_payment_state_display(),
            refundable=order.refundable_amount(),
            due=order.amount_due(),
            can_refund=user.has_perm(MOVE_MONEY) and order.refundable_amount() > 0,
            can_record=user.has_perm(MOVE_MONEY) and may_record(order),
            can_cancel=user.has_perm(CHANGE_ORDERS) and order.status in CANCELLABLE,
            **kwargs,
        )


class OrderActionView(OrderView):
    """A form about the order that calls one service; on success, back to the order's page."""

    template_name = "ordering/admin/order_action.html"
    submit_label = ""
    intro = ""

    def order_queryset(self):
        return Order.objects.select_related("store").prefetch_related("payments")

    def inner_breadcrumbs(self):
        return [{"url": self.detail_url(), "label": self.order.number}]

    def get_page_title(self):
        return f"{self.page_title} — {self.order.number}"

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(form=self.make_form()))

    def post(self, request, *args, **kwargs):
        form = self.make_form(request.POST)
        if form.is_valid():
            try:
                message = self.act(form)
            except OrderError as error:
                form.add_error(None, error.message)
                self.refused(form)
            else:
                messages.success(request, message)
                return redirect(self.detail_url())
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def refused(self, form):
        """The service refused the form: nothing to do by default."""

    def get_context_data(self, **kwargs):
        kwargs.setdefault("refundable", None)
        kwargs.setdefault("due", None)
        kwargs.setdefault("refusal", "")
        return super().get_context_data(
            submit_label=self.submit_label,
            intro=self.intro,
            detail_url=self.detail_url(),
            paid=self.order.charged_amount(),
            **kwargs,
        )


class RefundView(OrderActionView):
    page_title = gettext_lazy("Rembourser")
    permission_required = MOVE_MONEY
    submit_label = gettext_lazy("Rembourser")
    intro = gettext_lazy(
        "Le remboursement passe par le prestataire de paiement, sur la carte utilisée par le client."
    )

    def make_form(self, data=None):
        return RefundForm(data, refundable=self.order.refundable_amount(), initial={"key": new_form_key()})

    def refused(self, form):
        # Trying again after a refusal is a new attempt: it needs a new key, else the service
        # would answer with the refused rows of this one.
        form.data = form.data.copy()
        form.data["key"] = new_form_key()

    def act(self, form):
        data = form.cleaned_data
        refunds = services.refund_order(
            self.order,
            amount=data["amount"],
            reason=data["reason"],
            user=self.request.user,
            idempotency_key=f"admin-refund-{data['key']}",
        )
        if not any(refund.status != Payment.Status.FAILED for refund in refunds):
            raise OrderError(_("Ce remboursement a été refusé : rechargez la page pour réessayer."))
        amount = sum((refund.amount for refund in refunds), start=ZERO)
        return _("%(amount)s remboursés sur la commande %(number)s.") % {
            "amount": euros(amount),
            "number": self.order.number,
        }

    def get_context_data(self, **kwargs):
        return super().get_context_data(refundable=self.order.refundable_amount(), **kwargs)


class RecordPaymentView(OrderActionView):
    page_title = gettext_lazy("Encaisser")
    permission_required = MOVE_MONEY
    submit_label = gettext_lazy("Enregistrer le paiement")
    intro = gettext_lazy(
        "Le paiement remis au livreur ou au comptoir : espèces, carte, titre-restaurant ou chèque."
    )

    def make_form(self, data=None):
        initial = {"method": self.order.payment_method}
        return RecordPaymentForm(
            data, due=self.order.amount_due(), refusal=record_refusal(self.order), initial=initial
        )

    def act(self, form):
        data = form.cleaned_data
        payment = services.record_payment(
            self.order, method=data["method"], amount_received=data["amount_received"], user=self.request.user
        )
        if payment.change_given:
            return _("Paiement de %(amount)s enregistré. Monnaie à rendre : %(change)s.") % {
                "amount": euros(payment.amount),
                "change": euros(payment.change_given),
            }
        return _("Paiement de %(amount)s enregistré.") % {"amount": euros(payment.amount)}

    def get_context_data(self, **kwargs):
        # Said at once, before anything is typed (the form refuses it too when posted).
        return super().get_context_data(
            due=self.order.amount_due(), refusal=record_refusal(self.order), **kwargs
        )


class CancelView(OrderActionView):
    page_title = gettext_lazy("Annuler")
    permission_required = CHANGE_ORDERS
    submit_label = gettext_lazy("Annuler la commande")
    intro = gettext_lazy(
        "Le stock réservé est libéré, un paiement en ligne est remboursé en entier et le client est "
        "prévenu par e-mail."
    )

    def make_form(self, data=None):
        return CancelForm(data)

    def act(self, form):
        services.cancel_order(self.order, user=self.request.user, reason=form.cleaned_data["reason"])
        return _("Commande %(number)s annulée.") % {"number": self.order.number}


class ReconciliationView(OrdersAdminView):
    """The latest runs of the payments reconciliation and what they found (head office only)."""

    page_title = gettext_lazy("Rapprochement des paiements")
    template_name = "ordering/admin/reconciliation.html"
    runs_shown = 20

    def check_access(self, request, **kwargs):
        super().check_access(request, **kwargs)
        if not self.head_office:
            raise PermissionDenied

    def get_context_data(self, **kwargs):
        from .models import PaymentReconciliation

        runs = list(PaymentReconciliation.objects.order_by("-ran_at", "-id")[: self.runs_shown])
        return super().get_context_data(runs=runs, latest=runs[0] if runs else None, **kwargs)


# What the buttons offer. The services check again under the order's lock.


def new_form_key():
    return secrets.token_urlsafe(18)


def record_refusal(order):
    """Why a payment handed over cannot be recorded for `order` now ("" if it can): staff record
    the payment of an unpaid order only, never beside a charge online or a refund."""
    if order.status == Status.CANCELLED:
        return _("Cette commande est annulée : elle ne peut plus être payée.")
    if order.payment_state == PaymentState.PENDING:
        return _("Le paiement en ligne de cette commande est en cours de confirmation.")
    if order.payment_state != PaymentState.UNPAID or order.amount_due() <= 0:
        return _("Cette commande est déjà payée.")
    return ""


def may_record(order):
    return not record_refusal(order)


def _without(query, *keys):
    query = query.copy()
    for key in keys:
        query.pop(key, None)
    return query.urlencode()
