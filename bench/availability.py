"""Time and count the queries of a store's availability on a large menu.

Builds its own data (40 products × 3 sizes × 12 ingredients, 2 extras each, one store with stock)
in a throw-away database: a temporary SQLite file, or the database named by BENCH_DATABASE_URL
(which is dropped and created again: never point it at a database you care about). Prints the
time of `menu_availability` alone, with the menu's query, and of a whole store-menu page.

    DEBUG=true .venv/bin/python bench/availability.py       (what `make bench` runs)
"""

import os
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PRODUCTS, SIZES, INGREDIENTS_PER_PRODUCT, EXTRAS_PER_PRODUCT, INGREDIENTS = 40, 3, 12, 2, 45
RUNS = 50


def configure():
    workdir = tempfile.mkdtemp(prefix="ocpizza-bench-")
    os.environ.setdefault("DEBUG", "true")
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{workdir}/bench.sqlite3"
    os.environ["MEDIA_ROOT"] = workdir
    os.environ["EMAIL_URL"] = "memorymail://"
    os.environ["TASKS_BACKEND"] = "django_tasks.backends.immediate.ImmediateBackend"
    os.environ["DJANGO_SETTINGS_MODULE"] = "ocpizza.settings"
    import django

    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["localhost"]
    if os.environ.get("BENCH_DATABASE_URL"):
        from django.db import connection

        # A test database: Django creates it afresh and the bench drops it at the end.
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        return workdir, connection
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return workdir, None


def build():
    from wagtail.models import Page, Site

    from home.models import HomePage
    from menu.models import Ingredient, MenuPage, ProductExtra, ProductPage, ProductSize, RecipeLine
    from stores.models import StoreIndexPage, StorePage
    from stores.services import restock

    root = Page.get_first_root_node()
    home = root.add_child(instance=HomePage(title="OC Pizza", slug="accueil"))
    Site.objects.update_or_create(
        is_default_site=True, defaults={"hostname": "localhost", "port": 80, "root_page": home}
    )
    menu = home.add_child(instance=MenuPage(title="La carte", slug="carte"))
    index = home.add_child(instance=StoreIndexPage(title="Nos pizzerias", slug="pizzerias"))
    store = index.add_child(
        instance=StorePage(
            title="OC Pizza Bench",
            slug="bench",
            street_address="1 rue du Banc",
            postcode="69002",
            city="Lyon",
            phone="04 78 00 00 00",
            latitude=Decimal("45.76"),
            longitude=Decimal("4.83"),
        )
    )
    ingredients = [Ingredient.objects.create(name=f"Ingrédient {n:02d}") for n in range(INGREDIENTS)]
    for p in range(PRODUCTS):
        product = menu.add_child(instance=ProductPage(title=f"Pizza {p:02d}", slug=f"pizza-{p:02d}"))
        ProductSize.objects.bulk_create(
            ProductSize(
                product=product,
                name=f"Taille {s}",
                price=Decimal("9.00") + s * 3,
                recipe_factor=Decimal("1.00") + Decimal("0.45") * s,
                sort_order=s,
            )
            for s in range(SIZES)
        )
        used = [ingredients[(p + i) % INGREDIENTS] for i in range(INGREDIENTS_PER_PRODUCT)]
        RecipeLine.objects.bulk_create(
            RecipeLine(product=product, ingredient=ingredient, quantity=20 + 10 * i, sort_order=i)
            for i, ingredient in enumerate(used)
        )
        ProductExtra.objects.bulk_create(
            ProductExtra(
                product=product,
                name=f"Supplément {e}",
                ingredient=used[e],
                quantity=30,
                price=Decimal("1.50"),
                sort_order=e,
            )
            for e in range(EXTRAS_PER_PRODUCT)
        )
        product.ingredients.set(used)
    # Enough for a few portions of everything, and one ingredient short so some sizes are out.
    restock(store=store, lines=[(i, 5000) for i in ingredients[1:]] + [(ingredients[0], 100)], user=None)
    return menu, store


def measure(label, func):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    func()  # warm caches (site root paths, content types)
    timings = []
    for _ in range(RUNS):
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            result = func()
            timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(
        f"{label:<52} median {statistics.median(timings):7.2f} ms   p95 {p95:7.2f} ms   "
        f"{len(queries.captured_queries):3d} queries"
    )
    return result


def main():
    workdir, test_connection = configure()
    from django.db import connection
    from django.test import Client

    from menu.models import ProductPage
    from stores.availability import menu_availability

    try:
        menu, store = build()
        products = list(ProductPage.objects.child_of(menu).live().with_recipes())
        print(
            f"Menu: {PRODUCTS} products × {SIZES} sizes × {INGREDIENTS_PER_PRODUCT} ingredients, "
            f"{EXTRAS_PER_PRODUCT} extras each; database: {connection.vendor}; {RUNS} runs each."
        )
        availability = measure(
            "menu_availability (products already loaded)", lambda: menu_availability(store, products)
        )
        measure(
            "load the menu with recipes + menu_availability",
            lambda: menu_availability(store, list(ProductPage.objects.child_of(menu).live().with_recipes())),
        )
        client = Client(HTTP_HOST="localhost")
        url = f"{menu.url}pizzeria/{store.slug}/"
        response = measure(f"GET {url} (whole page)", lambda: client.get(url))
        assert response.status_code == 200, response.status_code
        unavailable = sum(1 for a in availability.sizes.values() if not a.available)
        print(
            f"Sizes: {len(availability.sizes)} ({unavailable} out of stock), "
            f"size+extra pairs: {len(availability.extras)}"
        )
    finally:
        if test_connection is not None:
            test_connection.creation.destroy_test_db(test_connection.settings_dict["NAME"], verbosity=0)
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
