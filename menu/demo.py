"""The demo chain's menu: ingredients with their allergens and products with sizes and prices."""

from decimal import Decimal

from .models import (
    DEFAULT_VAT_RATE,
    Allergen,
    Category,
    Ingredient,
    MenuPage,
    PreparationStep,
    ProductExtra,
    ProductPage,
    ProductSize,
    RecipeLine,
)

G, ML, PIECE = Ingredient.Unit.GRAM, Ingredient.Unit.MILLILITRE, Ingredient.Unit.PIECE

# name: (unit, allergen codes)
INGREDIENTS = {
    "Pâte à pizza": (G, ["gluten"]),
    "Sauce tomate": (G, []),
    "Crème fraîche": (G, ["milk"]),
    "Mozzarella": (G, ["milk"]),
    "Emmental": (G, ["milk"]),
    "Gorgonzola": (G, ["milk"]),
    "Chèvre": (G, ["milk"]),
    "Reblochon": (G, ["milk"]),
    "Parmesan": (G, ["milk"]),
    "Burrata": (G, ["milk"]),
    "Jambon": (G, ["sulphites"]),
    "Jambon cru": (G, []),
    "Lardons": (G, []),
    "Chorizo": (G, ["sulphites"]),
    "Merguez": (G, ["sulphites"]),
    "Bœuf haché": (G, []),
    "Anchois": (G, ["fish"]),
    "Crevettes": (G, ["crustaceans"]),
    "Moules": (G, ["molluscs"]),
    "Champignons": (G, []),
    "Olives noires": (G, []),
    "Poivrons": (G, []),
    "Oignons rouges": (G, []),
    "Tomates cerises": (G, []),
    "Aubergines": (G, []),
    "Courgettes": (G, []),
    "Roquette": (G, []),
    "Pommes de terre": (G, []),
    "Ananas": (G, []),
    "Basilic": (G, []),
    "Piment": (G, []),
    "Œuf": (PIECE, ["eggs"]),
    "Miel": (G, []),
    "Pesto": (G, ["nuts", "milk"]),
    "Huile d'olive": (ML, []),
    "Origan": (G, []),
    # Drinks and desserts are ingredients of themselves: the stock counts bottles and pots.
    "Coca-Cola 33 cl": (PIECE, []),
    "Eau minérale 50 cl": (PIECE, []),
    "Limonade artisanale 33 cl": (PIECE, []),
    "Jus d'orange 25 cl": (PIECE, []),
    "Bière blonde 33 cl": (PIECE, ["gluten"]),
    "Tiramisu": (PIECE, ["gluten", "eggs", "milk"]),
    "Panna cotta": (PIECE, ["milk"]),
    "Fondant au chocolat": (PIECE, ["gluten", "eggs", "milk", "soybeans"]),
    "Glace vanille": (PIECE, ["milk", "eggs"]),
}

# Purchase prices excl. VAT (per kg, litre or piece) of the main ingredients, for the food-cost
# report; the others are left without one, as a head office that has not typed them all yet.
PURCHASE_PRICES = {
    "Pâte à pizza": Decimal("1.20"),
    "Sauce tomate": Decimal("2.50"),
    "Mozzarella": Decimal("8.40"),
    "Emmental": Decimal("9.50"),
    "Jambon": Decimal("11.00"),
    "Champignons": Decimal("4.20"),
    "Olives noires": Decimal("7.80"),
    "Œuf": Decimal("0.25"),
    "Huile d'olive": Decimal("9.00"),
    "Coca-Cola 33 cl": Decimal("0.55"),
    "Tiramisu": Decimal("1.90"),
}

# label, price on top of the small size's, recipe factor (the recipe is written for the small size)
PIZZA_SIZES = [
    ("Petite (26 cm)", Decimal("0"), Decimal("1.00")),
    ("Moyenne (31 cm)", Decimal("3.00"), Decimal("1.40")),
    ("Grande (36 cm)", Decimal("6.00"), Decimal("1.90")),
]

