"""The boards' polls read a version of the store's orders from the cache (`ordering.boards`):
every change of an order of the store changes the ETag at once, access stays as strict, and
without the cache the ETag is computed from the orders as before."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from accounts.tests.factories import UserFactory
from ordering import boards, services
from ordering.money import pay_order
from stores.models import StoreRole
from stores.tests.factories import StoreMembershipFactory, StorePageFactory, stock

from .factories import NOW, configure, line, new_key, place, place_committed
from .test_kitchen_board import crew

OK = "cnon:card-nonce-ok"


def kitchen_status(store):
    return f"/equipe/{store.id}/cuisine/etat/"


def delivery_status(store):
    return f"/equipe/{store.id}/livraisons/etat/"


@pytest.fixture
def other(shop, store_index):
    """A second store selling the same menu."""
    bellecour = StorePageFactory(parent=store_index, slug="bellecour", title="OC Pizza Bellecour")
    configure(bellecour)
    stock(bellecour, {shop.cheese: 5000, shop.dough: 10000, shop.basil: 500})
    return bellecour


@pytest.fixture
def pizzaiolo(shop):
    return crew(StoreRole.PIZZAIOLO, shop.store)


def holder(client):
    """The value the boards bind their ETags to: the browser's session cookie."""
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def poll(client, url, etag):
    return client.get(url, HTTP_IF_NONE_MATCH=etag)


