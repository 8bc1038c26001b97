"""Store operations in the Wagtail admin: stock, deliveries, inventory counts, waste, history.

Head office sees every store; a store manager only the stores they manage (`access.stock_stores`).
Any other store answers 403. Views parse a form, call one service, and show its StockError.
"""

import csv

from django.contrib import messages
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from menu.models import Ingredient, ProductPage

from . import services
from .access import CHANGE_STOCK, is_head_office, stock_stores
from .admin_base import ScopedAdminView
from .exceptions import StockError
from .food_cost import food_cost_report
from .forms import (
    FoodCostPeriodForm,
    IngredientLinesFormSet,
    MovementFilterForm,
    PerIngredientForm,
    RestockForm,
    WasteForm,
)
from .models import (
    ProductWithdrawal,
    StockAlert,
    StockFormSubmission,
    StockLevel,
    StockMovement,
    StorePage,
)
from .spreadsheets import csv_safe


class StockView(ScopedAdminView):
    """Base of the stock screens: checks that the user may see stock at all (else 403)."""

    header_icon = "clipboard-list"
    index_url_name = "stock:index"
    index_label = _("Stock")
    change = False  # True for the screens that write

    def scoped_stores(self, user):
        return stock_stores(user)

    @property
    def permission_required(self):
        return CHANGE_STOCK if self.change else None


class StoreStockView(StockView):
    """A screen about one store, which must be one of the user's stores (else 403)."""

    def check_access(self, request, *, store_id, **kwargs):
        super().check_access(request, **kwargs)
        self.store = self.scoped_store(store_id)

    def get_page_subtitle(self):
        return self.store.title

    def get_page_title(self):
        # Wagtail's slim header shows the title only: name the store there too.
        return f"{self.page_title} — {self.store.title}"

    def inner_breadcrumbs(self):
        return [{"url": reverse("stock:store", args=[self.store.id]), "label": self.store.title}]

    def get_context_data(self, **kwargs):
        return super().get_context_data(store=self.store, **kwargs)


class StockIndexView(StockView):
    page_title = _("Stock")
    template_name = "stores/admin/stock_index.html"

    def get(self, request, *args, **kwargs):
        if self.stores.count() == 1:
            return redirect("stock:store", store_id=self.stores.get().id)
        return super().get(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        return []

    def get_context_data(self, **kwargs):
        stores = list(self.stores.order_by("path"))
        ingredient_ids = list(Ingredient.objects.values_list("id", flat=True))
        levels = _levels_by_store_and_ingredient(StockLevel.objects.filter(store__in=stores))
        rows = [
            (store, sum(_cell(levels.get((store.id, i)))["low"] for i in ingredient_ids)) for store in stores
        ]
        return super().get_context_data(
            rows=rows,
            head_office=is_head_office(self.request.user),
            alerts=open_alerts(self.request.user)[:20],
            **kwargs,
        )


class StoreStockDetailView(StoreStockView):
    page_title = _("Stock actuel")
    template_name = "stores/admin/store_stock.html"

    def get_context_data(self, **kwargs):
        levels = {level.ingredient_id: level for level in StockLevel.objects.filter(store=self.store)}
        rows = [
            {"ingredient": ingredient, **_cell(levels.get(ingredient.id))}
            for ingredient in Ingredient.objects.order_by("name")
        ]
        rows.sort(key=lambda row: (not row["low"], row["ingredient"].name))
        return super().get_context_data(
            rows=rows,
            can_change=self.request.user.has_perm(CHANGE_STOCK),
            alerts=StockAlert.objects.filter(store=self.store, resolved_at__isnull=True).select_related(
                "ingredient"
            ),
            **kwargs,
        )


class LinesView(StoreStockView):
    """A delivery or a waste record: several (ingredient, quantity) lines at once."""

    change = True
    template_name = "stores/admin/lines_form.html"
    header_form_class = None

    def get(self, request, *args, **kwargs):
        form = self.header_form_class(initial={"submission": self.header_form_class.new_token()})
        return self.render_to_response(
            self.get_context_data(form=form, formset=IngredientLinesFormSet(prefix="lines"))
        )

    def post(self, request, *args, **kwargs):
        form = self.header_form_class(request.POST)
        formset = IngredientLinesFormSet(request.POST, prefix="lines")
        if form.is_valid() and formset.is_valid():
            try:
                with transaction.atomic():  # the claim and the write stand or fall together
                    if not self.claim(form.cleaned_data["submission"]):
                        messages.info(
                            request,
                            _("Cette saisie était déjà enregistrée : elle n'est pas comptée deux fois."),
                        )
                        return redirect("stock:store", store_id=self.store.id)
                    self.save(form.cleaned_data, formset.lines())
            except StockError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, self.success_message)
                return redirect("stock:store", store_id=self.store.id)
        return self.render_to_response(self.get_context_data(form=form, formset=formset), status=400)

    def claim(self, token):
        """True if this form's token was not recorded yet (it is now); False on a second post.

        On PostgreSQL a concurrent post of the same token waits for the first one's transaction,
        then finds the token taken."""
        try:
            with transaction.atomic():
                StockFormSubmission.objects.create(store=self.store, token=token)
        except IntegrityError:
            return False
        return True