# Quantity of each pizza ingredient for a small pizza, in the ingredient's unit.
PIZZA_QUANTITIES = {
    "Pâte à pizza": 200,
    "Sauce tomate": 80,
    "Crème fraîche": 70,
    "Mozzarella": 100,
    "Emmental": 60,
    "Gorgonzola": 40,
    "Chèvre": 50,
    "Reblochon": 80,
    "Parmesan": 20,
    "Burrata": 120,
    "Jambon": 60,
    "Jambon cru": 50,
    "Lardons": 50,
    "Chorizo": 50,
    "Merguez": 80,
    "Bœuf haché": 80,
    "Anchois": 20,
    "Crevettes": 60,
    "Moules": 60,
    "Champignons": 50,
    "Olives noires": 20,
    "Poivrons": 40,
    "Oignons rouges": 30,
    "Tomates cerises": 50,
    "Aubergines": 50,
    "Courgettes": 50,
    "Roquette": 15,
    "Pommes de terre": 80,
    "Ananas": 50,
    "Basilic": 3,
    "Piment": 2,
    "Œuf": 1,
    "Miel": 10,
    "Pesto": 20,
    "Huile d'olive": 10,
    "Origan": 1,
}
BASES = ("Sauce tomate", "Crème fraîche")
# Offered on every pizza (name, ingredient, quantity for a small pizza, price)
SUPPLEMENTS = [("Supplément mozzarella", "Mozzarella", 40, Decimal("1.50"))]
# Offered on the pizzas that have the ingredient (name, ingredient)
REMOVALS = [("Sans oignons", "Oignons rouges"), ("Sans olives", "Olives noires"), ("Sans piment", "Piment")]

# title, summary, base price of the small size, ingredients, vegetarian, spicy, cream base
PIZZAS = [
    (
        "Margherita",
        "Tomate, mozzarella fondante et basilic frais.",
        "8.90",
        ["Pâte à pizza", "Sauce tomate", "Mozzarella", "Basilic", "Huile d'olive"],
        True,
        False,
        False,
    ),
    (
        "Regina",
        "La classique jambon-champignons.",
        "10.50",
        ["Pâte à pizza", "Sauce tomate", "Mozzarella", "Jambon", "Champignons", "Origan"],
        False,
        False,
        False,
    ),
    (
        "Quatre fromages",
        "Mozzarella, gorgonzola, chèvre et parmesan.",
        "11.90",
        ["Pâte à pizza", "Crème fraîche", "Mozzarella", "Gorgonzola", "Chèvre", "Parmesan"],
        True,
        False,
        True,
    ),
    (
        "Napolitaine",
        "Anchois, câpres et olives noires.",
        "10.50",
        ["Pâte à pizza", "Sauce tomate", "Mozzarella", "Anchois", "Olives noires", "Origan"],
        False,
        False,
        False,
    ),
    (
        "Diavola",
        "Chorizo et piment pour les amateurs de sensations.",
        "11.50",
        ["Pâte à pizza", "Sauce tomate", "Mozzarella", "Chorizo", "Piment", "Poivrons"],
        False,
        True,
        False,
    ),
    (
        "Végétarienne",
        "Légumes grillés : aubergines, courgettes, poivrons.",
        "10.90",
        [
            "Pâte à pizza",
            "Sauce tomate",
            "Mozzarella",
            "Aubergines",
            "Courgettes",
            "Poivrons",
            "Oignons rouges",
        ],
        True,
        False,
        False,
    ),
    (
        "Savoyarde",
        "Reblochon, lardons et pommes de terre sur crème.",
        "12.50",
        ["Pâte à pizza", "Crème fraîche", "Reblochon", "Lardons", "Pommes de terre", "Oignons rouges"],
        False,
        False,
        True,
    ),
    (
        "Chèvre-miel",
        "Chèvre doux, miel de Provence et roquette.",
        "11.50",
        ["Pâte à pizza", "Crème fraîche", "Mozzarella", "Chèvre", "Miel", "Roquette"],
        True,
        False,
        True,
    ),
    (
        "Orientale",
        "Merguez, poivrons, œuf et une pointe de piment.",
        "12.00",
        ["Pâte à pizza", "Sauce tomate", "Mozzarella", "Merguez", "Poivrons", "Œuf", "Piment"],
        False,
        True,
        False,
    ),
    (
        "Fruits de mer",
        "Crevettes, moules et persillade.",
        "13.50",
        ["Pâte à pizza", "Sauce tomate", "Mozzarella", "Crevettes", "Moules", "Huile d'olive"],
        False,
        False,
        False,
    ),
    (
        "Bolognaise",
        "Bœuf haché mijoté, oignons et origan.",
        "12.00",
        ["Pâte à pizza", "Sauce tomate", "Mozzarella", "Bœuf haché", "Oignons rouges", "Origan"],
        False,
        False,
        False,
    ),
    (
        "Hawaïenne",
        "Jambon et ananas, pour les audacieux.",
        "11.00",
        ["Pâte à pizza", "Sauce tomate", "Mozzarella", "Jambon", "Ananas"],
        False,
        False,
        False,
    ),
    (
        "Burrata",
        "Burrata crémeuse, tomates cerises et pesto.",
        "13.90",
        ["Pâte à pizza", "Sauce tomate", "Burrata", "Tomates cerises", "Pesto", "Roquette"],
        True,
        False,
        False,
    ),
    (
        "Parma",
        "Jambon cru de Parme, roquette et copeaux de parmesan.",
        "13.50",
        ["Pâte à pizza", "Sauce tomate", "Mozzarella", "Jambon cru", "Roquette", "Parmesan"],
        False,
        False,
        False,
    ),
]

