"""StreamField blocks shared by the storefront's editorial pages."""

import copy

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


class ProductChooserBlock(blocks.PageChooserBlock):
    """A product chooser whose products are read with what their menu card shows.

    Wagtail reads the chosen pages of a whole stream at once (`bulk_to_python`); reading them with
    the card's prefetches there means the block does not read them a second time to show them.
    """

    def __init__(self, **kwargs):
        super().__init__(page_type="menu.ProductPage", **kwargs)

    def bulk_to_python(self, values):
        from menu.models import ProductPage

        ids = {value for value in values if value is not None}
        # The photos' renditions are read with the home page's other images (`HomePage.get_context`).
        products = ProductPage.objects.filter(id__in=ids).for_menu(renditions=False)
        found = {product.id: product for product in products}
        # As Wagtail's: in the order given, None kept, a product chosen twice given twice.
        result, seen = [], set()
        for value in values:
            product = found.get(value)
            result.append(copy.copy(product) if product is not None and value in seen else product)
            seen.add(value)
        return result


class FeaturedProductsBlock(blocks.StructBlock):
    heading = blocks.CharBlock(label=_("titre"), max_length=80, default=_("Nos incontournables"))
    products = blocks.ListBlock(
        ProductChooserBlock(label=_("produit")),
        label=_("produits"),
        min_num=1,
        max_num=12,
    )

    class Meta:
        icon = "pick"
        label = _("Produits à la une")
        template = "blocks/featured_products_block.html"

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context=parent_context)
        # Read with their cards' prefetches by `ProductChooserBlock`, one batch for the whole stream.
        context["products"] = [product for product in value["products"] if product and product.live]
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
