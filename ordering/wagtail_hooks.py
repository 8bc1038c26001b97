from django.urls import include, path, reverse_lazy
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from . import admin_urls, report_urls
from .access import VIEW_ORDERS


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


@hooks.register("register_admin_urls")
def register_reports_urls():
    return [path("rapports/", include(report_urls, namespace="reports_admin"))]


@hooks.register("register_admin_menu_item")
def register_reports_menu():
    return OrdersMenuItem(
        _("Rapports"), reverse_lazy("reports_admin:index"), icon_name="table", name="reports", order=241
    )
