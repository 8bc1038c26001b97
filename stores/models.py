"""Stores (pages with address, hours and coordinates) and who works in which store."""

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from wagtail.admin.forms import WagtailAdminPageForm
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel
from wagtail.models import Orderable, Page, PageManager
from wagtail.query import PageQuerySet
from wagtail.search import index

from menu.catalogue import kept
from menu.head_office import HeadOfficeFields, HeadOfficeFieldsFormMixin, HeadOfficeFieldsMixin
from menu.models import (
    MenuPage,
    OneChildTypeRouteMixin,
    OneQueryViewRestrictionsMixin,
    renditions_prefetch,
)
from menu.panels import PermissionedFormsetsMixin, PermissionedInlinePanel


class MapPageMixin:
    """A page that shows a Google map when a browser key is set (`GOOGLE_MAPS_BROWSER_KEY`).

    Its responses, and only theirs, add the Maps JavaScript API's origins (`GOOGLE_MAPS_CSP`) to the
    storefront's Content-Security-Policy; without a key the page has no map and the policy is the
    storefront's own.
    """

    def serve(self, request, *args, **kwargs):
        return self._allow_maps(super().serve(request, *args, **kwargs))

    def serve_preview(self, request, *args, **kwargs):
        return self._allow_maps(super().serve_preview(request, *args, **kwargs))

    @staticmethod
    def _allow_maps(response):
        if settings.GOOGLE_MAPS_BROWSER_KEY:
            response._csp_update = settings.GOOGLE_MAPS_CSP
        return response


class StoreIndexPage(OneChildTypeRouteMixin, OneQueryViewRestrictionsMixin, MapPageMixin, Page):
    """The store locator: every store of the chain, open or closed now, nearest first when the
    visitor gives an address or their position (`stores.locator`)."""

    intro = models.TextField(_("introduction"), blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]

    parent_page_types = ["home.HomePage"]
    subpage_types = ["stores.StorePage"]
    max_count = 1
    page_description = _("La liste des points de vente (localisateur).")

    class Meta:
        verbose_name = _("liste des points de vente")

    def typed_children(self):
        return StorePage.objects.child_of(self).select_related("photo", "ordering_settings")

    def get_context(self, request, *args, **kwargs):
        from .locator import locator_context

        context = super().get_context(request, *args, **kwargs)
        stores = StorePage.objects.child_of(self).live().for_listing()
        context.update(locator_context(request, stores))
        return context


class StoreQuerySet(PageQuerySet):
    def for_listing(self):
        return (
            self.select_related("photo", "ordering_settings")
            .prefetch_related(
                "opening_hours",
                "closures",  # a few rows per store; `stores.hours` reads them from the prefetch
                "delivery_bands",  # `stores.areas` reads them from the prefetch
                renditions_prefetch("photo"),
            )
            .order_by("path")
        )


MONEY_MAX_DIGITS = 8

# Where a store delivers and where its payments go: head office's (ocpizza.roles), not marketing's.
CHANGE_STORE_OPERATIONS = "stores.change_store_operations"


class StorePageForm(HeadOfficeFieldsFormMixin, PermissionedFormsetsMixin, WagtailAdminPageForm):
    """A user without `stores.change_store_operations` edits from the live delivery and payment fields."""

    def clean(self):
        cleaned_data = super().clean()
        bands = self.formsets.get("delivery_bands")
        if bands is None or not bands.is_valid():  # two bands at one distance: the formset says so
            return cleaned_data
        limits = [
            form.cleaned_data["up_to_km"]
            for form in bands.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE") and form.cleaned_data.get("up_to_km")
        ]
        radius = cleaned_data.get("delivery_radius_km")
        if radius is not None and any(limit > radius for limit in limits):
            self.add_error(
                "delivery_radius_km", _("Une tranche de livraison va au-delà du rayon de livraison.")
            )
        return cleaned_data