class RestockView(LinesView):
    page_title = _("Livraison")
    header_form_class = RestockForm
    success_message = _("Livraison enregistrée.")
    intro = _("Saisissez ce que le fournisseur a livré, ingrédient par ingrédient.")

    def save(self, data, lines):
        services.restock(store=self.store, lines=lines, user=self.request.user, supplier=data["supplier"])


class WasteView(LinesView):
    page_title = _("Pertes")
    header_form_class = WasteForm
    success_message = _("Pertes enregistrées.")
    intro = _("Saisissez ce qui a été jeté (périmé, tombé, raté).")

    def save(self, data, lines):
        services.record_waste(store=self.store, lines=lines, user=self.request.user, reason=data["reason"])


class PerIngredientView(StoreStockView):
    """One field per ingredient: the inventory count, or the alert thresholds."""

    change = True
    template_name = "stores/admin/per_ingredient_form.html"

    def make_form(self, data=None):
        levels = StockLevel.objects.filter(store=self.store)
        return PerIngredientForm(
            data,
            ingredients=Ingredient.objects.order_by("name"),
            initial_values=self.initial_values(levels),
        )

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(form=self.make_form()))

    def post(self, request, *args, **kwargs):
        form = self.make_form(request.POST)
        if form.is_valid():
            try:
                self.save(form.entered())
            except StockError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, self.success_message)
                return redirect("stock:store", store_id=self.store.id)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class InventoryView(PerIngredientView):
    page_title = _("Inventaire")
    success_message = _("Inventaire enregistré : les écarts sont notés comme corrections.")
    intro = _(
        "Saisissez ce qui est réellement en rayon, y compris ce que réservent les commandes que la "
        "cuisine n'a pas encore commencées : ces ingrédients sont encore là. Un ingrédient laissé vide "
        "n'est pas compté ; chaque écart avec le stock calculé est enregistré comme une correction, et "
        "les réservations des commandes sont conservées."
    )

    def initial_values(self, levels):
        return {}

    def get_context_data(self, **kwargs):
        # Kept from the first display through error re-displays: where this count began.
        started = self.request.POST.get("count_started", "") if self.request.method == "POST" else ""
        if self.counted_after() is None:
            started = count_started_token(self.store)
        return super().get_context_data(count_started=started, **kwargs)

    def counted_after(self):
        """The store's last movement id when this count's form was first shown, or None if the
        token is missing, forged, for another store, or older than COUNT_MAX_AGE."""
        try:
            value = COUNT_SIGNER.unsign(self.request.POST.get("count_started", ""), max_age=COUNT_MAX_AGE)
        except signing.BadSignature:  # SignatureExpired included
            return None
        store_id, _sep, counted_after = value.partition(":")
        if services.parse_id(store_id) != self.store.id:
            return None
        return services.parse_id(counted_after)

    def post(self, request, *args, **kwargs):
        if request.method == "POST" and self.counted_after() is None:
            # The form always carries where the count began: without it (a tampered, truncated or
            # day-old form) the kitchen's use during the count would be erased or counted twice.
            form = self.make_form(request.POST)
            form.is_valid()
            form.add_error(
                None, _("Ce formulaire d'inventaire n'est plus valide : rechargez la page et recomptez.")
            )
            return self.render_to_response(self.get_context_data(form=form), status=400)
        return super().post(request, *args, **kwargs)

    def save(self, entered):
        services.count_inventory(
            store=self.store, counts=entered, user=self.request.user, counted_after=self.counted_after()
        )


