"""The storefront's page cache (ocpizza/pagecache.py): shared, personal where it must be, never stale."""

import re
import uuid

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from wagtail.models import Site

from accounts.tests.factories import UserFactory
from home.models import BrandSettings
from menu.tests.factories import product_with_recipe
from ordering.tests.factories import line, make_shop, place, place_committed
from stores.services import restock, withdraw_product
from stores.tests.factories import StorePageFactory, stock

HEADER = "X-Page-Cache"

# A stored page lives until the end of the minute it was drawn in: a test that draws a page and
# expects the next visitor to get it must not cross into the next minute.
pytestmark = pytest.mark.usefixtures("within_one_minute")


@pytest.fixture
def shop(store_index, menu_page):
    # The brand's settings row, which Wagtail creates on a page's first rendering otherwise (a
    # change of content, so the first copy would not be kept).
    BrandSettings.for_site(Site.objects.get(is_default_site=True))
    return make_shop(store_index, menu_page)


@pytest.fixture
def store_menu(shop, menu_page):
    return menu_page.store_menu_url(shop.store)


def card_of(html, slug):
    start = html.index(f'data-product="{slug}"')
    return html[html.rindex("<li", 0, start) : html.index("</li>\n", html.index('class="prices"', start))]


def beer_card_unavailable(html):
    return "is-unavailable" in card_of(html, "biere-blonde").split(">")[0]


def test_an_anonymous_visitors_second_view_is_served_from_the_cache_without_a_query(
    client, store_menu, django_assert_num_queries
):
    first = client.get(store_menu)
    with django_assert_num_queries(0):
        second = Client().get(store_menu)  # another visitor, no cookie at all

    assert first[HEADER] == "miss"
    assert second[HEADER] == "hit"
    assert second.status_code == 200
    assert "La carte de OC Pizza Vaise" in second.content.decode()
    assert second["Content-Type"] == "text/html; charset=utf-8"
    assert second["X-Frame-Options"] == "DENY"


def test_a_cached_page_carries_each_visitors_own_csrf_token_and_the_form_works(client, store_menu, shop):
    client.get(store_menu)
    visitor = Client(enforce_csrf_checks=True)

    page = visitor.get(store_menu)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    added = visitor.post(
        "/panier/ajouter/",
        {"csrfmiddlewaretoken": token, "store": shop.store.id, "size": shop.beer_size.id, "quantity": 1},
    )

    assert page[HEADER] == "hit"
    assert "csrftoken" in page.cookies  # set for this visitor, as a rendered page would
    assert "__ocpizza_pagecache_csrf__" not in page.content.decode()
    assert added.status_code == 302
    assert visitor.session["cart"]["lines"] == [[shop.beer_size.id, 1, []]]


def test_a_cached_page_gets_this_responses_csp_nonce(client, store_index, shop):
    client.get(store_index.url)

    hit = Client().get(store_index.url)

    nonce = re.search(r"'nonce-([^']+)'", hit["Content-Security-Policy"]).group(1)
    assert hit[HEADER] == "hit"
    assert f'<script nonce="{nonce}">' in hit.content.decode()
    assert "__ocpizza_pagecache_nonce__" not in hit.content.decode()


def test_a_sale_that_sells_a_product_out_is_on_the_store_menu_at_once(client, store_menu, shop):
    assert not beer_card_unavailable(client.get(store_menu).content.decode())
    assert Client().get(store_menu)[HEADER] == "hit"

    place_committed(shop, lines=[line(shop.beer_size, 20)])  # the last twenty beers
    after = Client().get(store_menu)

    assert after[HEADER] == "miss"
    assert beer_card_unavailable(after.content.decode())


def test_a_delivery_puts_a_sold_out_product_back_at_once(client, store_menu, shop):
    place(shop, lines=[line(shop.beer_size, 20)])
    assert beer_card_unavailable(client.get(store_menu).content.decode())

    restock(store=shop.store, lines=[(shop.beer_stock, 24)], user=None)

    assert not beer_card_unavailable(Client().get(store_menu).content.decode())


