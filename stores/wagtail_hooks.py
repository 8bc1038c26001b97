from django.core.exceptions import PermissionDenied
from django.urls import include, path, reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.views.defaults import permission_denied
from wagtail import hooks
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.menu import Menu, MenuItem, SubmenuMenuItem
from wagtail.admin.panels import ObjectList
from wagtail.admin.ui.components import Component
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views import chooser
from wagtail.snippets.views.snippets import SnippetViewSet

from . import admin_urls, ordering_admin_urls
from .access import CHANGE_ORDERING_SETTINGS, VIEW_STOCK, is_head_office, staff_accounts
from .admin_views import open_alerts
from .models import StoreMembership

# Whoever holds one of these may list memberships (Wagtail's rule for a snippet listing).
LIST_MEMBERSHIPS = ["add", "change", "delete", "view"]


class MayListMemberships:
    """Answers 403 to whoever may not list memberships, as the listing refuses them.

    Wagtail checks no permission on a snippet's chooser views, and turns a raised
    PermissionDenied into a redirect to the dashboard, which means nothing inside the chooser's
    modal: the 403 is answered here.
    """

    def dispatch(self, request, *args, **kwargs):
        policy = ModelPermissionPolicy(StoreMembership)
        if not policy.user_has_any_permission(request.user, LIST_MEMBERSHIPS):
            return permission_denied(request, PermissionDenied())
        return super().dispatch(request, *args, **kwargs)


class ChooseMembershipView(MayListMemberships, chooser.ChooseView):
    pass


class ChooseMembershipResultsView(MayListMemberships, chooser.ChooseResultsView):
    pass


class ChosenMembershipView(MayListMemberships, chooser.SnippetChosenView):
    pass


class ChosenMembershipsView(MayListMemberships, chooser.SnippetChosenMultipleView):
    pass


class CreateMembershipInChooserView(MayListMemberships, chooser.SnippetCreateView):
    """The listing permission's 403 first; without a creation form the URL is then a 404
    (`ocpizza/choosers.py`, for every chooser)."""


class StoreMembershipChooserViewSet(chooser.SnippetChooserViewSet):
    choose_view_class = ChooseMembershipView
    choose_results_view_class = ChooseMembershipResultsView
    chosen_view_class = ChosenMembershipView
    chosen_multiple_view_class = ChosenMembershipsView
    create_view_class = CreateMembershipInChooserView


class StoreMembershipForm(WagtailAdminModelForm):
    """Offers staff accounts only (`stores.access.staff_accounts`): a customer is never staff."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = staff_accounts()


class StoreMembershipViewSet(SnippetViewSet):
    """Who works where (head office only: the permission is held by the Siège group)."""

    model = StoreMembership
    edit_handler = ObjectList(StoreMembership.panels, base_form_class=StoreMembershipForm)
    chooser_viewset_class = StoreMembershipChooserViewSet
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


class OrderingSettingsMenuItem(MenuItem):
    """Shown to holders of `stores.change_storeorderingsettings` (Siège, store managers)."""

    def is_shown(self, request):
        return request.user.has_perm(CHANGE_ORDERING_SETTINGS)


@hooks.register("register_admin_urls")
def register_ordering_settings_urls():
    return [path("reglages-commande/", include(ordering_admin_urls, namespace="store_ordering"))]


@hooks.register("register_admin_menu_item")
def register_ordering_settings_menu():
    return OrderingSettingsMenuItem(
        _("Réglages de commande"),
        reverse_lazy("store_ordering:index"),
        icon_name="cog",
        name="store-ordering",
        order=260,
    )


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
