"""The base of every Wagtail admin screen that shows some stores only (stock, ordering settings,
orders): one place that decides which stores the user may see, answers 403 otherwise, and
builds the breadcrumbs back to the screen's index.

A refusal answers 403 with a page of the admin (Wagtail would turn a raised PermissionDenied into
a redirect to the dashboard, which hides from scripts and tests that the request was refused).
"""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from .models import StorePage


class ScopedAdminView(WagtailAdminTemplateMixin, TemplateView):
    """An admin screen about the user's stores (`self.stores`, set before any handler runs).

    Subclasses say which stores the user may act on (`scoped_stores`), the page shown on a
    refusal (`forbidden_template`), the screen's index for the breadcrumbs (`index_url_name`,
    `index_label`), and optionally one more model permission the screen needs
    (`permission_required`). A user with no store at all is refused every screen.
    """

    forbidden_template = "stores/admin/forbidden.html"
    index_url_name = None
    index_label = None
    permission_required = None

    def scoped_stores(self, user):
        raise NotImplementedError

    def dispatch(self, request, *args, **kwargs):
        try:
            self.check_access(request, **kwargs)
        except PermissionDenied:
            return self.forbidden(request)
        return super().dispatch(request, *args, **kwargs)

    def forbidden(self, request):
        return TemplateResponse(request, self.forbidden_template, status=403)

    def check_access(self, request, **kwargs):
        self.stores = self.scoped_stores(request.user)
        if not self.stores.exists():
            raise PermissionDenied
        if self.permission_required and not request.user.has_perm(self.permission_required):
            raise PermissionDenied

    def scoped_store(self, store_id):
        """The store `store_id` if it is one of the user's (404 if unknown, else 403)."""
        store = get_object_or_404(StorePage, id=store_id)
        if not self.stores.filter(id=store.id).exists():
            raise PermissionDenied
        return store.specific

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse(self.index_url_name), "label": self.index_label},
            *self.inner_breadcrumbs(),
            {"url": "", "label": self.get_page_title()},
        ]

    def inner_breadcrumbs(self):
        return []
