"""Editorial pages of the storefront: home page, standard pages and promotions."""

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalManyToManyField
from modelcluster.models import ClusterableModel
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel, PublishingPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.fields import RichTextField, StreamField
from wagtail.images import get_image_model
from wagtail.models import DraftStateMixin, LockableMixin, Page, PreviewableMixin, RevisionMixin
from wagtail.search import index

from .blocks import ContentStreamBlock, HomeStreamBlock


class HomePage(Page):
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
        if "promotions" in block_types:
            context["promotions"] = Promotion.objects.current().for_display()
        if "store_finder" in block_types:
            context["stores"] = StorePage.objects.live().descendant_of(self).for_listing()
        return context


class StandardPage(Page):
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

    def for_display(self):
        image_model = get_image_model()
        return self.select_related("image").prefetch_related(
            models.Prefetch("image", queryset=image_model.objects.prefetch_renditions()),
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
        ]

    def __str__(self):
        return self.title

    def clean(self):
        super().clean()
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("La fin de validité doit être après le début.")})

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


@register_setting(icon="site")
class BrandSettings(BaseSiteSetting):
    """Contact details shown in the footer, edited under Settings."""

    contact_phone = models.CharField(_("téléphone du service client"), max_length=20, blank=True)
    contact_email = models.EmailField(_("e-mail du service client"), blank=True)
    tagline = models.CharField(_("signature"), max_length=120, blank=True)

    panels = [FieldPanel("tagline"), FieldPanel("contact_phone"), FieldPanel("contact_email")]

    class Meta:
        verbose_name = _("identité de la marque")
