"""Build the demo chain: page tree, five stores, the menu, two promotions and one user per role.

Safe to run again: what exists is kept, what is missing is added. Prints the demo accounts.
With DEBUG off it refuses to run unless given --i-know-this-is-production: it creates a
superuser whose password is published in the README.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.demo import confirm_email
from home.demo import add_promotion_rules, build_home, build_promotion, fill_home
from menu.demo import PIZZA_QUANTITIES, add_missing_recipes, build_menu
from menu.models import Ingredient, MenuPage, ProductPage
from ocpizza import demo_images, roles
from stores.demo import add_member, build_ordering_settings, build_stock, build_stores
from stores.models import StorePage, StoreRole

PASSWORD = "pizza-demo-2026"

# email, first name, last name, groups, (store slugs, role), superuser
DEMO_USERS = [
    ("admin@oc-pizza.fr", "Alice", "Admin", [], None, True),
    ("marketing@oc-pizza.fr", "Margaux", "Marketing", [roles.MARKETING], None, False),
    ("siege@oc-pizza.fr", "Henri", "Siège", [roles.HEAD_OFFICE], None, False),
    (
        "responsable@oc-pizza.fr",
        "Romain",
        "Responsable",
        [roles.STORE_MANAGERS],
        (["bellecour", "croix-rousse"], StoreRole.MANAGER),
        False,
    ),
    (
        "equipier@oc-pizza.fr",
        "Emma",
        "Équipière",
        [roles.STORE_STAFF],
        (["bellecour"], StoreRole.STAFF),
        False,
    ),
    (
        "pizzaiolo@oc-pizza.fr",
        "Paolo",
        "Pizzaiolo",
        [roles.PIZZAIOLOS],
        (["bellecour"], StoreRole.PIZZAIOLO),
        False,
    ),
    ("livreur@oc-pizza.fr", "Lucas", "Livreur", [roles.DRIVERS], (["bellecour"], StoreRole.DRIVER), False),
    ("client@oc-pizza.fr", "Camille", "Cliente", [], None, False),
]

# Bellecour's kitchen in the demo: name, phone, pizza, size index, quantity, extras, fulfilment,
# channel, customer's note (delivery details).
DEMO_KITCHEN_PIZZAS = ["Margherita", "Regina", "Végétarienne"]
DEMO_KITCHEN_ORDERS = [
    ("Chloé Bernard", "06 11 22 33 44", "Regina", 1, 1, [], "pickup", "counter", ""),
    (
        "Hugo Petit",
        "06 55 66 77 88",
        "Margherita",
        2,
        2,
        ["Supplément mozzarella"],
        "delivery",
        "phone",
        "Digicode 4521B, 3e étage",
    ),
    ("Léa Robert", "07 12 34 56 78", "Végétarienne", 0, 1, ["Sans oignons"], "pickup", "web", ""),
]

ROLE_LABELS = {
    "admin@oc-pizza.fr": "superutilisateur (tout)",
    "marketing@oc-pizza.fr": "marketing (pages, promotions, images)",
    "siege@oc-pizza.fr": "siège (tout le groupe)",
    "responsable@oc-pizza.fr": "responsable de Bellecour et Croix-Rousse",
    "equipier@oc-pizza.fr": "équipier à Bellecour",
    "pizzaiolo@oc-pizza.fr": "pizzaiolo à Bellecour",
    "livreur@oc-pizza.fr": "livreur à Bellecour",
    "client@oc-pizza.fr": "client",
}


class Command(BaseCommand):
    help = "Load the demo chain (idempotent) and print the demo accounts."

    def add_arguments(self, parser):
        parser.add_argument(
            "--i-know-this-is-production",
            action="store_true",
            help="Load the demo even with DEBUG off (it creates a superuser with a published password).",
        )

    def handle(self, *args, **options):
        if not settings.DEBUG and not options["i_know_this_is_production"]:
            raise CommandError(
                "DEBUG est désactivé : ce serveur ressemble à la production. Les données de "
                f"démonstration créent le superutilisateur admin@oc-pizza.fr ({PASSWORD}), un mot de "
                "passe publié. Rien n'a été chargé. Pour les charger quand même (serveur de "
                "démonstration), relancez avec --i-know-this-is-production."
            )
        with transaction.atomic():
            roles.sync_role_groups()
            created = self.build()
            added = [self.build_recipes_and_stock(), add_promotion_rules(), self.build_kitchen_orders()]
            added = ", ".join(part for part in added if part)
        if added and not created:
            self.stdout.write(self.style.SUCCESS(f"Ajouté aux données existantes : {added}."))
        if created:
            self.stdout.write(self.style.SUCCESS("Données de démonstration chargées."))
        else:
            self.stdout.write("Données de démonstration déjà présentes : rien à ajouter.")
        self.stdout.write(f"\nComptes de démonstration (mot de passe pour tous : {PASSWORD})")
        for email, *_ in DEMO_USERS:
            self.stdout.write(f"  {email:<26} {ROLE_LABELS[email]}")
        self.stdout.write("\nSite : http://127.0.0.1:8000/   Administration : http://127.0.0.1:8000/admin/\n")

    def build(self):
        from home.models import HomePage

        if HomePage.objects.exists() and get_user_model().objects.filter(email="client@oc-pizza.fr").exists():
            return False
        home = build_home()

        def product_image(title, category, names, cream, seed):
            return demo_images.product_image(
                title, category=category, ingredients=names, cream_base=cream, seed=seed
            )

        def store_image(title, seed):
            return demo_images.scene_image(title, seed=seed)

        menu, products = build_menu(home, product_image)
        stores_index, stores = build_stores(home, store_image)
        by_title = {p.title: p for p in products}
        featured = [by_title[t] for t in ("Margherita", "Regina", "Savoyarde", "Burrata")]
        promotion_image = demo_images.product_image(
            "Promotion — tiramisu offert", category="dessert", seed=77
        )
        build_promotion([by_title["Tiramisu"]], promotion_image)
        fill_home(
            home, menu=menu, stores_index=stores_index, featured=featured, hero_image=demo_images.hero_image()
        )
        self.build_users({s.slug: s for s in stores})
        return True

    def build_recipes_and_stock(self):
        """Recipes and stock, also added to a demo built before they existed (idempotent)."""
        menu = MenuPage.objects.first()
        if menu is None:
            return ""
        recipes = add_missing_recipes(menu)
        portions = {
            ingredient: PIZZA_QUANTITIES.get(ingredient.name, 1)
            for ingredient in Ingredient.objects.order_by("name")
        }
        stores = list(StorePage.objects.order_by("path"))
        stocked = build_stock(stores, portions)
        ordering = build_ordering_settings(stores)
        done = []
        if recipes:
            done.append(f"{recipes} recettes")
        if stocked:
            done.append(f"le stock de {len(stocked)} points de vente")
        if ordering:
            done.append(f"les réglages de commande de {len(ordering)} points de vente")
        return ", ".join(done)

    def build_kitchen_orders(self):
        """A few orders in Bellecour's kitchen (its pizzaiolo's board is not empty), placed through
        the ordering services in the next free slots; one already started. Idempotent: each order
        has a fixed idempotency key, so a second run finds them."""
        from ordering.models import Order
        from ordering.pricing import CartLine
        from ordering.services import Address, Contact, place_order, start_preparing
        from ordering.slots import available_slots

        store = StorePage.objects.filter(slug="bellecour").first()
        pizzas = {page.title: page for page in ProductPage.objects.filter(title__in=DEMO_KITCHEN_PIZZAS)}
        if store is None or len(pizzas) < len(DEMO_KITCHEN_PIZZAS):
            return ""
        if Order.objects.filter(idempotency_key__startswith="demo-kitchen-").exists():
            return ""
        slots = available_slots(store, Order.Fulfilment.DELIVERY)
        if not slots:
            return ""  # no free slot in the next days: the board stays empty
        postcode = store.delivery_postcode_list[0] if store.delivery_postcode_list else ""
        placed = []
        for key, (name, phone, title, size, quantity, extras, fulfilment, source, details) in enumerate(
            DEMO_KITCHEN_ORDERS, start=1
        ):
            pizza = pizzas[title]
            chosen = pizza.sizes.order_by("sort_order")[size]
            extra_ids = tuple(sorted(pizza.extras.filter(name__in=extras).values_list("id", flat=True)))
            delivery = fulfilment == Order.Fulfilment.DELIVERY and postcode
            placed.append(
                place_order(
                    store=store.specific,
                    lines=[CartLine(size_id=chosen.id, quantity=quantity, extra_ids=extra_ids)],
                    fulfilment=Order.Fulfilment.DELIVERY if delivery else Order.Fulfilment.PICKUP,
                    contact=Contact(
                        name=name, phone=phone, email="lea.robert@example.com" if source == "web" else ""
                    ),
                    address=Address("8 rue de la République", postcode, "Lyon", details)
                    if delivery
                    else None,
                    slot=slots[min(key - 1, len(slots) - 1)].start,
                    payment_method=Order.PaymentMethod.CASH,
                    idempotency_key=f"demo-kitchen-{key}",
                    source=source,
                )
            )
        start_preparing(placed[0])
        return f"{len(placed)} commandes en cuisine à Bellecour"

    def build_users(self, stores):
        user_model = get_user_model()
        for email, first, last, groups, membership, superuser in DEMO_USERS:
            user = user_model.objects.filter(email=email).first()
            if user is None:
                if superuser:
                    user = user_model.objects.create_superuser(
                        email, PASSWORD, first_name=first, last_name=last
                    )
                else:
                    user = user_model.objects.create_user(email, PASSWORD, first_name=first, last_name=last)
            user.groups.set(Group.objects.filter(name__in=groups))
            confirm_email(user)
            if membership:
                slugs, role = membership
                for slug in slugs:
                    add_member(user, stores[slug], role)
