from django.urls import include, path, reverse_lazy
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import Menu, MenuItem, SubmenuMenuItem
from wagtail.admin.ui.components import Component
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from . import admin_urls
from .access import VIEW_STOCK, is_head_office
from .admin_views import open_alerts
from .models import StoreMembership


class StoreMembershipViewSet(SnippetViewSet):
    """Who works where (head office only: the permission is held by the Siège group)."""

    model = StoreMembership
    icon = "group"
    menu_label = _("Affectations")
    menu_order = 300
    add_to_admin_menu = True
    list_display = ["user", "store", "role"]
    list_filter = ["store", "role"]


register_snippet(StoreMembershipViewSet)


class StockMenuItem(MenuItem):
    """Shown to holders of `stores.view_stocklevel` (Siège, store managers), never to Marketing."""

    def __init__(self, *args, head_office_only=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.head_office_only = head_office_only

    def is_shown(self, request):
        if not request.user.has_perm(VIEW_STOCK):
            return False
        return is_head_office(request.user) if self.head_office_only else True


@hooks.register("register_admin_urls")
def register_stock_urls():
    return [path("stock/", include(admin_urls, namespace="stock"))]


@hooks.register("register_admin_menu_item")
def register_stock_menu():
    items = [
        StockMenuItem(
            _("Stock des points de vente"), reverse_lazy("stock:index"), icon_name="clipboard-list", order=1
        ),
        StockMenuItem(_("Mouvements"), reverse_lazy("stock:movements"), icon_name="history", order=2),
        StockMenuItem(
            _("Stock du groupe"),
            reverse_lazy("stock:group"),
            icon_name="table",
            order=3,
            head_office_only=True,
        ),
    ]
    return SubmenuMenuItem(_("Stock"), Menu(items=items), icon_name="clipboard-list", name="stock", order=250)


class LowStockPanel(Component):
    """The dashboard's notice of low stock in the user's stores (one line per open alert)."""

    name = "low_stock"
    template_name = "stores/admin/low_stock_panel.html"
    order = 50

    def __init__(self, alerts):
        self.alerts = alerts

    def get_context_data(self, parent_context):
        return {"alerts": self.alerts}


@hooks.register("construct_homepage_panels")
def add_low_stock_panel(request, panels):
    if not request.user.has_perm(VIEW_STOCK):
        return
    alerts = list(open_alerts(request.user)[:10])
    if alerts:
        panels.append(LowStockPanel(alerts))