# The inventory form carries where the count began (the store's last movement id), signed so it
# cannot be forged, and valid for a working day: a form left open longer must be reloaded.
COUNT_SIGNER = signing.TimestampSigner(salt="stores.inventory.count_started")
COUNT_MAX_AGE = 12 * 60 * 60


def count_started_token(store):
    return COUNT_SIGNER.sign(f"{store.id}:{services.last_movement_id(store)}")


class ThresholdsView(PerIngredientView):
    page_title = _("Seuils d'alerte")
    success_message = _("Seuils d'alerte enregistrés.")
    intro = _("Les responsables sont prévenus quand un stock descend à son seuil ou en dessous.")

    def initial_values(self, levels):
        return {level.ingredient_id: level.alert_threshold for level in levels}

    def save(self, entered):
        with transaction.atomic():
            for ingredient, threshold in entered:
                services.set_alert_threshold(
                    store=self.store, ingredient=ingredient, threshold=threshold, user=self.request.user
                )


class ProductsView(StoreStockView):
    """The store's own menu switches: take a product off sale here, or put it back."""

    page_title = _("Produits en vente")
    template_name = "stores/admin/store_products.html"

    def get_context_data(self, **kwargs):
        withdrawals = {
            w.product_id: w
            for w in ProductWithdrawal.objects.active().filter(store=self.store).select_related("user")
        }
        products = ProductPage.objects.live().order_by("path").only("id", "title", "category", "is_available")
        rows = [(product, withdrawals.get(product.id)) for product in products]
        history = (
            ProductWithdrawal.objects.filter(store=self.store)
            .select_related("product", "user", "restored_by")
            .order_by("-created_at", "-id")[:20]
        )
        can_change = self.request.user.has_perm(CHANGE_STOCK)
        return super().get_context_data(rows=rows, history=history, can_change=can_change, **kwargs)

    def post(self, request, *args, **kwargs):
        if not request.user.has_perm(CHANGE_STOCK):
            return TemplateResponse(request, "stores/admin/forbidden.html", status=403)
        product_id = services.parse_id(request.POST.get("product", ""))
        product = ProductPage.objects.live().filter(id=product_id).first() if product_id is not None else None
        if product is None:
            messages.error(request, _("Produit inconnu."))
            return redirect("stock:products", store_id=self.store.id)
        if request.POST.get("action") == "withdraw":
            services.withdraw_product(
                store=self.store, product=product, user=request.user, reason=request.POST.get("reason", "")
            )
            messages.success(
                request, _("%(product)s est retiré de la vente ici.") % {"product": product.title}
            )
        else:
            services.restore_product(store=self.store, product=product, user=request.user)
            messages.success(request, _("%(product)s est remis en vente ici.") % {"product": product.title})
        return redirect("stock:products", store_id=self.store.id)


class FoodCostView(StoreStockView):
    """Expected against actual use of ingredients between two inventory counts (`food_cost`)."""

    page_title = _("Écarts de consommation")
    template_name = "stores/admin/food_cost.html"

    def get(self, request, *args, **kwargs):
        self.form = FoodCostPeriodForm(request.GET or None, today=timezone.localdate())
        self.report = None
        if self.form.is_valid():
            self.report = food_cost_report(
                store=self.store,
                date_from=self.form.cleaned_data["date_from"],
                date_to=self.form.cleaned_data["date_to"],
            )
        if request.GET.get("format") == "csv":
            if self.report is None:
                return HttpResponseBadRequest(
                    _("Période invalide : corrigez-la avant d'exporter."),
                    content_type="text/plain; charset=utf-8",
                )
            return food_cost_csv(self.store, self.report)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        query = self.request.GET.copy()
        if self.form.is_valid():
            query["date_from"] = self.form.cleaned_data["date_from"].isoformat()
            query["date_to"] = self.form.cleaned_data["date_to"].isoformat()
        query["format"] = "csv"
        return super().get_context_data(
            form=self.form, report=self.report, csv_query=query.urlencode(), **kwargs
        )


