"""The order page, its live status, change, cancel, history and order again."""

import warnings
from decimal import Decimal

import pytest
from django.core.cache import CacheKeyWarning, cache
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import UserFactory
from ordering import services, tracking
from ordering.cart import SESSION_KEY, make_line
from ordering.personal_data import anonymise_orders, claim_guest_orders

from .conftest import size_of

FR = {"HTTP_ACCEPT_LANGUAGE": "fr"}


def place(store, lines, *, customer=None, fulfilment="pickup", payment_method="cash", key="k", **kwargs):
    contact = services.Contact(name="Claire Martin", phone="0612345678", email="claire@example.fr")
    return services.place_order(
        store=store,
        lines=lines,
        fulfilment=fulfilment,
        contact=contact,
        payment_method=payment_method,
        idempotency_key=f"{key}-0123456789abcdef",
        customer=customer,
        **kwargs,
    )


@pytest.fixture
def order(vaise, margherita, extra_cheese, tiramisu, customer):
    lines = [
        make_line(size_of(margherita, "Grande").id, 2, [extra_cheese.id]),
        make_line(size_of(tiramisu).id, 1),
    ]
    return place(vaise, lines, customer=customer)


@pytest.fixture
def guest_order(vaise, margherita, django_capture_on_commit_callbacks):
    """A guest's order, committed (its tracking entry is added after the commit)."""
    with django_capture_on_commit_callbacks(execute=True):
        return place(vaise, [make_line(size_of(margherita).id, 1)], key="guest")


def test_the_owner_sees_the_receipt_vat_and_timeline(client, order, customer):
    client.force_login(customer)

    response = client.get(f"/commandes/{order.number}/", **FR)

    html = response.content.decode()
    assert response.status_code == 200
    assert f"<h1>Commande {order.number}</h1>" in html
    assert '2 × Margherita <span class="line-size">Grande</span>' in html
    assert "<li>Supplément mozzarella</li>" in html
    assert '<td class="amount" data-order-total>38,00\u00a0€</td>' in html
    assert (
        '<th scope="row">10 %</th><td class="amount">34,55\u00a0€</td><td class="amount">3,45\u00a0€</td>'
        in html
    )
    assert 'data-order-status="received">Reçue</p>' in html
    assert f'data-etag="&quot;{order.number}-{order.version}&quot;"' in html
    assert "Créer un compte" not in html
    assert f'href="/commandes/{order.number}/modifier/"' in html
    assert '<noscript><meta http-equiv="refresh" content="30"></noscript>' in html  # without JavaScript


@pytest.mark.parametrize("who", ["anonymous", "other"])
def test_anyone_else_gets_404(client, order, who):
    if who == "other":
        client.force_login(UserFactory())

    for url in ["", "etat/", "suivi/", "modifier/", "annuler/", "payer/"]:
        assert client.get(f"/commandes/{order.number}/{url}").status_code == 404, url
    assert client.post(f"/commandes/{order.number}/annuler/").status_code == 404
    wrong = order.secret[:-1] + ("y" if order.secret.endswith("x") else "x")  # never the secret itself
    assert client.get(f"/commandes/{order.number}/{wrong}/").status_code == 404
    order.refresh_from_db()
    assert order.status == "received"


def test_a_guest_sees_the_order_with_the_secret_link_only(client, guest_order):
    assert client.get(f"/commandes/{guest_order.number}/").status_code == 404
    assert client.get(f"/commandes/{guest_order.number}/wrong-secret/").status_code == 404

    response = client.get(f"/commandes/{guest_order.number}/{guest_order.secret}/", **FR)

    assert response.status_code == 200
    assert 'href="/compte/inscription/?email=claire%40example.fr"' in response.content.decode()


def test_the_status_check_answers_304_while_nothing_changed(
    client, order, customer, django_assert_max_num_queries
):
    client.force_login(customer)
    url = f"/commandes/{order.number}/etat/"
    first = client.get(url)
    etag = first["ETag"]
    assert first.status_code == 200 and etag == f'"{order.number}-{order.version}"'

    with django_assert_max_num_queries(3):
        unchanged = client.get(url, HTTP_IF_NONE_MATCH=etag)

    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert "no-cache" in unchanged["Cache-Control"] and "private" in unchanged["Cache-Control"]

    services.start_preparing(order)

    with django_assert_max_num_queries(3):
        changed = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert changed.json()["status"] == "preparing"

    fragment = client.get(f"/commandes/{order.number}/suivi/", **FR).content.decode()
    assert 'data-order-status="preparing">En préparation</p>' in fragment
    assert "La pizzeria a commencé à préparer votre commande" in fragment


def guest_status(order, secret=None):
    return f"/commandes/{order.number}/{secret or order.secret}/etat/"


