"""The demo chain's five stores in Lyon: addresses, coordinates, hours and ordering settings."""

import datetime
from decimal import Decimal

from .models import (
    DeliveryBand,
    OnSitePayment,
    OpeningHours,
    StoreIndexPage,
    StoreMembership,
    StoreOrderingSettings,
    StorePage,
)
from .services import free_order_prefix

LUNCH = (datetime.time(11, 30), datetime.time(14, 30))
EVENING = (datetime.time(18, 0), datetime.time(23, 0))
# One store stays open after midnight on Friday and Saturday evenings (until 01:00 the next day).
LATE_STORE = "guillotiere"
LATE_EVENING = (datetime.time(18, 0), datetime.time(1, 0))
LATE_DAYS = (4, 5)

# slug, title, street, postcode, phone, latitude, longitude, closed weekday, delivered postcodes, intro
STORES = [
    (
        "bellecour",
        "OC Pizza Bellecour",
        "12 rue Victor Hugo",
        "69002",
        "04 78 42 11 20",
        "45.755040",
        "4.830760",
        0,
        "69002, 69005",
        "Au cœur de la Presqu'île, à deux pas de la place Bellecour : notre toute première pizzeria.",
    ),
    (
        "croix-rousse",
        "OC Pizza Croix-Rousse",
        "5 place de la Croix-Rousse",
        "69004",
        "04 78 28 35 41",
        "45.774510",
        "4.831830",
        0,
        "69001, 69004",
        "Sur le plateau, face au marché : un four à bois et une terrasse ensoleillée.",
    ),
    (
        "part-dieu",
        "OC Pizza Part-Dieu",
        "48 rue Garibaldi",
        "69003",
        "04 72 33 60 18",
        "45.760410",
        "4.851910",
        6,
        "69003, 69006",
        "Près de la gare Part-Dieu, idéale pour une pizza à emporter avant le train.",
    ),
    (
        "guillotiere",
        "OC Pizza Guillotière",
        "60 cours Gambetta",
        "69007",
        "04 78 72 90 05",
        "45.753880",
        "4.845120",
        1,
        "69007, 69008",
        "Le quartier le plus vivant de Lyon, et nos pizzas les plus épicées.",
    ),
    (
        "vaise",
        "OC Pizza Vaise",
        "10 rue Marietton",
        "69009",
        "04 78 83 47 62",
        "45.774120",
        "4.805480",
        0,
        "69009",
        "Au pied de la gare de Vaise, avec un grand parking pour le retrait au comptoir.",
    ),
]


# Part-Dieu also caps its area at 4 km and charges by distance: free up to 2 km, then 2,50 € with
# a 20 € minimum (the other stores use their ordering settings' fee and minimum).
DELIVERY_AREAS = {
    "part-dieu": (
        Decimal("4.00"),
        [(Decimal("2.00"), Decimal("0.00"), None), (Decimal("4.00"), Decimal("2.50"), Decimal("20.00"))],
    ),
}


def build_stores(home, image_for):
    index = StoreIndexPage.objects.child_of(home).first()
    if index is None:
        index = StoreIndexPage(
            title="Nos pizzerias",
            slug="pizzerias",
            intro="Cinq pizzerias à Lyon, ouvertes midi et soir. Livraison ou retrait sur place.",
            search_description="Adresses, horaires et zones de livraison des pizzerias OC Pizza à Lyon.",
        )
        home.add_child(instance=index)
        index.save_revision().publish()
    stores = []
    for seed, (slug, title, street, postcode, phone, lat, lng, closed, delivered, intro) in enumerate(STORES):
        store = StorePage.objects.child_of(index).filter(slug=slug).first()
        if store is None:
            store = StorePage(
                title=title,
                slug=slug,
                street_address=street,
                postcode=postcode,
                city="Lyon",
                phone=phone,
                latitude=Decimal(lat),
                longitude=Decimal(lng),
                intro=intro,
                delivery_postcodes=delivered,
                photo=image_for(title, seed),
                search_description=intro,
            )
            store.opening_hours = [
                OpeningHours(weekday=day, opens=opens, closes=closes, sort_order=i)
                for i, (day, (opens, closes)) in enumerate(
                    (day, slot) for day in range(7) if day != closed for slot in _day_slots(slug, day)
                )
            ]
            if slug in DELIVERY_AREAS:
                store.delivery_radius_km, bands = DELIVERY_AREAS[slug]
                store.delivery_bands = [
                    DeliveryBand(up_to_km=up_to_km, delivery_fee=fee, minimum_order=minimum, sort_order=i)
                    for i, (up_to_km, fee, minimum) in enumerate(bands)
                ]
            index.add_child(instance=store)
            store.save_revision().publish()
        stores.append(store)
    return index, stores


