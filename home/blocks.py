"""StreamField blocks shared by the storefront's editorial pages."""

from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.images.blocks import ImageChooserBlock


class HeroBlock(blocks.StructBlock):
    heading = blocks.CharBlock(label=_("titre"), max_length=80)
    text = blocks.TextBlock(label=_("texte"), required=False, max_length=240)
    image = ImageChooserBlock(label=_("image"), required=False)
    button_text = blocks.CharBlock(label=_("texte du bouton"), required=False, max_length=40)
    button_page = blocks.PageChooserBlock(label=_("page du bouton"), required=False)

    class Meta:
        icon = "image"
        label = _("Bandeau d'accueil")
        template = "blocks/hero_block.html"
        preview_value = {
            "heading": "Des pizzas cuites au feu de bois",
            "text": "Livrées chaudes en 30 minutes.",
        }


class PromotionsBlock(blocks.StructBlock):
    """Shows the promotions valid right now; editors manage them under Snippets › Promotions."""

    heading = blocks.CharBlock(label=_("titre"), max_length=80, default=_("Nos promotions"))

    class Meta:
        icon = "tag"
        label = _("Promotions en cours")
        template = "blocks/promotions_block.html"


class FeaturedProductsBlock(blocks.StructBlock):
    heading = blocks.CharBlock(label=_("titre"), max_length=80, default=_("Nos incontournables"))
    products = blocks.ListBlock(
        blocks.PageChooserBlock(page_type="menu.ProductPage", label=_("produit")),
        label=_("produits"),
        min_num=1,
        max_num=12,
    )

    class Meta:
        icon = "pick"
        label = _("Produits à la une")
        template = "blocks/featured_products_block.html"

    def get_context(self, value, parent_context=None):
        from menu.models import ProductPage

        context = super().get_context(value, parent_context=parent_context)
        ids = [page.id for page in value["products"] if page]
        # One batch of queries for the whole block, whatever the number of products.
        found = {p.id: p for p in ProductPage.objects.live().filter(id__in=ids).for_menu()}
        context["products"] = [found[i] for i in ids if i in found]
        return context


class StoreFinderBlock(blocks.StructBlock):
    heading = blocks.CharBlock(label=_("titre"), max_length=80, default=_("Près de chez vous"))
    text = blocks.TextBlock(label=_("texte"), required=False, max_length=240)

    class Meta:
        icon = "site"
        label = _("Nos points de vente")
        template = "blocks/store_finder_block.html"


class TextBlock(blocks.RichTextBlock):
    class Meta:
        icon = "doc-full"
        label = _("Texte")
        template = "blocks/text_block.html"


class HeadingBlock(blocks.CharBlock):
    class Meta:
        icon = "title"
        label = _("Intertitre")
        template = "blocks/heading_block.html"


class ImageBlock(blocks.StructBlock):
    image = ImageChooserBlock(label=_("image"))
    caption = blocks.CharBlock(label=_("légende"), required=False)

    class Meta:
        icon = "image"
        label = _("Image")
        template = "blocks/image_block.html"


class HomeStreamBlock(blocks.StreamBlock):
    hero = HeroBlock()
    promotions = PromotionsBlock()
    featured_products = FeaturedProductsBlock()
    store_finder = StoreFinderBlock()
    text = TextBlock(features=["h2", "h3", "bold", "italic", "link", "ol", "ul"])


class ContentStreamBlock(blocks.StreamBlock):
    heading = HeadingBlock()
    text = TextBlock(features=["bold", "italic", "link", "ol", "ul"])
    image = ImageBlock()
