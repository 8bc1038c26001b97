"""Ordering settings and exceptional closures of the stores, in the Wagtail admin.

Head office edits every store's; a store manager only the stores they manage
(`access.ordering_settings_stores`); Marketing none. As on the stock screens, a store that is not
the user's answers 403, an unknown store or closure 404.
"""

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .access import is_head_office, ordering_settings_stores
from .admin_base import ScopedAdminView
from .forms import OrderingSettingsForm, StoreClosureForm
from .hours import ordering_settings
from .models import StoreClosure
from .services import free_order_prefix

ADD_CLOSURE = "stores.add_storeclosure"
CHANGE_CLOSURE = "stores.change_storeclosure"
DELETE_CLOSURE = "stores.delete_storeclosure"


class OrderingSettingsBaseView(ScopedAdminView):
    """Checks that the user may edit some store's ordering settings (else 403)."""

    header_icon = "cog"
    forbidden_template = "stores/admin/ordering_forbidden.html"
    index_url_name = "store_ordering:index"
    index_label = _("Réglages de commande")

    def scoped_stores(self, user):
        return ordering_settings_stores(user)


class StoreOrderingView(OrderingSettingsBaseView):
    """A screen about one store, which must be one of the user's stores (else 403)."""

    def check_access(self, request, *, store_id, **kwargs):
        super().check_access(request, **kwargs)
        self.store = self.scoped_store(store_id)

    def get_page_subtitle(self):
        return self.store.title

    def get_page_title(self):
        return f"{self.page_title} — {self.store.title}"

    def get_context_data(self, **kwargs):
        return super().get_context_data(store=self.store, **kwargs)

    def store_url(self):
        return reverse("store_ordering:store", args=[self.store.id])


class OrderingIndexView(OrderingSettingsBaseView):
    page_title = _("Réglages de commande")
    template_name = "stores/admin/ordering_index.html"

    def get(self, request, *args, **kwargs):
        if self.stores.count() == 1:
            return redirect("store_ordering:store", store_id=self.stores.get().id)
        return super().get(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        return []

    def get_context_data(self, **kwargs):
        today = timezone.localdate()
        stores = (
            self.stores.order_by("path")
            .select_related("ordering_settings")
            .prefetch_related(
                Prefetch(
                    "closures",
                    queryset=StoreClosure.objects.current_or_upcoming(today),
                    to_attr="coming_closures",
                )
            )
        )
        rows = [(store, ordering_settings(store), store.coming_closures[:1]) for store in stores]
        return super().get_context_data(rows=rows, **kwargs)


class StoreOrderingSettingsView(StoreOrderingView):
    """The store's settings form, and its exceptional closures under way or to come."""

    page_title = _("Réglages de commande")
    template_name = "stores/admin/ordering_store.html"

    def make_form(self, data=None):
        instance = ordering_settings(self.store)
        if instance.pk is None:  # the derived prefix may be another store's: offer a free one
            instance.order_prefix = free_order_prefix(self.store.slug, store_id=self.store.pk)
        return OrderingSettingsForm(
            data,
            instance=instance,
            can_change_prefix=is_head_office(self.request.user),
        )

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(form=self.make_form()))

    def post(self, request, *args, **kwargs):
        form = self.make_form(request.POST)
        if form.is_valid():
            form.instance.store = self.store
            try:
                with transaction.atomic():
                    form.save()
            except IntegrityError:  # another user saved this store or this prefix meanwhile
                form.add_error(None, _("Ces réglages viennent d'être modifiés ailleurs : rechargez la page."))
            else:
                messages.success(request, _("Réglages de commande enregistrés."))
                return redirect(self.store_url())
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def get_context_data(self, **kwargs):
        today = timezone.localdate()
        closures = StoreClosure.objects.filter(store=self.store)
        user = self.request.user
        return super().get_context_data(
            closures=closures.current_or_upcoming(today),
            past_closures=closures.filter(ends_on__lt=today).order_by("-starts_on", "-id")[:10],
            can_add_closure=user.has_perm(ADD_CLOSURE),
            can_change_closure=user.has_perm(CHANGE_CLOSURE),
            can_delete_closure=user.has_perm(DELETE_CLOSURE),
            **kwargs,
        )


class ClosureFormView(StoreOrderingView):
    """Add a closure to the store, or change one of its closures."""

    template_name = "stores/admin/ordering_closure_form.html"

    def check_access(self, request, *, store_id, closure_id=None, **kwargs):
        super().check_access(request, store_id=store_id, **kwargs)
        self.closure = (
            get_object_or_404(StoreClosure, id=closure_id, store=self.store)
            if closure_id is not None
            else StoreClosure(store=self.store)
        )

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(form=StoreClosureForm(instance=self.closure)))

    def post(self, request, *args, **kwargs):
        form = StoreClosureForm(request.POST, instance=self.closure)
        if form.is_valid():
            with transaction.atomic():  # the closure and the orders' token (menu.catalogue) at once
                form.save()
            messages.success(request, self.success_message)
            return redirect(self.store_url())
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def inner_breadcrumbs(self):
        return [{"url": self.store_url(), "label": self.store.title}]


class ClosureCreateView(ClosureFormView):
    page_title = _("Nouvelle fermeture exceptionnelle")
    permission_required = ADD_CLOSURE
    success_message = _("Fermeture exceptionnelle ajoutée.")


class ClosureEditView(ClosureFormView):
    page_title = _("Fermeture exceptionnelle")
    permission_required = CHANGE_CLOSURE
    success_message = _("Fermeture exceptionnelle enregistrée.")


class ClosureDeleteView(StoreOrderingView):
    page_title = _("Supprimer une fermeture exceptionnelle")
    permission_required = DELETE_CLOSURE
    template_name = "stores/admin/ordering_closure_delete.html"

    def check_access(self, request, *, store_id, closure_id, **kwargs):
        super().check_access(request, store_id=store_id, **kwargs)
        self.closure = get_object_or_404(StoreClosure, id=closure_id, store=self.store)

    def get_context_data(self, **kwargs):
        return super().get_context_data(closure=self.closure, **kwargs)

    def post(self, request, *args, **kwargs):
        self.closure.delete()
        messages.success(request, _("Fermeture exceptionnelle supprimée."))
        return redirect(self.store_url())

    def inner_breadcrumbs(self):
        return [{"url": self.store_url(), "label": self.store.title}]