def test_a_withdrawal_greys_the_product_at_once(client, store_menu, shop):
    client.get(store_menu)

    withdraw_product(store=shop.store, product=shop.beer, user=None, reason="Livraison manquée")

    assert beer_card_unavailable(Client().get(store_menu).content.decode())


def test_the_kitchen_using_what_an_order_reserved_keeps_the_pages(client, store_menu, shop):
    from ordering.services import start_preparing

    order = place(shop, lines=[line(shop.beer_size, 2)])
    client.get(store_menu)

    start_preparing(order, user=UserFactory())

    assert Client().get(store_menu)[HEADER] == "hit"  # nothing more or less is free


def test_an_unpublished_page_is_never_served_again(client, shop):
    assert client.get(shop.dessert.url).status_code == 200

    shop.dessert.unpublish()

    assert Client().get(shop.dessert.url).status_code == 404


def test_a_published_change_is_served_at_once(client, shop):
    client.get(shop.dessert.url)

    shop.dessert.title = "Tiramisu maison"
    shop.dessert.save_revision().publish()

    assert "<h1>Tiramisu maison</h1>" in Client().get(shop.dessert.url).content.decode()


def test_a_draft_is_not_shown(client, shop):
    client.get(shop.dessert.url)

    shop.dessert.title = "Tiramisu brouillon"
    shop.dessert.save_revision()

    html = Client().get(shop.dessert.url).content.decode()
    assert "<h1>Tiramisu</h1>" in html and "brouillon" not in html


def test_a_page_is_not_served_past_the_minute_it_was_rendered_in(client, shop):
    start = timezone.now().replace(second=30, microsecond=0)
    with time_machine.travel(start, tick=False):
        client.get(shop.dessert.url)
        assert Client().get(shop.dessert.url)[HEADER] == "hit"
    with time_machine.travel(start.replace(second=59), tick=False):
        assert Client().get(shop.dessert.url)[HEADER] == "hit"
    with time_machine.travel(start + timezone.timedelta(seconds=30), tick=False):
        assert Client().get(shop.dessert.url)[HEADER] == "miss"


def test_each_language_has_its_own_copy(client, shop):
    french = client.get(shop.dessert.url, HTTP_ACCEPT_LANGUAGE="fr")
    english = Client().get(shop.dessert.url, HTTP_ACCEPT_LANGUAGE="en")

    assert english[HEADER] == "miss"
    assert '<html lang="en">' in english.content.decode()
    assert '<html lang="fr">' in french.content.decode()
    assert Client().get(shop.dessert.url, HTTP_ACCEPT_LANGUAGE="en")[HEADER] == "hit"


def test_a_visitor_with_a_cart_gets_their_own_page(client, store_menu, shop):
    Client().get(store_menu)
    client.post("/panier/ajouter/", {"store": shop.store.id, "size": shop.beer_size.id, "quantity": 3})

    page = client.get(store_menu)

    assert page[HEADER] == "bypass"
    assert re.search(r'<span class="cart-count" data-cart-count>3</span>', page.content.decode())


def test_a_signed_in_customer_gets_their_own_page(client, store_menu):
    Client().get(store_menu)
    client.force_login(UserFactory())

    page = client.get(store_menu)

    assert page[HEADER] == "bypass"
    assert "Mon compte" in page.content.decode() and "Se connecter" not in page.content.decode()


def test_the_shared_copy_never_holds_what_a_signed_in_customer_saw(client, store_menu):
    client.force_login(UserFactory())
    client.get(store_menu)

    page = Client().get(store_menu)

    assert page[HEADER] == "miss"
    assert "Se connecter" in page.content.decode() and "Mon compte" not in page.content.decode()


def test_campaign_tags_share_a_page_other_parameters_do_not(client, shop):
    tagged = f"{shop.dessert.url}?utm_source=newsletter&utm_campaign=vendredi"
    client.get(tagged)

    assert Client().get(tagged)[HEADER] == "hit"
    assert Client().get(f"{shop.dessert.url}?utm_source=x{uuid.uuid4().hex}")[HEADER] == "hit"  # one copy
    assert Client().get(f"{shop.dessert.url}?taille=grande")[HEADER] == "bypass"