# title, summary, size label, price, category
SINGLES = [
    ("Coca-Cola", "La bouteille de 33 cl, bien fraîche.", "33 cl", "2.50", Category.DRINK, "Coca-Cola 33 cl"),
    ("Eau minérale", "Eau plate de source.", "50 cl", "2.00", Category.DRINK, "Eau minérale 50 cl"),
    (
        "Limonade artisanale",
        "Limonade au citron de Menton.",
        "33 cl",
        "3.20",
        Category.DRINK,
        "Limonade artisanale 33 cl",
    ),
    ("Jus d'orange", "Pur jus pressé.", "25 cl", "3.00", Category.DRINK, "Jus d'orange 25 cl"),
    (
        "Bière blonde",
        "Bière blonde artisanale de la région.",
        "33 cl",
        "4.00",
        Category.DRINK,
        "Bière blonde 33 cl",
    ),
    ("Tiramisu", "Le vrai, au mascarpone et café.", "Pot individuel", "4.90", Category.DESSERT, "Tiramisu"),
    ("Panna cotta", "Coulis de fruits rouges.", "Pot individuel", "4.50", Category.DESSERT, "Panna cotta"),
    (
        "Fondant au chocolat",
        "Cœur coulant, à réchauffer 20 secondes.",
        "Part",
        "4.90",
        Category.DESSERT,
        "Fondant au chocolat",
    ),
    ("Glace vanille", "Vanille de Madagascar.", "Pot de 120 ml", "3.90", Category.DESSERT, "Glace vanille"),
]


# VAT: food and soft drinks sold for immediate consumption 10 %, alcohol 20 %.
ALCOHOLIC = {"Bière blonde"}
ALCOHOL_VAT_RATE = Decimal("20.00")


def vat_rate_for(title):
    return ALCOHOL_VAT_RATE if title in ALCOHOLIC else DEFAULT_VAT_RATE


def build_ingredients():
    allergens = {a.code: a for a in Allergen.objects.all()}
    ingredients = {}
    for name, (unit, codes) in INGREDIENTS.items():
        ingredient, _ = Ingredient.objects.get_or_create(
            name=name, defaults={"unit": unit, "purchase_price": PURCHASE_PRICES.get(name)}
        )
        ingredient.allergens.set([allergens[code] for code in codes])
        ingredients[name] = ingredient
    return ingredients


def _quantity(quantity, ingredient):
    return f"{quantity} {ingredient.get_unit_display()} de {ingredient.name.lower()}"


def pizza_recipe(product, ingredients, names):
    """Recipe (small size), extras and preparation steps of a pizza, set on `product` in memory."""
    product.recipe_lines = [
        RecipeLine(ingredient=ingredients[name], quantity=PIZZA_QUANTITIES[name], sort_order=i)
        for i, name in enumerate(names)
    ]
    extras = [
        ProductExtra(
            name=label, kind=ProductExtra.Kind.ADD, ingredient=ingredients[name], quantity=q, price=price
        )
        for label, name, q, price in SUPPLEMENTS
    ]
    extras += [
        ProductExtra(name=label, kind=ProductExtra.Kind.REMOVE, ingredient=ingredients[name], quantity=0)
        for label, name in REMOVALS
        if name in names
    ]
    for order, extra in enumerate(extras):
        extra.sort_order = order
    product.extras = extras
    dough, *toppings = names
    base = [name for name in toppings if name in BASES]
    toppings = [name for name in toppings if name not in BASES]
    steps = [
        f"Abaisser {_quantity(PIZZA_QUANTITIES[dough], ingredients[dough])} en disque de 26 cm "
        "(quantités de la petite : ×1,4 pour la moyenne, ×1,9 pour la grande).",
        *[
            f"Étaler {_quantity(PIZZA_QUANTITIES[name], ingredients[name])} en laissant 1 cm de bord."
            for name in base
        ],
        "Garnir : " + ", ".join(_quantity(PIZZA_QUANTITIES[n], ingredients[n]) for n in toppings) + ".",
        "Cuire 90 secondes au four à 450 °C, en tournant la pizza à mi-cuisson.",
    ]
    product.preparation_steps = [PreparationStep(text=text, sort_order=i) for i, text in enumerate(steps)]


