"""The Django side of bench/http_bench.py: readies the bench database and counts queries.

Run by http_bench.py as its own process (the load generator never imports Django), with the
environment of the Gunicorn it benches, on the throw-away database that the demo data was loaded
into. It:

- gives Vaise stock for thousands of pizzas, opens it round the clock and lifts its slot capacity,
  so that order placement measures placing orders, not refusals;
- writes sessions straight into the session table: single-use ones holding a cart (one order
  each), empty ones for the cart adds, a few with a cart for the checkout page, one logged in as
  Bellecour's pizzaiolo for the kitchen board;
- sends each benched request once through Django's test client under CaptureQueriesContext: cold
  (right after the cache is cleared) and warm (the same request again); for a page's (cold) row,
  its first drawing after the cache is cleared and a second drawing (the catalogue kept);
- writes all that as JSON for http_bench.py to build its requests from.

    python bench/prepare.py OUT.json ORDER_SESSIONS
"""

import datetime
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RESTOCK_TIMES = 3  # restock takes at most 1,000,000 units of one ingredient per line
ADD_SESSIONS = 300
CHECKOUT_SESSIONS = 16
CSRF_TOKEN = "benchcsrftoken0123456789abcdefgh"  # any 32 letters and digits is a valid CSRF secret
CUSTOMER = {"name": "Client Bench", "phone": "04 78 00 00 00", "email": "bench@example.com"}


def open_store_for_orders(store):
    """Stock for thousands of orders, open every day from 00:00 to 23:59, 500 orders a slot."""
    from menu.models import Ingredient
    from stores.hours import ordering_settings
    from stores.models import OpeningHours, StoreClosure, StoreOrderingSettings
    from stores.services import restock

    ingredients = list(Ingredient.objects.all())
    for _ in range(RESTOCK_TIMES):
        restock(store=store, lines=[(i, 1_000_000) for i in ingredients], user=None, supplier="bench")
    settings = ordering_settings(store)
    if settings.pk is None:
        settings = StoreOrderingSettings(store=store, order_prefix="BEN")
    settings.slot_capacity = 500
    settings.accepts_orders = True
    settings.save()
    StoreClosure.objects.filter(store=store).delete()
    OpeningHours.objects.filter(store=store).delete()
    OpeningHours.objects.bulk_create(
        OpeningHours(
            store=store, weekday=day, opens=datetime.time(0, 0), closes=datetime.time(23, 59), sort_order=day
        )
        for day in range(7)
    )


def available_sizes(store):
    from menu.models import ProductPage
    from stores.availability import menu_availability

    products = list(ProductPage.objects.live().with_recipes())
    availability = menu_availability(store, products)
    return [
        size.id
        for product in products
        for size in product.sizes.all()
        if availability.sizes.get(size.id) and availability.sizes[size.id].available
    ]


def make_sessions(datas):
    """Session keys for `datas` (one session dict each), written in bulk."""
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone
    from django.utils.crypto import get_random_string

    store = SessionStore()
    expire = timezone.now() + datetime.timedelta(days=1)
    rows = [
        Session(
            session_key=get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789"),
            session_data=store.encode(data),
            expire_date=expire,
        )
        for data in datas
    ]
    Session.objects.bulk_create(rows, batch_size=500)
    return [row.session_key for row in rows]


def checkout_form(store_id, key):
    return {
        **CUSTOMER,
        "fulfilment": "pickup",
        "when": "asap",
        "payment_method": "cash",
        "idempotency_key": key,
        "cart_store": str(store_id),
    }


def place_tracked_order(store, size_id):
    """An order to track, placed through the ordering service at `store` (opened round the clock)."""
    from ordering.pricing import CartLine
    from ordering.services import Contact, place_order

    return place_order(
        store=store,
        lines=[CartLine(size_id=size_id, quantity=1, extra_ids=())],
        fulfilment="pickup",
        contact=Contact(name="Suivi Banc", phone="06 12 34 56 78", email="suivi@example.com"),
        payment_method="cash",
        idempotency_key="bench-tracked-order",
    )