class GroupFoodCostView(StockView):
    """Head office only: every store's unexplained gap for the same days, each between its own
    counts, the store with the largest gap in euros first (a fixed number of queries per store)."""

    page_title = _("Écarts de consommation du groupe")
    template_name = "stores/admin/group_food_cost.html"

    def check_access(self, request, **kwargs):
        super().check_access(request, **kwargs)
        if not is_head_office(request.user):
            raise PermissionDenied

    def get_context_data(self, **kwargs):
        form = FoodCostPeriodForm(self.request.GET or None, today=timezone.localdate())
        rows = []
        if form.is_valid():
            for store in StorePage.objects.order_by("path"):
                report = food_cost_report(
                    store=store,
                    date_from=form.cleaned_data["date_from"],
                    date_to=form.cleaned_data["date_to"],
                )
                rows.append(
                    {"store": store, "report": report, "worst": report.rows[0] if report.rows else None}
                )
            rows.sort(key=lambda row: (not row["report"].problem, row["report"].gap_cost), reverse=True)
        return super().get_context_data(form=form, rows=rows, query=self.request.GET.urlencode(), **kwargs)


class MovementsView(StockView):
    page_title = _("Mouvements de stock")
    template_name = "stores/admin/movements.html"
    paginate_by = 50

    def filtered(self):
        self.filter_form = MovementFilterForm(self.request.GET or None, stores=self.stores.order_by("path"))
        movements = StockMovement.objects.for_stores(self.stores).select_related(
            "store", "ingredient", "user"
        )
        return self.filter_form.filter(movements)

    def get(self, request, *args, **kwargs):
        self.movements = self.filtered()
        if request.GET.get("format") == "csv":
            if self.filter_form.is_bound and not self.filter_form.is_valid():
                return HttpResponseBadRequest(
                    _("Filtres invalides : corrigez-les avant d'exporter."),
                    content_type="text/plain; charset=utf-8",
                )
            return movements_csv(self.movements)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        page = Paginator(self.movements, self.paginate_by).get_page(self.request.GET.get("p"))
        query = self.request.GET.copy()
        query.pop("p", None)
        query["format"] = "csv"
        return super().get_context_data(
            filter_form=self.filter_form,
            page_obj=page,
            csv_query=query.urlencode(),
            page_query=_without(self.request.GET, "p"),
            **kwargs,
        )


class GroupStockView(StockView):
    """Every store × every ingredient, for head office only."""

    page_title = _("Stock du groupe")
    template_name = "stores/admin/group_stock.html"

    def check_access(self, request, **kwargs):
        super().check_access(request, **kwargs)
        if not is_head_office(request.user):
            raise PermissionDenied

    def get_context_data(self, **kwargs):
        stores = list(StorePage.objects.order_by("path"))
        levels = _levels_by_store_and_ingredient(StockLevel.objects.all())
        rows = [
            {
                "ingredient": ingredient,
                "cells": [
                    {"store": store, **_cell(levels.get((store.id, ingredient.id)))} for store in stores
                ],
            }
            for ingredient in Ingredient.objects.order_by("name")
        ]
        return super().get_context_data(stores=stores, rows=rows, **kwargs)


def _levels_by_store_and_ingredient(levels):
    return {(level.store_id, level.ingredient_id): level for level in levels}