def single_recipe(product, ingredient):
    """A drink or a dessert is one piece of itself."""
    product.recipe_lines = [RecipeLine(ingredient=ingredient, quantity=1, sort_order=0)]
    product.preparation_steps = [
        PreparationStep(
            text=f"Prendre 1 {ingredient.name.lower()} et le joindre à la commande.", sort_order=0
        )
    ]


def _add_product(menu, *, title, summary, category, sizes, ingredients, vegetarian, spicy, photo, recipe):
    existing = ProductPage.objects.child_of(menu).filter(title=title).first()
    if existing:
        return existing
    product = ProductPage(
        title=title,
        summary=summary,
        category=category,
        is_vegetarian=vegetarian,
        is_spicy=spicy,
        photo=photo,
        search_description=summary,
        vat_rate=vat_rate_for(title),
    )
    product.sizes = [
        ProductSize(name=name, price=price, recipe_factor=factor, sort_order=i)
        for i, (name, price, factor) in enumerate(sizes)
    ]
    recipe(product)
    menu.add_child(instance=product)
    product.ingredients.set(ingredients)
    product.save_revision().publish()
    return product


def build_menu(home, image_for):
    """Menu page and products under `home`; `image_for(title, category, ingredient_names, cream, seed)`."""
    menu = MenuPage.objects.child_of(home).first()
    if menu is None:
        menu = MenuPage(
            title="La carte",
            slug="carte",
            intro="Pâte pétrie chaque matin, tomates d'Italie, mozzarella fior di latte : "
            "toutes nos pizzas sont cuites à la commande.",
            search_description="La carte des pizzas, boissons et desserts OC Pizza.",
        )
        home.add_child(instance=menu)
        menu.save_revision().publish()
    ingredients = build_ingredients()
    products = []
    for seed, (title, summary, base, names, veg, spicy, cream) in enumerate(PIZZAS):
        base_price = Decimal(base)
        products.append(
            _add_product(
                menu,
                title=title,
                summary=summary,
                category=Category.PIZZA,
                sizes=[(label, base_price + extra, factor) for label, extra, factor in PIZZA_SIZES],
                ingredients=[ingredients[n] for n in names],
                vegetarian=veg,
                spicy=spicy,
                photo=image_for(title, Category.PIZZA, names, cream, seed),
                recipe=lambda product, names=names: pizza_recipe(product, ingredients, names),
            )
        )
    for seed, (title, summary, size, price, category, ingredient) in enumerate(SINGLES, start=50):
        products.append(
            _add_product(
                menu,
                title=title,
                summary=summary,
                category=category,
                sizes=[(size, Decimal(price), Decimal("1.00"))],
                ingredients=[ingredients[ingredient]],
                vegetarian=category == Category.DESSERT,
                spicy=False,
                photo=image_for(title, category, [], False, seed),
                recipe=lambda product, name=ingredient: single_recipe(product, ingredients[name]),
            )
        )
    return menu, products


def add_missing_recipes(menu):
    """Give a recipe to the demo products built before recipes existed; returns how many."""
    ingredients = {i.name: i for i in Ingredient.objects.all()}
    pizzas = {title: names for title, _summary, _base, names, *_rest in PIZZAS}
    singles = {title: ingredient for title, *_rest, ingredient in SINGLES}
    factors = {label: factor for label, _extra, factor in PIZZA_SIZES}
    count = 0
    for page in ProductPage.objects.child_of(menu).filter(recipe_lines__isnull=True):
        if page.title not in pizzas and page.title not in singles:
            continue
        product = page.get_latest_revision_as_object()
        if page.title in pizzas:
            pizza_recipe(product, ingredients, pizzas[page.title])
            sizes = list(product.sizes.all())
            for size in sizes:
                size.recipe_factor = factors.get(size.name, size.recipe_factor)
            product.sizes = sizes
        else:
            single_recipe(product, ingredients[singles[page.title]])
        product.save_revision().publish()
        count += 1
    return count