def count(client, method, url, expect, **extra):
    """Queries of one request; fails loudly when the answer is not the expected one."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = getattr(client, method)(url, **extra)
    status, _, location = expect.partition(":")
    if response.status_code != int(status) or location not in response.get("Location", location):
        raise SystemExit(
            f"prepare: {method.upper()} {url} answered {response.status_code} "
            f"{response.get('Location', '')}, expected {expect}"
        )
    return len(queries.captured_queries), response


def cold_and_warm(client, method, url, expect, extra_for=None):
    """(cold, warm) query counts of a request in a process that already served it once: right
    after the whole cache is cleared (the worst case of an invalidation), then the same again."""
    from django.core.cache import cache

    extra_for = extra_for or (lambda attempt: {})
    count(client, method, url, expect, **extra_for(0))  # the process's own first-use caches
    cache.clear()
    cold, _ = count(client, method, url, expect, **extra_for(1))
    warm, _ = count(client, method, url, expect, **extra_for(2))
    return [cold, warm]


def first_and_again(client, url):
    """The (cold) rows' query counts: the first drawing of a page after an edit (the cache cleared:
    the catalogue is read again, menu/catalogue.py), then another drawing under the same content
    (the catalogue kept), which is what the (cold) rows' requests are: a query string passes the
    page cache by."""
    from django.core.cache import cache

    cache.clear()
    first, _ = count(client, "get", f"{url}?bench-cold=first", "200")
    again, _ = count(client, "get", f"{url}?bench-cold=again", "200")
    return [first, again]


def board_cold_and_warm(staff, url):
    """The board poll's (cold, warm) query counts. Its ETag holds the version of the store's
    boards, kept in the cache: once the cache is emptied the version is a new one, so the cold
    poll draws the board again (200), and the warm one is answered 304 with the new ETag."""
    from django.core.cache import cache

    etag = staff.get(url)["ETag"]
    count(staff, "get", url, "304", HTTP_IF_NONE_MATCH=etag)  # the process's own first-use caches
    cache.clear()
    cold, response = count(staff, "get", url, "200", HTTP_IF_NONE_MATCH=etag)
    warm, _ = count(staff, "get", url, "304", HTTP_IF_NONE_MATCH=response["ETag"])
    return [cold, warm]


def main():
    out, order_sessions = Path(sys.argv[1]), int(sys.argv[2])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ocpizza.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.test import Client
    from django.test.utils import override_settings

    from accounts.models import User
    from menu.models import MenuPage, ProductPage
    from ordering.models import Order
    from stores.models import StorePage

    vaise = StorePage.objects.live().get(slug="vaise")
    bellecour = StorePage.objects.live().get(slug="bellecour")
    open_store_for_orders(vaise)
    sizes = available_sizes(vaise)
    if not sizes:
        raise SystemExit("prepare: nothing can be sold at Vaise after the restock")
    size = sizes[0]
    cart = {"cart": {"store_id": vaise.id, "lines": [[size, 1, []]], "code": ""}}
    menu = MenuPage.objects.live().first()
    product = ProductPage.objects.live().order_by("path").first()
    tracked = Order.objects.filter(store=bellecour, status=Order.Status.RECEIVED, secret__gt="").first()
    if tracked is None:  # the demo places its kitchen orders only when Bellecour has a free slot
        tracked = place_tracked_order(vaise, size)
    urls = {
        "home": "/",
        "menu": menu.url,
        "store_menu": f"{menu.url}pizzeria/{vaise.slug}/",
        "product": product.url,
        "cart_add": "/panier/ajouter/",
        "checkout": "/panier/commander/",
        "tracking": f"/commandes/{tracked.number}/{tracked.secret}/etat/",
        "board": f"/equipe/{bellecour.id}/cuisine/etat/",
    }
    # Three more order sessions than the load needs: the query count places three orders.
    orders = make_sessions([cart] * (order_sessions + 3))
    adds = make_sessions([{}] * ADD_SESSIONS)
    checkouts = make_sessions([cart] * CHECKOUT_SESSIONS)
    visitor = make_sessions([{}])[0]
    staff = Client(HTTP_HOST="127.0.0.1")
    staff.force_login(User.objects.get(email="pizzaiolo@oc-pizza.fr"))
    staff_session = staff.cookies[settings.SESSION_COOKIE_NAME].value

    def client_with(session_key):
        client = Client(HTTP_HOST="127.0.0.1")
        client.cookies[settings.SESSION_COOKIE_NAME] = session_key
        return client

    anonymous = Client(HTTP_HOST="127.0.0.1")
    pages = ("home", "menu", "store_menu", "product")
    queries = {name: cold_and_warm(anonymous, "get", urls[name], "200") for name in pages}
    queries.update({f"{name} (cold)": first_and_again(anonymous, urls[name]) for name in pages})
    with override_settings(ROOT_URLCONF="bench.minimal_urls"):
        queries["minimal"] = cold_and_warm(anonymous, "get", "/", "200")
    adder = client_with(adds[-1])
    queries["cart_add"] = cold_and_warm(
        adder,
        "post",
        urls["cart_add"],
        "200",
        lambda attempt: {
            "data": {"store": vaise.id, "size": sizes[attempt % len(sizes)], "quantity": 1},
            "HTTP_ACCEPT": "application/json",
        },
    )
    queries["checkout"] = cold_and_warm(client_with(checkouts[-1]), "get", urls["checkout"], "200")
    placed = []
    for attempt, key in enumerate(orders[-3:]):
        if attempt == 1:
            from django.core.cache import cache

            cache.clear()
        form = checkout_form(vaise.id, f"bench-idempotency-prepare-{attempt}")
        placed.append(count(client_with(key), "post", urls["checkout"], "302:/commandes/", data=form)[0])
    placed = placed[1:]
    queries["order"] = placed
    visitor_client = client_with(visitor)
    etag = visitor_client.get(urls["tracking"])["ETag"]
    queries["tracking"] = cold_and_warm(
        visitor_client, "get", urls["tracking"], "304", lambda attempt: {"HTTP_IF_NONE_MATCH": etag}
    )
    queries["board"] = board_cold_and_warm(staff, urls["board"])
    out.write_text(
        json.dumps(
            {
                "urls": urls,
                "store_id": vaise.id,
                "sizes": sizes,
                "csrf_token": CSRF_TOKEN,
                "session_cookie": settings.SESSION_COOKIE_NAME,
                "csrf_cookie": settings.CSRF_COOKIE_NAME,
                "checkout_form": checkout_form(vaise.id, "bench-idempotency-{n}"),
                "sessions": {
                    "order": orders[:-3],
                    "add": adds[:-1],
                    "checkout": checkouts[:-1],
                    "visitor": visitor,
                    "staff": staff_session,
                },
                "queries": queries,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