def _day_slots(slug, weekday):
    late = slug == LATE_STORE and weekday in LATE_DAYS
    return (LUNCH, LATE_EVENING if late else EVENING)


# Every demo store takes orders on the same terms; the prefix comes from its name (Vaise: VAI).
ORDERING_DEFAULTS = {
    "minimum_order": Decimal("15.00"),
    "delivery_fee": Decimal("2.50"),
    "free_delivery_from": Decimal("30.00"),
    "lead_time_minutes": 20,
    "delivery_minutes": 20,
    "slot_capacity": 6,
    "accepted_payments": [choice.value for choice in OnSitePayment],
    "online_payment": True,
    "accepts_orders": True,
}


def build_ordering_settings(stores):
    """Ordering settings for every store that has none yet; returns the stores given some.

    Settings already there (perhaps edited in the admin) are kept as they are.
    """
    done = []
    for store in stores:
        _settings, created = StoreOrderingSettings.objects.get_or_create(
            store=store,
            defaults={"order_prefix": free_order_prefix(store.title, store_id=store.pk), **ORDERING_DEFAULTS},
        )
        if created:
            done.append(store)
    return done


def add_member(user, store, role):
    StoreMembership.objects.update_or_create(user=user, store=store, defaults={"role": role})


# Portions of stock a store keeps of each pizza ingredient, and the alert threshold in portions.
PORTIONS_IN_STOCK = 60
PORTIONS_THRESHOLD = 15
BOTTLES_IN_STOCK = 48
BOTTLES_THRESHOLD = 12
SHORT_STORE = "vaise"  # short of mozzarella, so its menu shows the greyed-out pizzas
SHORT_INGREDIENT = "Mozzarella"


def build_stock(stores, ingredient_portions, *, user=None):
    """Stock for every store that has none yet, through the services; returns the stores stocked.

    `ingredient_portions` maps each Ingredient to the quantity of one small portion (1 for the
    drinks and desserts, which are counted in pieces).
    """
    from .models import StockLevel
    from .services import record_waste, restock, set_alert_threshold

    stocked = []
    for number, store in enumerate(stores):
        if StockLevel.objects.filter(store=store).exists():
            continue
        lines = []
        for ingredient, portion in ingredient_portions.items():
            single = ingredient.unit == ingredient.Unit.PIECE and portion == 1
            in_stock = (BOTTLES_IN_STOCK if single else PORTIONS_IN_STOCK * portion) + number * portion
            threshold = BOTTLES_THRESHOLD if single else PORTIONS_THRESHOLD * portion
            set_alert_threshold(store=store, ingredient=ingredient, threshold=threshold, user=user)
            lines.append((ingredient, in_stock))
        restock(store=store, lines=lines, user=user, supplier="Livraison d'ouverture")
        if store.slug == SHORT_STORE:
            short = next(i for i in ingredient_portions if i.name == SHORT_INGREDIENT)
            level = StockLevel.objects.get(store=store, ingredient=short)
            # A spoiled delivery leaves less than one small pizza's worth.
            record_waste(
                store=store,
                lines=[(short, level.on_hand - ingredient_portions[short] // 2)],
                user=user,
                reason="Livraison avariée (rupture de la chaîne du froid)",
            )
        stocked.append(store)
    return stocked