def test_the_guest_status_check_answers_from_the_cache_in_no_query(
    client, guest_order, django_assert_num_queries
):
    etag = f'"{guest_order.number}-{guest_order.version}"'  # what the order page was rendered with

    with django_assert_num_queries(0):  # placing the order recorded its version
        unchanged = client.get(guest_status(guest_order), HTTP_IF_NONE_MATCH=etag)

    assert unchanged.status_code == 304
    assert unchanged["ETag"] == etag
    assert unchanged.content == b""
    assert "no-cache" in unchanged["Cache-Control"] and "private" in unchanged["Cache-Control"]


def test_every_change_of_a_guest_order_reaches_its_poll_at_once(client, guest_order):
    url = guest_status(guest_order)
    etag = f'"{guest_order.number}-{guest_order.version}"'

    for change, status in [(services.start_preparing, "preparing"), (services.mark_ready, "ready")]:
        change(guest_order)
        changed = client.get(url, HTTP_IF_NONE_MATCH=etag)
        assert changed.status_code == 200
        assert changed.json()["status"] == status
        assert changed["ETag"] != etag
        etag = changed["ETag"]
        assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_a_wrong_secret_is_404_even_while_the_cache_holds_the_order(client, guest_order):
    etag = f'"{guest_order.number}-{guest_order.version}"'
    wrong = guest_order.secret[:-1] + ("A" if guest_order.secret[-1] != "A" else "B")

    assert client.get(guest_status(guest_order, wrong), HTTP_IF_NONE_MATCH=etag).status_code == 404


def test_the_old_secret_link_dies_with_the_guest_order_anonymised(client, order, customer):
    old_link = guest_status(order)
    etag = client.get(old_link)["ETag"]

    anonymise_orders(customer)

    assert client.get(old_link, HTTP_IF_NONE_MATCH=etag).status_code == 404


def test_a_claimed_guest_order_changes_its_tracking_etag(client, guest_order, db):
    url = guest_status(guest_order)
    etag = client.get(url)["ETag"]

    assert claim_guest_orders(UserFactory(email="claire@example.fr"), "claire@example.fr") == 1

    changed = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed.json()["version"] == guest_order.version + 1


def test_a_change_rolled_back_never_answers_for_the_order(client, guest_order, django_assert_num_queries):
    url = guest_status(guest_order)
    etag = f'"{guest_order.number}-{guest_order.version}"'
    with pytest.raises(RuntimeError), transaction.atomic():
        services.start_preparing(guest_order)  # records the next version in the cache …
        raise RuntimeError  # … which the database never holds

    with django_assert_num_queries(1):  # the cache's version is not the poll's: the order is read
        unchanged = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert unchanged.status_code == 304

    guest_order.refresh_from_db()
    services.start_preparing(guest_order)  # the same version number, committed this time
    changed = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed.json()["status"] == "preparing"


def test_a_poll_that_read_the_order_keeps_its_version_only_where_none_is(
    client, guest_order, django_assert_num_queries
):
    url = guest_status(guest_order)
    etag = f'"{guest_order.number}-{guest_order.version}"'
    cache.delete(tracking.tracking_key(guest_order.number))  # expired, or Redis restarted

    with django_assert_num_queries(1):
        assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    with django_assert_num_queries(0):
        assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304

    newer = tracking.entry(guest_order.version + 1, guest_order.secret)  # a writer's, not committed yet
    cache.set(tracking.tracking_key(guest_order.number), newer)
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert cache.get(tracking.tracking_key(guest_order.number)) == newer


def test_entries_expire_so_a_lost_write_is_stale_for_a_minute_at_most(guest_order):
    key = cache.make_and_validate_key(tracking.tracking_key(guest_order.number))
    expires_at = cache._expire_info[key]  # the per-process cache of the tests

    assert tracking.TRACKING_SECONDS == 60
    assert 0 < expires_at - timezone.now().timestamp() <= 60