class StorePage(MapPageMixin, HeadOfficeFieldsMixin, OneQueryViewRestrictionsMixin, Page):
    """One pizzeria: where it is, when it is open, what it delivers, and its payment location.

    Its delivery area (`stores.areas`): the postcodes it delivers and/or a radius around it; when
    both are set an address must be in both. Distance bands (`DeliveryBand`) may set the fee and
    the minimum order by distance, over the store's ordering settings.
    The delivery area and the payment location go live only from a revision by a holder of
    `stores.change_store_operations`, whatever the path (see `menu.head_office`).
    """

    street_address = models.CharField(_("adresse"), max_length=120)
    postcode = models.CharField(
        _("code postal"),
        max_length=5,
        validators=[RegexValidator(r"^\d{5}$", _("Code postal à 5 chiffres."))],
    )
    city = models.CharField(_("ville"), max_length=80)
    phone = models.CharField(_("téléphone"), max_length=20)
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    intro = models.TextField(_("présentation"), blank=True, max_length=500)
    photo = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("photo"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    delivery_postcodes = models.CharField(
        _("codes postaux livrés"),
        max_length=200,
        blank=True,
        help_text=_("Séparés par des virgules, par exemple « 69002, 69005 ». Vide : retrait seulement."),
    )
    delivery_radius_km = models.DecimalField(
        _("rayon de livraison (km)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.1")), MaxValueValidator(Decimal("100"))],
        help_text=_(
            "À vol d'oiseau depuis le point de vente. Vide : les codes postaux seuls. "
            "Avec des codes postaux, l'adresse doit être dans les deux."
        ),
    )
    payment_location_id = models.CharField(
        _("identifiant de l'emplacement de paiement"),
        max_length=64,
        blank=True,
        help_text=_("L'identifiant « location » Square de ce point de vente."),
    )

    objects = PageManager.from_queryset(StoreQuerySet)()

    search_fields = Page.search_fields + [index.SearchField("city"), index.SearchField("street_address")]

    content_panels = Page.content_panels + [
        MultiFieldPanel(
            [
                FieldPanel("street_address"),
                FieldRowPanel([FieldPanel("postcode"), FieldPanel("city")]),
                FieldPanel("phone"),
                FieldRowPanel([FieldPanel("latitude"), FieldPanel("longitude")]),
            ],
            heading=_("Adresse et contact"),
        ),
        FieldPanel("intro"),
        FieldPanel("photo"),
        InlinePanel("opening_hours", heading=_("Horaires d'ouverture"), label=_("créneau")),
        MultiFieldPanel(
            [
                FieldPanel("delivery_postcodes", permission=CHANGE_STORE_OPERATIONS),
                FieldPanel("delivery_radius_km", permission=CHANGE_STORE_OPERATIONS),
                FieldPanel("payment_location_id", permission=CHANGE_STORE_OPERATIONS),
            ],
            heading=_("Livraison et paiement"),
        ),
        PermissionedInlinePanel(
            "delivery_bands",
            permission=CHANGE_STORE_OPERATIONS,
            heading=_("Frais et minimum par distance"),
            label=_("tranche"),
            help_text=_(
                "Facultatif. Chaque tranche vaut jusqu'à sa distance (incluse) ; au-delà de la "
                "dernière, les frais et le minimum des réglages de commande s'appliquent."
            ),
        ),
    ]
    base_form_class = StorePageForm
    head_office_fields = HeadOfficeFields(
        permission=CHANGE_STORE_OPERATIONS,
        fields=("delivery_postcodes", "delivery_radius_km", "payment_location_id"),
        relations=("delivery_bands",),
    )

    parent_page_types = ["stores.StoreIndexPage"]
    subpage_types = []
    page_description = _("Un point de vente : adresse, horaires, coordonnées, zone de livraison.")

    class Meta:
        verbose_name = _("point de vente")
        verbose_name_plural = _("points de vente")
        permissions = [
            (
                "change_store_operations",
                _("Peut modifier la zone de livraison et le paiement des points de vente"),
            )
        ]

    @property
    def full_address(self):
        return f"{self.street_address}, {self.postcode} {self.city}"

    @property
    def delivery_postcode_list(self):
        return [code.strip() for code in self.delivery_postcodes.split(",") if code.strip()]

    def opening_days(self):
        """Opening hours grouped by weekday, Monday first; a day with no slot is closed."""
        slots = sorted(self.opening_hours.all(), key=lambda s: (s.weekday, s.opens))
        return [
            {"weekday": day, "label": label, "slots": [s for s in slots if s.weekday == day]}
            for day, label in Weekday.choices
        ]

    def get_context(self, request, *args, **kwargs):
        from .geo import maps_link, place_link
        from .hours import next_opening, ordering_settings
        from .locator import map_context

        # Hours and closures are read several times (open now, next opening, the table): load
        # them once. A preview's page holds the editor's unsaved hours in memory, left alone.
        if not getattr(request, "is_preview", False):
            prefetch_related_objects([self], "opening_hours", "closures")
        context = super().get_context(request, *args, **kwargs)
        context["ordering"] = ordering_settings(self)
        context["closure"] = self.next_closure()
        now = timezone.now()
        context["open_now"] = self.is_open(now)
        context["next_opening"] = None if context["open_now"] else next_opening(self, now)
        context.update(map_context([self], request=request))
        context["directions_url"] = maps_link(destination=self)
        context["map_url"] = place_link(self)
        context["menu_url"] = self.menu_url(request)
        return context

    def next_closure(self, today=None):
        """The exceptional closure under way or the next one to come (None if there is none)."""
        today = today or timezone.localdate()
        prefetched = getattr(self, "_prefetched_objects_cache", {}).get("closures")
        if prefetched is not None:
            coming = [closure for closure in prefetched if closure.ends_on >= today]
            return min(coming, key=lambda closure: (closure.starts_on, closure.id), default=None)
        return StoreClosure.objects.filter(store=self).current_or_upcoming(today).first()

    def menu_url(self, request=None):
        """This store's menu, where what it cannot make right now is greyed out ("" if no menu).
        With `request`, the menu page is read once per content generation (`menu.catalogue`)."""
        menu = kept(request, ("live menu",), lambda: MenuPage.objects.live().first())
        return menu.store_menu_url(self, request) if menu else ""

    def is_open(self, now=None):
        """Open at `now` (default: now), after-midnight hours and exceptional closures included."""
        from .hours import is_open_at

        return is_open_at(self, now or timezone.now())


