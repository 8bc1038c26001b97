"""The demo chain's editorial pages: home page, legal pages and a running promotion."""

import datetime

from django.utils import timezone
from wagtail.models import Page, Site

from .models import BrandSettings, HomePage, Promotion, StandardPage

LEGAL_PAGES = [
    (
        "mentions-legales",
        "Mentions légales",
        "OC Pizza SAS, capital de 50 000 €, RCS Lyon 901 234 567, 12 rue Victor Hugo, 69002 Lyon. "
        "Directeur de la publication : le président d'OC Pizza. Hébergement : Scaleway, 8 rue de la Ville "
        "l'Évêque, 75008 Paris.",
    ),
    (
        "conditions-generales-de-vente",
        "Conditions générales de vente",
        "Les prix sont indiqués en euros, toutes taxes comprises. La commande est ferme dès sa validation ; "
        "elle peut être modifiée ou annulée tant que la préparation n'a pas commencé. Le paiement se fait en "
        "ligne par carte bancaire ou à la livraison / au retrait (espèces, carte, chèque).",
    ),
    (
        "confidentialite",
        "Politique de confidentialité",
        "Nous utilisons vos données (nom, adresse, téléphone, commandes) uniquement pour préparer et livrer "
        "vos commandes. Vous pouvez à tout moment exporter ou supprimer vos données depuis votre compte. "
        "Aucune donnée n'est vendue à des tiers.",
    ),
]


def build_home():
    """Create the home page as the site root (replacing Wagtail's welcome page), once."""
    home = HomePage.objects.first()
    if home is not None:
        return home
    root = Page.get_first_root_node()
    home = HomePage(
        title="Accueil",
        slug="accueil",
        seo_title="OC Pizza — pizzas artisanales à Lyon",
        search_description="Pizzas artisanales livrées chez vous ou à emporter dans nos cinq "
        "pizzerias lyonnaises. Commandez en ligne.",
    )
    root.add_child(instance=home)
    site = Site.objects.filter(is_default_site=True).first()
    old_root = site.root_page if site else None
    if site:
        site.root_page = home
        site.site_name = "OC Pizza"
        site.save()
    else:
        Site.objects.create(
            hostname="localhost", port=80, root_page=home, is_default_site=True, site_name="OC Pizza"
        )
    if old_root is not None and old_root.specific_class is Page:
        old_root.delete()
    return home


def fill_home(home, *, menu, stores_index, featured, hero_image):
    if not home.body:
        home.body = [
            (
                "hero",
                {
                    "heading": "Des pizzas qui ont du caractère",
                    "text": "Pâte maturée 48 heures, cuisson au feu de bois, livrée chaude en 30 minutes.",
                    "image": hero_image,
                    "button_text": "Voir la carte",
                    "button_page": menu,
                },
            ),
            ("promotions", {"heading": "Promotions du moment"}),
            ("featured_products", {"heading": "Nos incontournables", "products": featured}),
            (
                "store_finder",
                {
                    "heading": "Cinq pizzerias à Lyon",
                    "text": "Trouvez la plus proche de chez vous : livraison ou retrait au comptoir.",
                },
            ),
        ]
        home.save_revision().publish()
    for slug, title, text in LEGAL_PAGES:
        if not StandardPage.objects.child_of(home).filter(slug=slug).exists():
            page = StandardPage(title=title, slug=slug, intro=text, body=[("text", f"<p>{text}</p>")])
            home.add_child(instance=page)
            page.save_revision().publish()
    site = Site.objects.get(root_page=home)
    brand = BrandSettings.for_site(site)
    if not brand.contact_phone:
        brand.tagline = "Pizzas artisanales à Lyon depuis 2019"
        brand.contact_phone = "04 78 42 11 20"
        brand.contact_email = "bonjour@oc-pizza.fr"
        brand.save()


def build_promotion(products, image, now=None):
    now = now or timezone.now()
    if Promotion.objects.exists():
        return Promotion.objects.first()
    promotion = Promotion(
        title="2 pizzas achetées, le dessert offert",
        image=image,
        text="<p>Pour toute commande de deux pizzas moyennes ou grandes, un tiramisu maison offert.</p>",
        starts_at=now - datetime.timedelta(days=1),
        ends_at=now + datetime.timedelta(days=60),
        live=False,
    )
    promotion.save()
    promotion.products.set(products)
    promotion.save()
    promotion.save_revision().publish()
    return promotion