def test_pages_that_are_not_wagtail_pages_are_never_cached(client, shop):
    first = client.get("/panier/")
    second = Client().get("/panier/")

    assert HEADER not in first and HEADER not in second


def test_a_path_is_looked_up_again_under_another_urlconf(client, settings, shop):
    url = shop.dessert.url
    client.get(url)
    assert Client().get(url)[HEADER] == "hit"

    settings.ROOT_URLCONF = "ocpizza.tests.urls_without_pages"

    response = Client().get(url)
    assert HEADER not in response and response.content == b"not a page"


def test_a_zero_setting_turns_the_cache_off(client, settings, shop):
    settings.PAGE_CACHE_SECONDS = 0
    client.get(shop.dessert.url)

    assert HEADER not in Client().get(shop.dessert.url)


def test_a_new_product_shows_on_the_menu_at_once(client, menu_page, shop):
    client.get(menu_page.url)

    product_with_recipe(menu_page, title="Calzone", recipe={shop.dough: 250})

    assert ">Calzone</a>" in Client().get(menu_page.url).content.decode()


def test_stock_counted_elsewhere_forgets_pages_too(client, store_index, menu_page, shop):
    other = StorePageFactory(parent=store_index, slug="bellecour", title="OC Pizza Bellecour")
    client.get(menu_page.store_menu_url(other))

    stock(other, {shop.beer_stock: 5})

    assert Client().get(menu_page.store_menu_url(other))[HEADER] == "miss"


@pytest.fixture
def redis_cache(settings):
    """The production cache: Redis, under a key prefix of this test's own (other suites share the
    server), whose keys are deleted afterwards."""
    prefix = f"pagecache-test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "ocpizza.cache.FailSoftRedisCache",
            "LOCATION": "redis://127.0.0.1:6379/0",
            "KEY_PREFIX": prefix,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
    from django.core.cache import cache

    try:
        cache.probe("probe", 1, 5)
    except OSError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    yield cache
    client = cache._cache.get_client(None, write=True)
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)


def test_with_redis_a_sale_that_sells_out_is_shown_at_once(client, redis_cache, store_menu, shop):
    client.get(store_menu)
    client.get(shop.dessert.url)
    assert Client().get(store_menu)[HEADER] == "hit"

    place_committed(shop, lines=[line(shop.beer_size, 20)])
    after = Client().get(store_menu)

    assert Client().get(shop.dessert.url)[HEADER] == "hit"  # a page without the store's stock
    assert after[HEADER] == "miss"
    assert beer_card_unavailable(after.content.decode())
    assert Client().get(store_menu)[HEADER] == "hit"


def test_the_generation_changes_again_once_the_writer_commits(shop, django_capture_on_commit_callbacks):
    from ocpizza import pagecache

    with django_capture_on_commit_callbacks() as callbacks:
        withdraw_product(store=shop.store, product=shop.beer, user=None)
        during = cache.get(pagecache.generation_key())
    for callback in callbacks:
        callback()

    assert during is not None
    assert cache.get(pagecache.generation_key()) != during


def test_a_stores_stock_token_changes_again_once_a_delivery_commits(shop, django_capture_on_commit_callbacks):
    from ocpizza import pagecache

    key = pagecache.stock_key(shop.store.pk)
    cache.set(key, "before", timeout=None)
    with django_capture_on_commit_callbacks() as callbacks:
        restock(store=shop.store, lines=[(shop.beer_stock, 24)], user=None)
        during = cache.get(key)
    for callback in callbacks:
        callback()

    assert during not in (None, "before")
    assert cache.get(key) != during