def _cell(level):
    """What a stock screen shows of a level. One rule for every screen: an ingredient never
    delivered to the store (no level row) is empty, hence low; what is low is what is free
    (on hand − reserved); a shortage is more reserved than on the shelf."""
    if level is None:
        return {"on_hand": 0, "reserved": 0, "free": 0, "shortage": 0, "threshold": 0, "low": True}
    return {
        "on_hand": level.on_hand,
        "reserved": level.reserved,
        "free": level.free,
        "shortage": level.shortage,
        "threshold": level.alert_threshold,
        "low": level.is_low,
    }


def open_alerts(user):
    """Unresolved low-stock alerts of the user's stores, newest first."""
    return (
        StockAlert.objects.filter(store__in=stock_stores(user), resolved_at__isnull=True)
        .select_related("store", "ingredient")
        .order_by("-created_at", "-id")
    )


CSV_HEADER = [
    _("Date"),
    _("Point de vente"),
    _("Ingrédient"),
    _("Type"),
    _("Variation en rayon"),
    _("Variation réservée"),
    _("Unité"),
    _("En rayon après"),
    _("Réservé après"),
    _("Par"),
    _("Commande"),
    _("Note"),
]


def movements_csv(movements):
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="mouvements-de-stock-{stamp}.csv"'
    response.write("\ufeff")  # so that spreadsheet software reads the accents right
    writer = csv.writer(response, delimiter=";")
    writer.writerow([str(title) for title in CSV_HEADER])
    for movement in movements.iterator(chunk_size=2000):
        writer.writerow(
            [
                timezone.localtime(movement.created_at).strftime("%Y-%m-%d %H:%M:%S"),
                csv_safe(movement.store.title),
                csv_safe(movement.ingredient.name),
                movement.get_kind_display(),
                movement.on_hand_change,
                movement.reserved_change,
                movement.ingredient.get_unit_display(),
                movement.on_hand_after,
                movement.reserved_after,
                csv_safe(movement.user.email if movement.user else ""),
                csv_safe(movement.order_reference),
                csv_safe(movement.note),
            ]
        )
    return response


def _without(query, key):
    query = query.copy()
    query.pop(key, None)
    return query.urlencode()


FOOD_COST_CSV_HEADER = [
    _("Point de vente"),
    _("Ingrédient"),
    _("Unité"),
    _("Stock d'ouverture"),
    _("Livraisons"),
    _("Stock de clôture"),
    _("Consommation réelle"),
    _("Consommation théorique"),
    _("Pertes déclarées"),
    _("Écart inexpliqué"),
    _("Prix d'achat HT"),
    _("Prix par"),
    _("Écart en euros"),
]


def food_cost_csv(store, report):
    """The report as a spreadsheet: UTF-8 with BOM, semicolons, decimal commas, text cells escaped.

    The opening and closing counts head the file; without them, the reason stands alone."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="ecarts-{store.slug}-{report.date_from:%Y%m%d}-{report.date_to:%Y%m%d}.csv"'
    )
    response.write("\ufeff")  # so that spreadsheet software reads the accents right
    writer = csv.writer(response, delimiter=";")
    if report.problem:
        writer.writerow([csv_safe(str(report.problem))])
        return response
    writer.writerow(
        [
            str(_("Inventaire d'ouverture")),
            timezone.localtime(report.opening_count.at).strftime("%Y-%m-%d %H:%M:%S"),
            str(_("Inventaire de clôture")),
            timezone.localtime(report.closing_count.at).strftime("%Y-%m-%d %H:%M:%S"),
        ]
    )
    writer.writerow([str(title) for title in FOOD_COST_CSV_HEADER])
    for row in report.rows:
        writer.writerow(
            [
                csv_safe(store.title),
                csv_safe(row.name),
                str(row.unit_label),
                row.opening,
                row.deliveries,
                row.closing,
                row.actual,
                row.expected,
                row.waste,
                row.gap,
                _decimal_comma(row.price_shown),
                str(row.price_label),
                _decimal_comma(row.gap_cost),
            ]
        )
    return response


def _decimal_comma(value):
    """A Decimal written the French way (« 12,50 »); empty for None."""
    return "" if value is None else str(value).replace(".", ",")