def assert_changed(client, url, etag):
    """The poll holding `etag` is told the board changed; the new ETag answers 304. Returns it."""
    changed = poll(client, url, etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert poll(client, url, changed["ETag"]).status_code == 304
    return changed["ETag"]


def test_the_kitchen_poll_answers_304_from_the_version_in_no_query(
    client, shop, pizzaiolo, django_assert_num_queries
):
    place(shop)
    client.force_login(pizzaiolo)
    with time_machine.travel(timezone.now().replace(second=10), tick=False):  # the ETag names the minute
        etag = client.get(kitchen_status(shop.store))["ETag"]
        version = cache.get(boards.board_version_key(shop.store.id))

        with django_assert_num_queries(0):
            unchanged = poll(client, kitchen_status(shop.store), etag)

    assert unchanged.status_code == 304
    assert unchanged["ETag"] == etag
    assert "no-cache" in unchanged["Cache-Control"] and "private" in unchanged["Cache-Control"]
    assert version is not None
    assert etag.startswith(f'"kitchen-{shop.store.id}-v{version}-')


def test_every_kind_of_change_of_an_order_changes_the_kitchen_etag(client, shop, pizzaiolo):
    client.force_login(pizzaiolo)
    url = kitchen_status(shop.store)
    etag = client.get(url)["ETag"]

    order = place_committed(shop)  # a new order
    etag = assert_changed(client, url, etag)
    services.change_order(order, lines=[line(shop.small, 3)])  # an edit
    etag = assert_changed(client, url, etag)
    services.start_preparing(order)  # a status change
    etag = assert_changed(client, url, etag)
    services.undo_start_preparing(order)  # an undo
    etag = assert_changed(client, url, etag)
    services.cancel_order(order, reason="Client injoignable")  # a cancellation
    etag = assert_changed(client, url, etag)
    unpaid = place_committed(shop, payment_method="card_online")
    etag = assert_changed(client, url, etag)
    pay_order(unpaid, source_token=OK, idempotency_key=new_key(), now=NOW)  # a payment
    assert_changed(client, url, etag)


def test_a_change_in_another_store_leaves_the_etag_as_it_was(client, shop, other, pizzaiolo):
    client.force_login(pizzaiolo)
    etag = client.get(kitchen_status(shop.store))["ETag"]

    place(shop, store=other)

    assert poll(client, kitchen_status(shop.store), etag).status_code == 304


def test_the_delivery_poll_follows_the_same_version(client, shop):
    driver = crew(StoreRole.DRIVER, shop.store)
    order = place(shop)
    client.force_login(driver)
    url = delivery_status(shop.store)
    etag = client.get(url)["ETag"]
    assert poll(client, url, etag).status_code == 304

    services.start_preparing(order)

    assert_changed(client, url, etag)


def test_the_page_and_its_poll_hold_the_same_etag(client, shop, pizzaiolo):
    place(shop)
    client.force_login(pizzaiolo)

    html = client.get(f"/equipe/{shop.store.id}/cuisine/tableau/").content.decode()
    etag = client.get(kitchen_status(shop.store))["ETag"]

    assert f'data-etag="{etag.replace(chr(34), "&quot;")}"' in html


@pytest.mark.parametrize("who", ["anonymous", "other_store", "customer", "no_permission"])
def test_the_poll_still_refuses_who_may_not_open_the_board(client, shop, other, pizzaiolo, who):
    client.force_login(pizzaiolo)
    etag = client.get(kitchen_status(shop.store))["ETag"]  # the version is in the cache
    client.logout()
    if who == "other_store":
        client.force_login(crew(StoreRole.PIZZAIOLO, other))
    elif who == "customer":
        client.force_login(UserFactory())
    elif who == "no_permission":
        user = UserFactory()  # a membership, but not in the pizzaiolos' group
        StoreMembershipFactory(user=user, store=shop.store, role=StoreRole.PIZZAIOLO)
        client.force_login(user)

    assert poll(client, kitchen_status(shop.store), etag).status_code == 403


def test_a_store_that_does_not_exist_is_404(client, shop, pizzaiolo):
    client.force_login(pizzaiolo)

    assert client.get("/equipe/999999/cuisine/etat/").status_code == 404


def test_the_version_changes_again_once_the_writer_commits(shop, django_capture_on_commit_callbacks):
    order = place_committed(shop)
    before = cache.get(boards.board_version_key(shop.store.id))
    with django_capture_on_commit_callbacks() as callbacks:
        services.start_preparing(order)
        during = cache.get(boards.board_version_key(shop.store.id))
    for callback in callbacks:
        callback()

    assert during not in (None, before)
    assert cache.get(boards.board_version_key(shop.store.id)) != during


def test_placing_replaces_the_version_once_the_order_commits_only(shop, django_capture_on_commit_callbacks):
    """Every order of a store waits for the placing lock, and under load a round trip to Redis is
    one of an order's longest waits: placing writes the version after its commit alone."""
    before = boards.current_version(shop.store.id)
    with django_capture_on_commit_callbacks() as callbacks:
        place(shop)
        during = cache.get(boards.board_version_key(shop.store.id))
    for callback in callbacks:
        callback()

    assert during == before is not None
    assert cache.get(boards.board_version_key(shop.store.id)) not in (None, before)


@pytest.fixture
def dead_redis(refused_redis):
    yield
    boards.forget_failures()


def test_without_redis_the_etag_is_computed_from_the_orders(client, shop, pizzaiolo, dead_redis):
    order = place(shop)
    client.force_login(pizzaiolo)
    etag = client.get(kitchen_status(shop.store))["ETag"]
    assert "-v" not in etag
    assert poll(client, kitchen_status(shop.store), etag).status_code == 304

    services.start_preparing(order)

    assert_changed(client, kitchen_status(shop.store), etag)


def test_a_change_redis_refused_stops_this_process_using_the_version(shop, pizzaiolo, dead_redis, caplog):
    place_committed(shop)  # the bump is refused: the sale goes on

    assert shop.store.id in boards._pending_versions
    assert "a change of the boards could not be recorded" in caplog.text
    assert boards.current_version(shop.store.id) is None


def test_the_poll_s_access_query_agrees_with_the_staff_screens_rule(shop, other):
    from django.contrib.auth.models import Group, Permission

    from ordering.access import DELIVERY_BOARD, KITCHEN_BOARD, TAKE_ORDERS, screen_access_now, screen_stores
    from stores.access import HEAD_OFFICE_GROUP

    head_office = UserFactory(groups=[Group.objects.get_or_create(name=HEAD_OFFICE_GROUP)[0]])
    head_office.user_permissions.add(Permission.objects.get(codename="use_kitchen_board"))
    inactive = crew(StoreRole.PIZZAIOLO, shop.store)
    inactive.is_active = False
    inactive.save()
    users = [
        crew(StoreRole.PIZZAIOLO, shop.store),
        crew(StoreRole.DRIVER, shop.store),
        crew(StoreRole.MANAGER, other),
        crew(StoreRole.STAFF, shop.store, other),
        head_office,
        UserFactory(is_superuser=True),
        UserFactory(),
        inactive,
    ]
    for user in users:
        for permission in (KITCHEN_BOARD, DELIVERY_BOARD, TAKE_ORDERS):
            for store in (shop.store, other):
                expected = screen_stores(user, permission).filter(pk=store.pk).exists()
                assert screen_access_now(user, permission, store.pk) == (True, expected), (user, permission)
    assert screen_access_now(users[0], KITCHEN_BOARD, 999_999) == (False, False)


@pytest.fixture
def redis_refusing_writes(settings):
    settings.CACHES = {"default": {"BACKEND": "ocpizza.tests.refusing_cache.WriteRefusingCache"}}
    yield
    boards.forget_failures()


def test_a_redis_that_refuses_writes_costs_no_sale_and_the_board_still_follows(
    client, shop, pizzaiolo, redis_refusing_writes, caplog
):
    client.force_login(pizzaiolo)
    etag = client.get(kitchen_status(shop.store))["ETag"]

    order = place_committed(shop)  # the version cannot be written: the order is placed all the same

    assert order.pk is not None and order.status == order.Status.RECEIVED
    assert "a change of the boards could not be recorded" in caplog.text
    assert_changed(client, kitchen_status(shop.store), etag)  # computed from the orders


def test_polls_of_a_missing_store_or_by_a_stranger_leave_nothing_in_the_cache(client, shop):
    client.force_login(UserFactory())

    assert client.get(kitchen_status(shop.store)).status_code == 403
    assert client.get("/equipe/999999/cuisine/etat/").status_code == 404
    client.logout()
    assert client.get("/equipe/999998/cuisine/etat/").status_code == 404

    assert cache.get(boards.board_version_key(shop.store.id)) is None
    assert cache.get(boards.board_version_key(999999)) is None
    assert cache.get(boards.board_version_key(999998)) is None


def test_without_a_shared_cache_the_boards_use_no_version(client, settings, shop, pizzaiolo):
    settings.BOARD_VERSIONS = False  # the per-process cache: another worker would not see a change
    client.force_login(pizzaiolo)
    etag = client.get(kitchen_status(shop.store))["ETag"]

    assert "-v" not in etag
    assert cache.get(boards.board_version_key(shop.store.id)) is None
    place(shop)
    assert_changed(client, kitchen_status(shop.store), etag)


@pytest.mark.parametrize(
    ("status_url", "name"),
    [(kitchen_status, "kitchen"), (delivery_status, "delivery")],
    ids=["kitchen", "delivery"],
)
def test_only_this_browsers_etag_of_this_minute_skips_the_access_check(
    client, shop, status_url, name, django_assert_num_queries
):
    """The current version answers 304 before the access check only for the browser it was given
    to, in the minute it was given: a copy in another browser, last minute's or a made-up one is
    checked, and a stranger refused."""
    client.force_login(crew(StoreRole.MANAGER, shop.store))  # may open both boards
    with time_machine.travel(timezone.now().replace(second=10), tick=False):
        current = poll(client, status_url(shop.store), "")["ETag"]
        version = cache.get(boards.board_version_key(shop.store.id))
        now = timezone.now()
        last_minute = boards.versioned_etag(
            name, shop.store.id, version, now=now - timedelta(minutes=1), holder=holder(client)
        )
        assert current == boards.versioned_etag(name, shop.store.id, version, now=now, holder=holder(client))
        with django_assert_num_queries(0):
            assert poll(client, status_url(shop.store), current).status_code == 304

        client.force_login(UserFactory())  # another session: what a copied ETag would meet

        for etag in [current, last_minute, f'"{name}-{shop.store.id}-v{version}-0-0"', ""]:
            assert poll(client, status_url(shop.store), etag).status_code == 403
        assert poll(client, "/equipe/999999/cuisine/etat/", current).status_code == 404


def test_no_poll_skips_the_access_check_while_a_change_waits_to_be_recorded(
    client, shop, pizzaiolo, settings
):
    """A change this process could not record (Redis refused it) leaves the old version in the
    cache: until it is recorded, the version is not trusted, not even for a 304."""
    client.force_login(pizzaiolo)
    with time_machine.travel(timezone.now().replace(second=10), tick=False):
        etag = client.get(kitchen_status(shop.store))["ETag"]  # from the version
        # The same memory, now refusing writes (a Redis whose memory is full): reads still work.
        settings.CACHES = {"default": {"BACKEND": "ocpizza.tests.refusing_cache.WriteRefusingCache"}}
        place_committed(shop)  # its new version is refused: the cache keeps the old one
        assert cache.get(boards.board_version_key(shop.store.id)) in etag

        answer = poll(client, kitchen_status(shop.store), etag)

    assert answer.status_code == 200  # computed from the orders, which changed
    assert answer["ETag"] != etag and "-v" not in answer["ETag"]


def test_a_removed_member_holding_the_etag_is_told_nothing_new_then_refused(
    client, shop, pizzaiolo, django_assert_num_queries
):
    client.force_login(pizzaiolo)
    with time_machine.travel(timezone.now().replace(second=10), tick=False):  # one minute
        etag = client.get(kitchen_status(shop.store))["ETag"]
        pizzaiolo.store_memberships.all().delete()

        with django_assert_num_queries(0):  # within the minute: "unchanged", which they saw already
            assert poll(client, kitchen_status(shop.store), etag).status_code == 304
    with time_machine.travel(timezone.now().replace(second=10) + timedelta(minutes=1), tick=False):
        assert poll(client, kitchen_status(shop.store), etag).status_code == 403  # the minute ended
        # Nor can they write this minute's ETag themselves: the whole of it is signed.
        minute = int(timezone.now().timestamp() // 60)
        name, store, version, _, bound = etag.strip('"').split("-")
        forged = f'"{name}-{store}-{version}-{minute}-{bound}"'
        assert poll(client, kitchen_status(shop.store), forged).status_code == 403
    place_committed(shop)  # a change: the poll needs access again
    assert poll(client, kitchen_status(shop.store), etag).status_code == 403


def test_an_etag_of_one_store_rewritten_for_another_is_refused(client, shop, other, pizzaiolo):
    """The pizzaiolo of `shop` who learnt `other`'s version (an old membership) cannot reuse the
    signature of their own store's ETag for it."""
    client.force_login(pizzaiolo)
    with time_machine.travel(timezone.now().replace(second=10), tick=False):
        own = client.get(kitchen_status(shop.store))["ETag"]
        boards.current_version(other.id)  # the other store's version exists …
        other_version = cache.get(boards.board_version_key(other.id))  # … and is known to them
        name, _, _, minute, bound = own.strip('"').split("-")
        forged = f'"{name}-{other.id}-v{other_version}-{minute}-{bound}"'

        assert poll(client, kitchen_status(other), forged).status_code == 403


def test_a_change_one_cache_refused_is_written_at_once_to_the_next(shop, settings):
    old = boards.current_version(shop.store.id)
    # The same memory, refusing writes: the change cannot replace the version.
    settings.CACHES = {"default": {"BACKEND": "ocpizza.tests.refusing_cache.WriteRefusingCache"}}
    place_committed(shop)
    assert boards.current_version(shop.store.id) is None  # not trusted while the change waits

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    new = boards.current_version(shop.store.id)

    assert new is not None and new != old  # the change written at once, never the old version
