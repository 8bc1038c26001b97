"""The demo chain's editorial pages: home page, legal pages and the running promotions."""

import datetime
from decimal import Decimal

from django.utils import timezone
from wagtail.models import Page, Site

from menu.models import Category

from .models import BrandSettings, HomePage, Promotion, StandardPage

FREE_DESSERT_TITLE = "2 pizzas achetées, le dessert offert"
FREE_DESSERT_TEXT = (
    "<p>Pour toute commande de deux pizzas, le dessert le moins cher de votre panier est offert.</p>"
)
FREE_DESSERT_RULE = {
    "rule_kind": Promotion.RuleKind.FREE_PRODUCT,
    "min_quantity": 2,
    "condition_category": Category.PIZZA,
    "target_category": Category.DESSERT,
}
WELCOME_CODE = "BIENVENUE"

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
    """The demo's running promotion: two pizzas bought (any size), the cheapest dessert free."""
    now = now or timezone.now()
    if Promotion.objects.exists():
        return Promotion.objects.first()
    promotion = Promotion(
        title=FREE_DESSERT_TITLE,
        image=image,
        text=FREE_DESSERT_TEXT,
        starts_at=now - datetime.timedelta(days=1),
        ends_at=now + datetime.timedelta(days=60),
        live=False,
        **FREE_DESSERT_RULE,
    )
    promotion.save()
    promotion.products.set(products)
    promotion.save()
    promotion.save_revision().publish()
    return promotion


def add_promotion_rules(now=None):
    """Rules for a demo built before promotions had them, and the welcome code (idempotent).

    Returns what was added, in French, for the command's summary ("" when nothing was).
    """
    now = now or timezone.now()
    done = []
    promotion = Promotion.objects.filter(title=FREE_DESSERT_TITLE).first()
    if promotion is not None and promotion.rule_kind == Promotion.RuleKind.NONE:
        for field, value in FREE_DESSERT_RULE.items():
            setattr(promotion, field, value)
        promotion.text = FREE_DESSERT_TEXT
        if promotion.live:
            promotion.save_revision().publish()
        else:
            promotion.save()
            promotion.save_revision()
        done.append("la règle « dessert offert »")
    if Promotion.objects.exists() and not Promotion.objects.filter(code=WELCOME_CODE).exists():
        welcome = Promotion(
            title="Bienvenue : 10 % de remise dès 20 €",
            text=(
                f"<p>Pour votre première commande en ligne, saisissez le code <b>{WELCOME_CODE}</b> : "
                "10 % de remise sur tout le panier dès 20 € d'achats.</p>"
            ),
            starts_at=now - datetime.timedelta(days=1),
            ends_at=now + datetime.timedelta(days=365),
            live=False,
            rule_kind=Promotion.RuleKind.PERCENT_OFF,
            code=WELCOME_CODE,
            min_subtotal=Decimal("20.00"),
            target_category=Promotion.Target.BASKET,
            percent=Decimal("10.00"),
        )
        welcome.save()
        welcome.save_revision().publish()
        done.append(f"le code promotionnel {WELCOME_CODE}")
    return ", ".join(done)
