"""Editorial pages of the storefront: home page, standard pages and promotions."""

import copy
import datetime
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import connection, models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalManyToManyField
from modelcluster.models import ClusterableModel
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel, PublishingPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.fields import RichTextField, StreamField
from wagtail.models import DraftStateMixin, LockableMixin, Page, PreviewableMixin, RevisionMixin, Site
from wagtail.search import index

from menu import rows
from menu.catalogue import keeps, kept
from menu.models import (
    Category,
    JoinedChildRouteMixin,
    OneQueryViewRestrictionsMixin,
    fill_renditions,
    renditions_prefetch,
)
from menu.promotions import BASKET as WHOLE_BASKET
from menu.promotions import PromotionRule, normalise_code

from .blocks import ContentStreamBlock, HomeStreamBlock


class HomePage(JoinedChildRouteMixin, OneQueryViewRestrictionsMixin, Page):
    """The storefront's front page, built by editors from blocks."""

    body = StreamField(HomeStreamBlock(), verbose_name=_("contenu"), blank=True)

    search_fields = Page.search_fields
    content_panels = Page.content_panels + [FieldPanel("body")]

    parent_page_types = ["wagtailcore.Page"]
    subpage_types = ["menu.MenuPage", "stores.StoreIndexPage", "home.StandardPage"]
    max_count = 1
    page_description = _("La page d'accueil du site.")

    class Meta:
        verbose_name = _("page d'accueil")

    def get_context(self, request, *args, **kwargs):
        from stores.models import StorePage

        context = super().get_context(request, *args, **kwargs)
        block_types = {block.block_type for block in self.body}
        # Every image the blocks show, whose renditions are read together below.
        images = [block.value["image"] for block in self.body if block.block_type == "hero"]
        for block in self.body:
            if block.block_type == "featured_products":
                images.extend(product.photo for product in block.value["products"] if product is not None)
        if "promotions" in block_types:
            # Those not ended yet, read once per content generation (`menu.catalogue`); which of
            # them run now is decided here, for each drawing, as `current()` would.
            now = timezone.now()
            running = kept(
                request,
                ("promotions", self.pk),
                lambda: list(
                    Promotion.objects.filter(live=True, ends_at__gt=now)
                    .order_by("ends_at", "id")
                    .for_display(renditions=False)
                ),
            )
            context["promotions"] = [p for p in running if p.starts_at <= now < p.ends_at]
            images.extend(promotion.image for promotion in running)
        if "store_finder" in block_types:
            # The block shows each store's name, address and link: nothing else is read.
            context["stores"] = kept(
                request,
                ("store finder", self.pk),
                lambda: list(StorePage.objects.live().descendant_of(self).order_by("path")),
            )
        fill_renditions(images)  # one query for the hero's, the products' and the promotions'
        return context


class StandardPage(OneQueryViewRestrictionsMixin, Page):
    """A plain content page: legal notice, terms of sale, privacy policy, about us."""

    intro = models.TextField(_("chapeau"), blank=True)
    body = StreamField(ContentStreamBlock(), verbose_name=_("contenu"), blank=True)
    show_in_footer = models.BooleanField(
        _("lien en pied de page"),
        default=True,
        help_text=_("Afficher un lien vers cette page en pied de page."),
    )

    search_fields = Page.search_fields + [index.SearchField("intro"), index.SearchField("body")]
    content_panels = Page.content_panels + [FieldPanel("intro"), FieldPanel("body")]
    promote_panels = Page.promote_panels + [FieldPanel("show_in_footer")]

    parent_page_types = ["home.HomePage", "home.StandardPage"]
    subpage_types = ["home.StandardPage"]
    page_description = _("Une page de contenu : mentions légales, CGV, confidentialité…")

    class Meta:
        verbose_name = _("page standard")
        verbose_name_plural = _("pages standard")