class DeliveryBand(Orderable):
    """The delivery fee and minimum order up to a distance from the store (head office's).

    The band that applies is the one with the smallest `up_to_km` at or above the distance;
    a field left empty, or a distance beyond every band, takes the store's ordering settings.
    """

    store = ParentalKey(StorePage, on_delete=models.CASCADE, related_name="delivery_bands")
    up_to_km = models.DecimalField(
        _("jusqu'à (km)"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.1")), MaxValueValidator(Decimal("100"))],
    )
    delivery_fee = models.DecimalField(
        _("frais de livraison (€)"),
        max_digits=MONEY_MAX_DIGITS,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Vide : les frais des réglages de commande."),
    )
    minimum_order = models.DecimalField(
        _("minimum de commande (€)"),
        max_digits=MONEY_MAX_DIGITS,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Vide : le minimum des réglages de commande."),
    )

    panels = [
        FieldRowPanel([FieldPanel("up_to_km"), FieldPanel("delivery_fee"), FieldPanel("minimum_order")])
    ]

    class Meta(Orderable.Meta):
        verbose_name = _("tranche de livraison")
        verbose_name_plural = _("tranches de livraison")
        constraints = [
            models.UniqueConstraint(fields=["store", "up_to_km"], name="stores_deliveryband_unique_distance"),
            models.CheckConstraint(
                condition=models.Q(up_to_km__gt=0), name="stores_deliveryband_distance_positive"
            ),
            models.CheckConstraint(
                condition=(models.Q(delivery_fee__isnull=True) | models.Q(delivery_fee__gte=0))
                & (models.Q(minimum_order__isnull=True) | models.Q(minimum_order__gte=0)),
                name="stores_deliveryband_money_not_negative",
            ),
        ]

    def __str__(self):
        return f"≤ {self.up_to_km} km"


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Lundi")
    TUESDAY = 1, _("Mardi")
    WEDNESDAY = 2, _("Mercredi")
    THURSDAY = 3, _("Jeudi")
    FRIDAY = 4, _("Vendredi")
    SATURDAY = 5, _("Samedi")
    SUNDAY = 6, _("Dimanche")


def default_opening():
    """11:30, the usual lunch opening. A callable: a fixed time default makes Django's system check
    warn (fields.W161) whenever the clock is within ten seconds of it."""
    return datetime.time(11, 30)


def default_closing():
    """14:30, the usual end of lunch (a callable for the same reason)."""
    return datetime.time(14, 30)


class OpeningHours(Orderable):
    """One opening slot on one weekday (a store may open twice a day: lunch and evening)."""

    store = ParentalKey(StorePage, on_delete=models.CASCADE, related_name="opening_hours")
    weekday = models.PositiveSmallIntegerField(_("jour"), choices=Weekday.choices)
    opens = models.TimeField(_("ouverture"), default=default_opening)
    closes = models.TimeField(_("fermeture"), default=default_closing)

    panels = [FieldRowPanel([FieldPanel("weekday"), FieldPanel("opens"), FieldPanel("closes")])]

    class Meta(Orderable.Meta):
        verbose_name = _("créneau d'ouverture")
        verbose_name_plural = _("horaires d'ouverture")
        constraints = [
            # A closing time at or before the opening time is on the next day (18:00–01:00).
            models.CheckConstraint(
                condition=~models.Q(closes=models.F("opens")),
                name="stores_openinghours_closes_differs_from_opens",
            ),
        ]

    def clean(self):
        if self.opens is not None and self.closes is not None and self.closes == self.opens:
            raise ValidationError({"closes": _("La fermeture doit être différente de l'ouverture.")})

    @property
    def ends_next_day(self):
        """True when the slot ends after midnight, on the next day (closes <= opens)."""
        return self.closes <= self.opens

    def __str__(self):
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"


class StoreRole(models.TextChoices):
    MANAGER = "manager", _("Responsable")
    STAFF = "staff", _("Équipier")
    PIZZAIOLO = "pizzaiolo", _("Pizzaiolo")
    DRIVER = "driver", _("Livreur")


class StoreMembershipQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(user=user)


class StoreMembership(models.Model):
    """A person working in a store, with their role there. Staff see only their stores."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="store_memberships",
        verbose_name=_("personne"),
    )
    store = models.ForeignKey(
        StorePage, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("point de vente")
    )
    role = models.CharField(_("rôle"), max_length=12, choices=StoreRole.choices)

    objects = StoreMembershipQuerySet.as_manager()

    panels = [FieldPanel("user"), FieldPanel("store"), FieldPanel("role")]

    class Meta:
        verbose_name = _("affectation")
        verbose_name_plural = _("affectations")
        constraints = [models.UniqueConstraint(fields=["user", "store"], name="stores_membership_unique")]

    def __str__(self):
        return f"{self.user} — {self.store.title} ({self.get_role_display()})"


# Quantities are whole units (g, ml, pieces); one line of a form or a service call is at most
# MAX_LINE_QUANTITY, and no level may pass MAX_LEVEL (the column's range, PostgreSQL's integer).
MAX_LINE_QUANTITY = 1_000_000
MAX_LEVEL = 2_147_483_647


class StockLevel(models.Model):
    """How much of one ingredient one store has, in the ingredient's unit: two quantities.

    `on_hand` is what is physically in the store (deliveries, waste, counts and the kitchen change
    it); `reserved` is what open orders hold and the kitchen has not used yet. What can be sold is
    `free` = on hand − reserved. A count may find less on the shelf than is reserved: `free` is
    then negative, shown as a shortage to act on (nothing constrains reserved ≤ on hand).

    Written only by `stores.services`, which appends a `StockMovement` in the same transaction:
    each quantity always equals the sum of the store's movements for the ingredient.
    `below_threshold` remembers that an alert was raised, so one crossing raises one alert.
    """

    store = models.ForeignKey(
        StorePage, on_delete=models.CASCADE, related_name="stock_levels", verbose_name=_("point de vente")
    )
    ingredient = models.ForeignKey(
        "menu.Ingredient", on_delete=models.PROTECT, related_name="stock_levels", verbose_name=_("ingrédient")
    )
    on_hand = models.IntegerField(_("en rayon"), default=0)
    reserved = models.IntegerField(_("réservé"), default=0)
    alert_threshold = models.PositiveIntegerField(
        _("seuil d'alerte"),
        default=0,
        help_text=_("Alerte quand la quantité disponible passe à ce niveau ou en dessous."),
    )
    below_threshold = models.BooleanField(_("sous le seuil"), default=False, editable=False)
    threshold_set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("seuil fixé par"),
    )
    threshold_set_at = models.DateTimeField(_("seuil fixé le"), null=True, blank=True)
    updated_at = models.DateTimeField(_("mis à jour le"), auto_now=True)

    class Meta:
        verbose_name = _("niveau de stock")
        verbose_name_plural = _("niveaux de stock")
        ordering = ["store", "ingredient__name"]
        constraints = [
            models.UniqueConstraint(fields=["store", "ingredient"], name="stores_stocklevel_unique"),
            models.CheckConstraint(
                condition=models.Q(on_hand__gte=0), name="stores_stocklevel_on_hand_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(reserved__gte=0), name="stores_stocklevel_reserved_not_negative"
            ),
        ]

    def __str__(self):
        return f"{self.store.title} — {self.ingredient.name} : {self.on_hand} ({self.reserved})"

    @property
    def free(self):
        """What can still be sold: on hand − reserved (negative when a count found a shortage)."""
        return self.on_hand - self.reserved

    @property
    def shortage(self):
        """How much open orders hold beyond what is on the shelf (0 when there is enough)."""
        return max(self.reserved - self.on_hand, 0)

    @property
    def is_low(self):
        return self.free <= self.alert_threshold


class StockMovementQuerySet(models.QuerySet):
    def for_stores(self, stores):
        return self.filter(store__in=stores)


class StockMovement(models.Model):
    """One change of a stock level (append-only: never edited, never deleted).

    Each movement changes on hand, reserved, or both, by signed amounts (never both zero):
    - `reservation`: an order holds ingredients (reserved +);
    - `release`: an order cancelled or changed before the kitchen started gives them back
      (reserved −);
    - `consumption`: the kitchen starts the order and uses what it held (on hand − and reserved −);
    - `restoration`: the kitchen undoes a start tapped by mistake: what the consumption took comes
      back, on hand and reserved alike (on hand + and reserved +);
    - `restock` (on hand +), `waste` (on hand −), `correction` (an inventory count, on hand ±).
    `order_reference` names the order (the ordering app stores its order number there; nothing
    here imports it). Movements written before reservations existed (kinds sale and cancellation)
    were migrated to `consumption` and `release` with their on-hand change and no reserved change.
    """

    class Kind(models.TextChoices):
        RESERVATION = "reservation", _("réservation")
        RELEASE = "release", _("libération")
        CONSUMPTION = "consumption", _("consommation")
        RESTORATION = "restoration", _("consommation annulée")
        RESTOCK = "restock", _("livraison")
        CORRECTION = "correction", _("correction d'inventaire")
        WASTE = "waste", _("perte")

    store = models.ForeignKey(
        StorePage, on_delete=models.PROTECT, related_name="stock_movements", verbose_name=_("point de vente")
    )
    ingredient = models.ForeignKey(
        "menu.Ingredient",
        on_delete=models.PROTECT,
        related_name="stock_movements",
        verbose_name=_("ingrédient"),
    )
    kind = models.CharField(_("type"), max_length=12, choices=Kind.choices)
    on_hand_change = models.IntegerField(_("variation en rayon"), default=0)
    reserved_change = models.IntegerField(_("variation réservée"), default=0)
    on_hand_after = models.IntegerField(_("en rayon après"))
    reserved_after = models.IntegerField(_("réservé après"), default=0)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="stock_movements",
        verbose_name=_("par"),
    )
    order_reference = models.CharField(_("commande"), max_length=40, blank=True, db_index=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("date"), default=timezone.now, db_index=True)

    objects = StockMovementQuerySet.as_manager()

    class Meta:
        verbose_name = _("mouvement de stock")
        verbose_name_plural = _("mouvements de stock")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(on_hand_change=0, reserved_change=0),
                name="stores_stockmovement_changes_something",
            ),
        ]

    def __str__(self):
        return (
            f"{self.get_kind_display()} {self.on_hand_change:+d}/{self.reserved_change:+d} "
            f"{self.ingredient.name} ({self.store.title})"
        )


class StockAlert(models.Model):
    """A level that went down to its alert threshold: shown in the admin until restocked."""

    store = models.ForeignKey(
        StorePage, on_delete=models.CASCADE, related_name="stock_alerts", verbose_name=_("point de vente")
    )
    ingredient = models.ForeignKey(
        "menu.Ingredient", on_delete=models.CASCADE, related_name="stock_alerts", verbose_name=_("ingrédient")
    )
    quantity = models.IntegerField(_("disponible au moment de l'alerte"))
    threshold = models.PositiveIntegerField(_("seuil"))
    created_at = models.DateTimeField(_("date"), default=timezone.now)
    resolved_at = models.DateTimeField(_("résolue le"), null=True, blank=True)

    class Meta:
        verbose_name = _("alerte de stock")
        verbose_name_plural = _("alertes de stock")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.store.title} — {self.ingredient.name} : {self.quantity}"


class ProductWithdrawalQuerySet(models.QuerySet):
    def active(self):
        return self.filter(restored_at__isnull=True)


class ProductWithdrawal(models.Model):
    """A product a store takes off its own menu for a while (its oven is down, a supplier is late…).

    The chain-wide switch is `ProductPage.is_available`; this row only concerns one store. The
    store's managers put it and remove it from the stock screens; it never touches the stock.
    Putting the product back on sale closes the row (`restored_at`, `restored_by`): the rows are
    the store's history of withdrawals, at most one of them open per product.
    """

    store = models.ForeignKey(
        StorePage, on_delete=models.CASCADE, related_name="withdrawals", verbose_name=_("point de vente")
    )
    product = models.ForeignKey(
        "menu.ProductPage", on_delete=models.CASCADE, related_name="withdrawals", verbose_name=_("produit")
    )
    reason = models.CharField(_("motif"), max_length=120, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("par"),
    )
    created_at = models.DateTimeField(_("depuis le"), default=timezone.now)
    restored_at = models.DateTimeField(_("remis en vente le"), null=True, blank=True)
    restored_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("remis en vente par"),
    )

    objects = ProductWithdrawalQuerySet.as_manager()

    class Meta:
        verbose_name = _("produit retiré de la vente")
        verbose_name_plural = _("produits retirés de la vente")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["store", "product"],
                condition=models.Q(restored_at__isnull=True),
                name="stores_withdrawal_one_open",
            ),
        ]

    def __str__(self):
        return f"{self.store.title} — {self.product.title}"


class StockFormSubmission(models.Model):
    """A delivery or waste form already recorded: its random token, claimed in the transaction
    of the write, so that the same form posted twice (a double click, the back button, two tabs)
    is recorded once. Written only by the stock screens; never edited."""

    store = models.ForeignKey(StorePage, on_delete=models.CASCADE, related_name="+")
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("saisie de stock enregistrée")
        verbose_name_plural = _("saisies de stock enregistrées")

    def __str__(self):
        return f"{self.store_id}:{self.token}"


class OnSitePayment(models.TextChoices):
    """How a customer may pay on delivery or at pickup (card online is `online_payment`)."""

    CASH = "cash", _("Espèces")
    CARD_TERMINAL = "card_terminal", _("Carte bancaire (terminal)")
    MEAL_VOUCHER = "meal_voucher", _("Titres-restaurant")
    CHEQUE = "cheque", _("Chèque")


def all_on_site_payments():
    return [choice.value for choice in OnSitePayment]


def validate_on_site_payments(value):
    if not isinstance(value, list) or not all(isinstance(code, str) for code in value):
        raise ValidationError(_("Liste de moyens de paiement invalide."))
    unknown = sorted(set(value) - set(OnSitePayment.values))
    if unknown:
        raise ValidationError(
            _("Moyen de paiement inconnu : %(codes)s."), params={"codes": ", ".join(unknown)}
        )


class StoreOrderingSettings(models.Model):
    """How a store takes orders: prefix of its order numbers, delivery terms, kitchen pace, payments.

    Read through `stores.hours.ordering_settings(store)`, which gives an unsaved default instance
    to a store that has none yet.
    """

    store = models.OneToOneField(
        StorePage,
        on_delete=models.CASCADE,
        related_name="ordering_settings",
        verbose_name=_("point de vente"),
    )
    order_prefix = models.CharField(
        _("préfixe des commandes"),
        max_length=3,
        unique=True,
        validators=[RegexValidator(r"^[A-Z]{3}$", _("Trois lettres majuscules, par exemple « VAI »."))],
        help_text=_("Trois lettres majuscules en tête des numéros de commande, par exemple « VAI »."),
    )
    minimum_order = models.DecimalField(
        _("minimum de commande en livraison (€)"),
        max_digits=MONEY_MAX_DIGITS,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    delivery_fee = models.DecimalField(
        _("frais de livraison (€)"),
        max_digits=MONEY_MAX_DIGITS,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    free_delivery_from = models.DecimalField(
        _("livraison offerte à partir de (€)"),
        max_digits=MONEY_MAX_DIGITS,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Vide : la livraison n'est jamais offerte."),
    )
    lead_time_minutes = models.PositiveSmallIntegerField(
        _("temps de préparation (minutes)"),
        default=20,
        validators=[MaxValueValidator(240)],
        help_text=_("Le temps de cuisine d'une commande, de 0 à 240 minutes."),
    )
    delivery_minutes = models.PositiveSmallIntegerField(
        _("temps de livraison (minutes)"),
        default=20,
        validators=[MaxValueValidator(240)],
        help_text=_("Le trajet ajouté pour une livraison, de 0 à 240 minutes."),
    )
    slot_capacity = models.PositiveSmallIntegerField(
        _("commandes par créneau de 15 minutes"),
        default=6,
        validators=[MinValueValidator(1), MaxValueValidator(500)],
    )
    accepted_payments = models.JSONField(
        _("paiements acceptés à la livraison ou au retrait"),
        default=all_on_site_payments,
        blank=True,
        validators=[validate_on_site_payments],
    )
    online_payment = models.BooleanField(_("paiement par carte en ligne"), default=True)
    accepts_orders = models.BooleanField(
        _("prend les commandes en ligne"),
        default=True,
        help_text=_("Décoché : le point de vente n'accepte plus de commande sur le site."),
    )

    class Meta:
        verbose_name = _("réglages de commande")
        verbose_name_plural = _("réglages de commande")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(order_prefix__regex=r"^[A-Z]{3}$"),
                name="stores_orderingsettings_prefix_three_letters",
            ),
            models.CheckConstraint(
                condition=models.Q(minimum_order__gte=0, delivery_fee__gte=0)
                & (models.Q(free_delivery_from__isnull=True) | models.Q(free_delivery_from__gte=0)),
                name="stores_orderingsettings_money_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(lead_time_minutes__lte=240, delivery_minutes__lte=240),
                name="stores_orderingsettings_minutes_in_range",
            ),
            models.CheckConstraint(
                condition=models.Q(slot_capacity__gte=1), name="stores_orderingsettings_capacity_positive"
            ),
        ]

    def __str__(self):
        return f"{self.store.title} ({self.order_prefix})"

    def accepted_payment_labels(self):
        labels = dict(OnSitePayment.choices)
        return [labels[code] for code in OnSitePayment.values if code in (self.accepted_payments or [])]

    def delivery_fee_for(self, subtotal):
        """The delivery fee for a basket of `subtotal` euros (0 from `free_delivery_from`)."""
        if self.free_delivery_from is not None and subtotal >= self.free_delivery_from:
            return Decimal("0.00")
        return self.delivery_fee


class StoreClosureQuerySet(models.QuerySet):
    def on(self, day):
        return self.filter(starts_on__lte=day, ends_on__gte=day)

    def current_or_upcoming(self, today):
        return self.filter(ends_on__gte=today).order_by("starts_on", "id")


class StoreClosure(models.Model):
    """An exceptional closure: from `starts_on` to `ends_on` (both included), with a message."""

    store = models.ForeignKey(
        StorePage, on_delete=models.CASCADE, related_name="closures", verbose_name=_("point de vente")
    )
    starts_on = models.DateField(_("du"))
    ends_on = models.DateField(_("au (inclus)"))
    message = models.CharField(
        _("message aux clients"),
        max_length=200,
        help_text=_("Affiché sur la page du point de vente, par exemple « Fermé pour travaux »."),
    )

    objects = StoreClosureQuerySet.as_manager()

    class Meta:
        verbose_name = _("fermeture exceptionnelle")
        verbose_name_plural = _("fermetures exceptionnelles")
        ordering = ["store", "starts_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")), name="stores_closure_ends_after_start"
            ),
        ]

    def clean(self):
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": _("La fin doit être le même jour que le début ou après.")})

    def __str__(self):
        return f"{self.store.title} : {self.starts_on:%d/%m/%Y}–{self.ends_on:%d/%m/%Y}"