def test_a_sale_replaces_its_stores_stock_token_once_it_commits_only(
    shop, django_capture_on_commit_callbacks
):
    """Placing writes to Redis after its commit alone (an order's round trips under load): a page
    drawn before the commit is keyed by the token the commit's write replaces."""
    from ocpizza import pagecache

    key = pagecache.stock_key(shop.store.pk)
    cache.set(key, "before", timeout=None)
    with django_capture_on_commit_callbacks() as callbacks:
        place(shop, lines=[line(shop.beer_size, 20)])
        during = cache.get(key)
    for callback in callbacks:
        callback()

    assert during == "before"
    assert cache.get(key) not in (None, "before")


def test_a_sale_keeps_every_page_that_does_not_show_that_stores_stock(client, store_index, menu_page, shop):
    other = StorePageFactory(parent=store_index, slug="bellecour", title="OC Pizza Bellecour")
    stock(other, {shop.beer_stock: 5})
    kept = ["/", menu_page.url, shop.dessert.url, shop.store.url, store_index.url]
    kept.append(menu_page.store_menu_url(other))
    store_menu = menu_page.store_menu_url(shop.store)
    for url in [*kept, store_menu]:
        client.get(url)

    place_committed(shop, lines=[line(shop.beer_size, 2)])

    assert {url: Client().get(url)[HEADER] for url in kept} == dict.fromkeys(kept, "hit")
    assert Client().get(store_menu)[HEADER] == "miss"


def test_a_store_menu_whose_stock_token_was_lost_is_rendered_again(client, store_menu, shop):
    from ocpizza import pagecache

    client.get(store_menu)
    cache.delete(pagecache.stock_key(shop.store.pk))  # evicted, or Redis restarted empty

    assert Client().get(store_menu)[HEADER] == "miss"
    assert Client().get(store_menu)[HEADER] == "hit"


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(
            lambda shop: place_committed(shop, lines=[line(shop.beer_size, 2)]),
            id="a sale: its store's token",
        ),
        pytest.param(
            lambda shop: withdraw_product(store=shop.store, product=shop.beer, user=None),
            id="a withdrawal: the generation",
        ),
    ],
)
def test_a_change_redis_refused_stops_this_process_serving_stored_pages(
    client, shop, refused_redis, caplog, change
):
    from ocpizza import pagecache

    change(shop)  # the writer goes on
    page = client.get(shop.dessert.url)

    assert pagecache._generation_pending.is_set()
    assert "a change could not be recorded" in caplog.text
    assert page.status_code == 200 and page[HEADER] == "bypass"


def test_a_head_request_is_served_the_stored_page(client, shop):
    client.get(shop.dessert.url)

    head = Client().head(shop.dessert.url)

    assert head[HEADER] == "hit"
    assert head.status_code == 200


def test_a_guest_who_ordered_still_gets_the_shared_page(client, shop):
    session = client.session
    session["guest_orders"] = ["VAI-0001"]
    session.save()
    Client().get(shop.dessert.url)

    assert client.get(shop.dessert.url)[HEADER] == "hit"


def test_a_visitor_with_a_message_waiting_gets_their_own_page(client, shop):
    Client().get(shop.dessert.url)
    client.cookies["messages"] = "pending"

    assert client.get(shop.dessert.url)[HEADER] == "bypass"


def test_deleting_rows_no_page_shows_stays_a_fast_delete():
    from django.contrib.sessions.models import Session
    from django.db.models.signals import post_delete

    from ordering.models import OrderLine

    assert not post_delete.has_listeners(Session)
    assert not post_delete.has_listeners(OrderLine)


def test_a_store_menu_hit_reads_the_cache_once(client, store_menu, monkeypatch):
    """The page, the generation and the store's stock token in one read: a store menu served from
    the cache costs no more round trips to Redis than any other page."""
    client.get(store_menu)
    reads, inside = [], []
    for name in ("get", "get_many"):
        original = getattr(cache, name)

        def spy(*args, _original=original, _name=name, **kwargs):
            if not inside:  # not the gets of the test cache's own get_many
                reads.append(_name)
            inside.append(_name)
            try:
                return _original(*args, **kwargs)
            finally:
                inside.pop()

        monkeypatch.setattr(cache, name, spy)

    assert Client().get(store_menu)[HEADER] == "hit"
    assert reads == ["get_many"], reads
