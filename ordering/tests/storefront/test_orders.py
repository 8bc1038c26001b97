"""The order page, its live status, change, cancel, history and order again."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import UserFactory
from ordering import services
from ordering.cart import SESSION_KEY, make_line

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
def guest_order(vaise, margherita):
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


def test_the_guest_status_check_is_one_query(client, guest_order, django_assert_max_num_queries):
    url = f"/commandes/{guest_order.number}/{guest_order.secret}/etat/"
    etag = client.get(url)["ETag"]

    with django_assert_max_num_queries(1):
        assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304


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