def test_the_guest_poll_without_tracking_versions_reads_the_order(
    client, vaise, margherita, settings, django_assert_num_queries
):
    settings.TRACKING_VERSIONS = False  # the per-process cache: another worker would not see a change
    guest_order = place(vaise, [make_line(size_of(margherita).id, 1)], key="guest")
    etag = f'"{guest_order.number}-{guest_order.version}"'

    with django_assert_num_queries(1):
        assert client.get(guest_status(guest_order), HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert cache.get(tracking.tracking_key(guest_order.number)) is None


def test_a_redis_that_refuses_every_call_costs_no_sale_nor_a_poll(
    client, vaise, margherita, refused_redis, django_assert_num_queries
):
    guest_order = place(vaise, [make_line(size_of(margherita).id, 1)], key="guest")
    etag = f'"{guest_order.number}-{guest_order.version}"'

    with django_assert_num_queries(1):
        assert client.get(guest_status(guest_order), HTTP_IF_NONE_MATCH=etag).status_code == 304
    services.start_preparing(guest_order)
    changed = client.get(guest_status(guest_order), HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed.json()["status"] == "preparing"


def test_the_order_page_runs_a_bounded_number_of_queries(client, menu_page, vaise, dough, customer):
    from menu.tests.factories import product_with_recipe

    products = [product_with_recipe(menu_page, title=f"Pizza {n}", recipe={dough: 10}) for n in range(10)]
    small = place(vaise, [make_line(size_of(p).id, 1) for p in products[:2]], customer=customer, key="s")
    big = place(vaise, [make_line(size_of(p).id, 2) for p in products], customer=customer, key="b")
    client.force_login(customer)

    def queries(url):
        client.get(url)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    assert queries(f"/commandes/{big.number}/") <= queries(f"/commandes/{small.number}/")
    assert queries(f"/commandes/{big.number}/suivi/") <= queries(f"/commandes/{small.number}/suivi/")


def test_the_customer_changes_quantities_and_the_price_follows(client, order, customer, margherita):
    client.force_login(customer)
    lines = list(order.lines.order_by("id"))

    response = client.post(
        f"/commandes/{order.number}/modifier/",
        {f"quantity-{lines[0].id}": 1, f"quantity-{lines[1].id}": 0, "when": "asap"},
        **FR,
    )

    assert response.status_code == 302 and response["Location"] == f"/commandes/{order.number}/"
    order.refresh_from_db()
    assert [(line.product_name, line.quantity) for line in order.lines.all()] == [("Margherita", 1)]
    assert order.total == Decimal("16.50")


def test_a_tampered_change_quantity_is_refused(client, order, customer):
    client.force_login(customer)
    line = order.lines.first()

    response = client.post(
        f"/commandes/{order.number}/modifier/", {f"quantity-{line.id}": 500, "when": "asap"}
    )

    assert response.status_code == 409
    order.refresh_from_db()
    assert order.total == Decimal("38.00")


def test_once_preparing_the_order_cannot_be_changed_or_cancelled(client, order, customer):
    client.force_login(customer)
    services.start_preparing(order)
    line = order.lines.first()

    page = client.get(f"/commandes/{order.number}/modifier/", **FR).content.decode()
    assert "La pizzeria a commencé à préparer votre commande" in page
    response = client.post(f"/commandes/{order.number}/modifier/", {f"quantity-{line.id}": 1, "when": "asap"})
    assert response.status_code == 302
    cancel = client.post(f"/commandes/{order.number}/annuler/", {"reason": ""})
    assert cancel.status_code == 302
    order.refresh_from_db()
    assert order.status == "preparing" and order.total == Decimal("38.00")


def test_the_customer_cancels_a_received_order(client, order, customer):
    client.force_login(customer)

    page = client.get(f"/commandes/{order.number}/annuler/", **FR)
    assert page.status_code == 200
    response = client.post(f"/commandes/{order.number}/annuler/", {"reason": "Plus faim"}, follow=True, **FR)

    order.refresh_from_db()
    assert order.status == "cancelled"
    assert f"Votre commande {order.number} est annulée." in [str(m) for m in response.context["messages"]]


def test_a_guest_cancels_through_the_secret_link(client, guest_order):
    response = client.post(f"/commandes/{guest_order.number}/{guest_order.secret}/annuler/", {"reason": ""})

    assert response.status_code == 302
    assert response["Location"] == f"/commandes/{guest_order.number}/{guest_order.secret}/"
    guest_order.refresh_from_db()
    assert guest_order.status == "cancelled"


def test_history_lists_only_my_orders(client, order, guest_order, customer, vaise, marinara):
    other = place(vaise, [make_line(size_of(marinara).id, 1)], customer=UserFactory(), key="other")
    client.force_login(customer)

    html = client.get("/commandes/", **FR).content.decode()

    assert f'data-order="{order.number}"' in html
    assert guest_order.number not in html and other.number not in html
    assert "Commander à nouveau" in html


def test_a_customer_reaches_the_history_from_the_header_and_the_account_page(client, customer):
    client.force_login(customer)
    link = '<a href="/commandes/">Mes commandes</a>'

    account = client.get("/compte/", **FR).content.decode()

    assert account.count(link) == 2  # the header's, and the account page's
    assert link not in Client().get("/panier/", **FR).content.decode()  # a visitor has none


def test_history_needs_login(client, db):
    response = client.get("/commandes/")

    assert response.status_code == 302 and response["Location"].startswith("/compte/connexion/")


def test_order_again_refills_the_cart_and_says_what_is_missing(client, order, customer, tiramisu, vaise):
    tiramisu.unpublish()
    client.force_login(customer)

    response = client.post(f"/commandes/{order.number}/recommander/", follow=True, **FR)

    said = [str(m) for m in response.context["messages"]]
    assert said[0] == f"Votre panier reprend la commande {order.number} chez OC Pizza Vaise."
    assert any("Tiramisu" in message for message in said[1:])
    cart = client.session[SESSION_KEY]
    assert cart["store_id"] == vaise.id
    assert len(cart["lines"]) == 1 and cart["lines"][0][1] == 2


def test_order_again_of_someone_elses_order_is_404(client, order):
    client.force_login(UserFactory())

    assert client.post(f"/commandes/{order.number}/recommander/").status_code == 404


def test_times_are_shown_in_paris(client, order, customer):
    client.force_login(customer)

    html = client.get(f"/commandes/{order.number}/", **FR).content.decode()

    assert timezone.localtime(order.promised_at).strftime("%H:%M") in html


def test_the_customer_moves_the_order_to_a_slot(client, order, customer):
    import datetime
    import re

    client.force_login(customer)
    page = client.get(f"/commandes/{order.number}/modifier/", **FR).content.decode()
    slot = re.findall(r'<option value="(\d{4}-\d\d-\d\dT[^"]+)"', page)[1]
    quantities = {f"quantity-{line.id}": line.quantity for line in order.lines.all()}

    response = client.post(f"/commandes/{order.number}/modifier/", {**quantities, "when": slot})

    assert response.status_code == 302
    order.refresh_from_db()
    assert order.slot_start == datetime.datetime.fromisoformat(slot)
    assert order.asap is False
    assert order.total == Decimal("38.00")


def test_a_redis_that_refuses_writes_costs_no_sale_and_the_poll_follows(
    client, vaise, margherita, settings, caplog, django_assert_num_queries
):

    settings.CACHES = {"default": {"BACKEND": "ocpizza.tests.refusing_cache.WriteRefusingCache"}}
    guest_order = place(vaise, [make_line(size_of(margherita).id, 1)], key="guest")
    etag = f'"{guest_order.number}-{guest_order.version}"'

    with django_assert_num_queries(1):
        assert client.get(guest_status(guest_order), HTTP_IF_NONE_MATCH=etag).status_code == 304
    for _ in range(3):  # a poll a second: refused each time, logged once
        client.get(guest_status(guest_order), HTTP_IF_NONE_MATCH=etag)
    services.start_preparing(guest_order)
    changed = client.get(guest_status(guest_order), HTTP_IF_NONE_MATCH=etag)

    assert changed.status_code == 200 and changed.json()["status"] == "preparing"
    refused = [r for r in caplog.records if r.getMessage().startswith("tracking: the cache refused")]
    assert [r.getMessage() for r in refused] == [
        f"tracking: the cache refused a version (order {guest_order.number})"
    ]


def test_a_poll_with_a_number_no_order_can_have_does_not_reach_the_cache(client, guest_order):
    long_number = "X" * 300  # longer than a cache key may be
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        response = client.get(
            f"/commandes/{long_number}/{guest_order.secret}/etat/", HTTP_IF_NONE_MATCH=f'"{long_number}-1"'
        )

    assert response.status_code == 404
    assert [w for w in caught if issubclass(w.category, CacheKeyWarning)] == []


def test_a_deleted_orders_entry_is_removed_again_after_the_commit(
    guest_order, django_capture_on_commit_callbacks
):
    key = tracking.tracking_key(guest_order.number)
    with django_capture_on_commit_callbacks(execute=True):
        guest_order.delete()
        assert cache.get(key) is None
        cache.add(key, tracking.entry(guest_order.version, guest_order.secret))  # a poll's reading
    assert cache.get(key) is None


def test_the_change_page_lists_the_orders_own_slot_once_and_selected(client, vaise, margherita, customer):
    import re

    from ordering.slots import available_slots

    chosen = available_slots(vaise, "pickup")[2]
    order = place(
        vaise, [make_line(size_of(margherita).id, 1)], customer=customer, key="slot", slot=chosen.start
    )
    client.force_login(customer)

    page = client.get(f"/commandes/{order.number}/modifier/", **FR).content.decode()

    when = re.search(r'<select name="when".*?</select>', page, re.S).group(0)
    options = re.findall(r'<option value="([^"]+)"( selected)?>([^<]+)</option>', when)
    same_label = [value for value, _selected, label in options if label == options_label(options, chosen)]
    assert same_label == [chosen.start.isoformat()]  # once, under the key the other slots have
    assert [value for value, selected, _label in options if selected] == [chosen.start.isoformat()]


def options_label(options, slot):
    return next(label for value, _selected, label in options if value == slot.start.isoformat())
