from django.urls import include, path, reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.components import Component

from stores.access import is_head_office

from . import admin_urls, report_urls
from .access import VIEW_ORDERS, order_stores
from .dashboard import late_orders, todays_orders


class OrdersMenuItem(MenuItem):
    """Shown to holders of `ordering.view_order` (Siège, store managers)."""

    def is_shown(self, request):
        return request.user.has_perm(VIEW_ORDERS)


@hooks.register("register_admin_urls")
def register_orders_urls():
    return [path("commandes/", include(admin_urls, namespace="orders_admin"))]


@hooks.register("register_admin_menu_item")
def register_orders_menu():
    return OrdersMenuItem(
        _("Commandes"), reverse_lazy("orders_admin:index"), icon_name="list-ul", name="orders", order=240
    )


class TodayOrdersPanel(Component):
    """Today's orders (Paris day) per status in each of the user's stores."""

    name = "todays_orders"
    template_name = "ordering/admin/dashboard_today.html"
    order = 40

    def __init__(self, today):
        self.today = today

    def get_context_data(self, parent_context):
        return {"today": self.today}


class LateOrdersPanel(Component):
    """The orders of the user's stores late on their promised time, longest late first."""

    name = "late_orders"
    template_name = "ordering/admin/dashboard_late.html"
    order = 45

    def __init__(self, late, total):
        self.late, self.total = late, total

    def get_context_data(self, parent_context):
        return {"late": self.late, "total": self.total, "more": self.total - len(self.late)}


@hooks.register("construct_homepage_panels")
def add_order_panels(request, panels):
    """Head office and store managers (`order_stores`); nobody else. Low stock has its own panel
    (`stores/wagtail_hooks.py`)."""
    user = request.user
    if not user.has_perm(VIEW_ORDERS):
        return
    stores = list(order_stores(user).order_by("title"))
    if not stores:
        return
    head_office = is_head_office(user)
    now = timezone.now()
    panels.append(TodayOrdersPanel(todays_orders(stores, head_office=head_office, now=now)))
    late, total = late_orders(stores, head_office=head_office, now=now)
    panels.append(LateOrdersPanel(late, total))


@hooks.register("register_admin_urls")
def register_reports_urls():
    return [path("rapports/", include(report_urls, namespace="reports_admin"))]


@hooks.register("register_admin_menu_item")
def register_reports_menu():
    return OrdersMenuItem(
        _("Rapports"), reverse_lazy("reports_admin:index"), icon_name="table", name="reports", order=241
    )