class PromotionQuerySet(models.QuerySet):
    def current(self, now=None):
        """Published promotions whose validity period contains `now` (expired ones drop out)."""
        now = now or timezone.now()
        return self.filter(live=True, starts_at__lte=now, ends_at__gt=now).order_by("ends_at", "id")

    def with_rule(self):
        return self.exclude(rule_kind=Promotion.RuleKind.NONE)

    def for_display(self, *, renditions=True):
        """With the image, its renditions (unless the page reads them with its other images) and
        the live products."""
        return self.select_related("image").prefetch_related(
            *([renditions_prefetch("image")] if renditions else []),
            models.Prefetch(
                "products",
                queryset=_product_model().objects.live().only("id", "title", "url_path", "path", "depth"),
            ),
        )


def _product_model():
    from menu.models import ProductPage

    return ProductPage


class Promotion(
    PreviewableMixin, LockableMixin, DraftStateMixin, RevisionMixin, index.Indexed, ClusterableModel
):
    """A time-limited offer shown on the home page between its start and end dates.

    It has drafts, previews, revisions and a publishing schedule like a page; once published it
    shows itself from `starts_at` and vanishes after `ends_at`, with no one having to unpublish it.
    """

    title = models.CharField(_("titre"), max_length=100)
    image = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("image"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    text = RichTextField(_("texte"), features=["bold", "italic", "link"])
    starts_at = models.DateTimeField(_("début de validité"))
    ends_at = models.DateTimeField(_("fin de validité"))
    products = ParentalManyToManyField(
        "menu.ProductPage", verbose_name=_("produits concernés"), blank=True, related_name="promotions"
    )

    # The rule the checkout applies (menu.promotions.PromotionRule; evaluated by ordering.promotions).
    class RuleKind(models.TextChoices):
        NONE = "none", _("Aucune (promotion affichée seulement)")
        FREE_PRODUCT = "free_product", _("Produit offert")
        PERCENT_OFF = "percent_off", _("Remise en pourcentage")
        AMOUNT_OFF = "amount_off", _("Remise en euros")

    class Target(models.TextChoices):
        BASKET = WHOLE_BASKET, _("Tout le panier")
        PIZZA = Category.PIZZA.value, Category.PIZZA.label
        DRINK = Category.DRINK.value, Category.DRINK.label
        DESSERT = Category.DESSERT.value, Category.DESSERT.label

    rule_kind = models.CharField(
        _("type de règle"), max_length=20, choices=RuleKind.choices, default=RuleKind.NONE
    )
    code = models.CharField(
        _("code promotionnel"),
        max_length=30,
        blank=True,
        validators=[
            RegexValidator(
                r"^[A-Za-z0-9_-]*$",
                _("Le code ne peut contenir que des lettres sans accent, des chiffres, « - » et « _ »."),
            )
        ],
        help_text=_(
            "Laisser vide pour appliquer la règle automatiquement ; sinon, elle ne s'applique que si le "
            "client saisit ce code (majuscules et minuscules confondues)."
        ),
    )
    min_quantity = models.PositiveSmallIntegerField(
        _("quantité minimale"),
        default=0,
        help_text=_(
            "Nombre de produits de la catégorie et de la taille choisies que le panier doit contenir."
        ),
    )
    condition_category = models.CharField(
        _("catégorie concernée"),
        max_length=20,
        choices=Category.choices,
        blank=True,
        help_text=_("Laisser vide pour compter tous les produits."),
    )
    condition_size = models.CharField(
        _("taille concernée"),
        max_length=40,
        blank=True,
        help_text=_("Nom exact de la taille, par exemple « Grande » ; laisser vide pour toutes les tailles."),
    )
    min_subtotal = models.DecimalField(
        _("montant minimal du panier (€)"),
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
    )
    target_category = models.CharField(
        _("s'applique à"),
        max_length=20,
        choices=Target.choices,
        blank=True,
        help_text=_("Le panier entier ou une catégorie ; ou bien choisissez un produit ci-contre."),
    )
    target_product = models.ForeignKey(
        "menu.ProductPage",
        verbose_name=_("produit"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    percent = models.DecimalField(
        _("remise (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
    )
    amount = models.DecimalField(
        _("remise (€)"),
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
    )

    objects = PromotionQuerySet.as_manager()

    panels = [
        FieldPanel("title"),
        FieldPanel("image"),
        FieldPanel("text"),
        MultiFieldPanel(
            [FieldRowPanel([FieldPanel("starts_at"), FieldPanel("ends_at")])],
            heading=_("Période de validité"),
        ),
        FieldPanel("products", widget=forms.CheckboxSelectMultiple),
        MultiFieldPanel(
            [
                FieldRowPanel([FieldPanel("rule_kind"), FieldPanel("code")]),
                FieldRowPanel(
                    [
                        FieldPanel("min_quantity"),
                        FieldPanel("condition_category"),
                        FieldPanel("condition_size"),
                        FieldPanel("min_subtotal"),
                    ],
                    heading=_("Condition"),
                ),
                FieldRowPanel(
                    [FieldPanel("target_category"), FieldPanel("target_product")], heading=_("Cible")
                ),
                FieldRowPanel([FieldPanel("percent"), FieldPanel("amount")], heading=_("Remise")),
            ],
            heading=_("Règle appliquée au panier"),
            help_text=_(
                "Ce que la commande en ligne applique pendant la période de validité, une fois la "
                "promotion publiée. Produit offert : le moins cher des produits ciblés présents dans "
                "le panier, un par groupe de la quantité minimale."
            ),
        ),
        PublishingPanel(),
    ]
    search_fields = [index.SearchField("title"), index.AutocompleteField("title")]

    class Meta:
        verbose_name = _("promotion")
        verbose_name_plural = _("promotions")
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="home_promotion_ends_after_start"
            ),
            models.CheckConstraint(
                condition=models.Q(percent__isnull=True) | models.Q(percent__gt=0, percent__lte=100),
                name="home_promotion_percent_in_range",
            ),
            models.CheckConstraint(
                condition=models.Q(amount__isnull=True) | models.Q(amount__gt=0),
                name="home_promotion_amount_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(min_subtotal__isnull=True) | models.Q(min_subtotal__gt=0),
                name="home_promotion_min_subtotal_positive",
            ),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        self.code = normalise_code(self.code)
        super().save(*args, **kwargs)

    def clean(self):
        super().clean()
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("La fin de validité doit être après le début.")})
        self.code = normalise_code(self.code)
        errors = self.rule_errors()
        if errors:
            raise ValidationError(errors)

    def rule_errors(self):
        """{field: French message} for an incoherent rule (empty when the rule holds together)."""
        kind = self.rule_kind
        errors = {}
        if kind == self.RuleKind.NONE:
            if self.code:
                errors["code"] = _("Un code n'a de sens qu'avec une règle : choisissez un type de règle.")
            return errors
        if (self.condition_category or self.condition_size) and not self.min_quantity:
            errors["min_quantity"] = _(
                "Indiquez combien de produits de cette catégorie ou de cette taille le panier doit contenir."
            )
        if self.target_category and self.target_product_id:
            errors["target_product"] = _("Choisissez soit une catégorie, soit un produit, pas les deux.")
        elif not self.target_category and not self.target_product_id:
            field = "target_product" if kind == self.RuleKind.FREE_PRODUCT else "target_category"
            errors[field] = (
                _("Choisissez le produit offert : une catégorie (le moins cher est offert) ou un produit.")
                if kind == self.RuleKind.FREE_PRODUCT
                else _("Choisissez à quoi s'applique la remise : le panier, une catégorie ou un produit.")
            )
        if kind == self.RuleKind.FREE_PRODUCT:
            if self.target_category == self.Target.BASKET:
                errors["target_category"] = _(
                    "Un produit offert se choisit dans une catégorie ou parmi les produits, "
                    "pas « tout le panier »."
                )
            if not self.min_quantity and self.min_subtotal is None and not self.code:
                errors.setdefault(
                    "min_quantity",
                    _(
                        "Un produit offert demande une condition : une quantité minimale, un montant "
                        "minimal ou un code."
                    ),
                )
        if kind == self.RuleKind.PERCENT_OFF:
            if self.percent is None:
                errors["percent"] = _("Indiquez le pourcentage de remise.")
            elif not Decimal(0) < self.percent <= Decimal(100):
                errors["percent"] = _("Le pourcentage doit être supérieur à 0 et au plus 100.")
        elif self.percent is not None:
            errors["percent"] = _("Un pourcentage ne s'indique que pour une remise en pourcentage.")
        if kind == self.RuleKind.AMOUNT_OFF:
            if self.amount is None:
                errors["amount"] = _("Indiquez le montant de la remise.")
            elif self.amount <= 0:
                errors["amount"] = _("Le montant de la remise doit être supérieur à 0.")
        elif self.amount is not None:
            errors["amount"] = _("Un montant ne s'indique que pour une remise en euros.")
        if self.min_subtotal is not None and self.min_subtotal <= 0:
            errors["min_subtotal"] = _("Le montant minimal doit être supérieur à 0.")
        if self.code and "code" not in errors:
            clash = self.overlapping_with_code().first()
            if clash is not None:
                errors["code"] = _(
                    "Le code %(code)s est déjà celui de la promotion « %(title)s » sur une période qui "
                    "chevauche celle-ci."
                ) % {"code": self.code, "title": clash.title}
        return errors

    def overlapping_with_code(self):
        """Other promotions with the same code whose validity period overlaps this one's."""
        if not (self.code and self.starts_at and self.ends_at):
            return Promotion.objects.none()
        return (
            Promotion.objects.filter(code=self.code, starts_at__lt=self.ends_at, ends_at__gt=self.starts_at)
            .exclude(pk=self.pk)
            .order_by("starts_at", "id")
        )

    def as_rule(self):
        """The checkout's view of this promotion's rule, or None (no rule, or its product is gone)."""
        if self.rule_kind == self.RuleKind.NONE:
            return None
        if not self.target_category and self.target_product_id is None:
            return None  # the target product was deleted
        return PromotionRule(
            promotion_id=self.pk,
            title=self.title,
            kind=self.rule_kind,
            code=normalise_code(self.code),
            min_quantity=self.min_quantity,
            condition_category=self.condition_category,
            condition_size=self.condition_size.strip(),
            min_subtotal=self.min_subtotal,
            target_category=self.target_category,
            target_product_id=self.target_product_id,
            percent=self.percent,
            amount=self.amount,
        )

    def is_current(self, now=None):
        now = now or timezone.now()
        return self.live and self.starts_at <= now < self.ends_at

    def get_preview_template(self, request, mode_name):
        return "home/promotion_preview.html"

    def get_preview_context(self, request, mode_name):
        context = super().get_preview_context(request, mode_name)
        context["promotion"] = self
        return context

    def get_admin_url(self):
        return reverse("wagtailsnippets_home_promotion:edit", args=[self.pk])


def current_promotion_rules(now, request=None):
    """The rule source `HomeConfig.ready` registers: rules of published promotions valid at `now`.

    Drafts and unpublished changes do not count (the row holds the published version), nor
    scheduled or expired promotions. Should two current promotions share a code (the admin refuses
    overlapping periods, but rows may come from elsewhere), only the one ending first applies.

    With the `request` of a view that keeps the catalogue (the checkout: `menu.catalogue.kept`),
    the published promotions not ended a minute before `now` are read once per content generation
    (an edit, publishing or unpublishing of a promotion is a new one) and the clock is applied
    here: a promotion still starts and ends on time, with nobody editing it. (A caller's `now` a
    minute older than the request that read them would miss a promotion ended in between: the
    views pass their own moment.)
    """
    if keeps(request):
        since = now - KEPT_MARGIN  # what is kept lives until the end of its minute at most
        not_ended = kept(request, ("promotion rules",), lambda: _current_with_rule(since, not_ended=True))
        promotions = [p for p in not_ended if p.starts_at <= now < p.ends_at]
    else:
        promotions = _current_with_rule(now)
    rules, codes = [], set()
    for promotion in promotions:
        rule = promotion.as_rule()
        if rule is None or (rule.code and rule.code in codes):
            continue
        codes.add(rule.code)
        rules.append(rule)
    return rules


RULE_FIELDS = (
    "id",
    "title",
    "rule_kind",
    "code",
    "min_quantity",
    "condition_category",
    "condition_size",
    "min_subtotal",
    "target_category",
    "target_product_id",
    "percent",
    "amount",
)


KEPT_MARGIN = datetime.timedelta(minutes=1)
KEPT_FIELDS = (*RULE_FIELDS, "starts_at", "ends_at")


def _current_with_rule(now, *, not_ended=False):
    """`Promotion.objects.current(now).with_rule()` holding `RULE_FIELDS` (what `as_rule` reads;
    the rest deferred), in a query written by hand: every quote asks, every order among them, and
    the ORM took 1 ms to build it. `not_ended`: those not ended at `now`, started or not, with their
    period (`KEPT_FIELDS`), for the caller to apply the clock."""
    table, live, starts_at, ends_at, rule_kind, id_ = rows.names(
        Promotion, "live", "starts_at", "ends_at", "rule_kind", "id"
    )
    fields = KEPT_FIELDS if not_ended else RULE_FIELDS
    started = "" if not_ended else f"AND r.{starts_at} <= %s "
    adapt = connection.ops.adapt_datetimefield_value
    # Names from the model's options, quoted; values are parameters.
    sql = (
        f"SELECT {rows.select_list(Promotion, fields, 'r')} FROM {table} r "  # noqa: S608
        f"WHERE r.{live} = %s {started}AND r.{ends_at} > %s "
        f"AND r.{rule_kind} <> %s ORDER BY r.{ends_at}, r.{id_}"
    )
    params = [True, *([] if not_ended else [adapt(now)]), adapt(now), str(Promotion.RuleKind.NONE)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [rows.instance(Promotion, fields, row) for row in cursor.fetchall()]


@register_setting(icon="site")
class BrandSettings(BaseSiteSetting):
    """Contact details shown in the footer, edited under Settings."""

    contact_phone = models.CharField(_("téléphone du service client"), max_length=20, blank=True)
    contact_email = models.EmailField(_("e-mail du service client"), blank=True)
    tagline = models.CharField(_("signature"), max_length=120, blank=True)

    panels = [FieldPanel("tagline"), FieldPanel("contact_phone"), FieldPanel("contact_email")]

    class Meta:
        verbose_name = _("identité de la marque")

    @classmethod
    def _of_site(cls, site):
        """The site's row: joined to the site when the site was read with it (`ocpizza.sites`),
        made when the site has none yet (as Wagtail's `for_site`)."""
        if site is None:
            return cls.for_site(site)
        try:
            return site.brandsettings
        except cls.DoesNotExist:
            return cls.for_site(site)

    @classmethod
    def for_request(cls, request):
        """As Wagtail's, with the row read once per content generation (`menu.catalogue`): every
        page's footer shows it. Each request gets its own copy (Wagtail notes the request on it)."""
        attr_name = cls.get_cache_attr_name()
        if hasattr(request, attr_name):
            return getattr(request, attr_name)
        site = Site.find_for_request(request)
        key = ("brand settings", site.pk if site else None)
        site_settings = copy.copy(kept(request, key, lambda: cls._of_site(site)))
        site_settings._page_url_cache = {}  # its own: page links are written for this request
        site_settings._request = request
        setattr(request, attr_name, site_settings)
        return site_settings
