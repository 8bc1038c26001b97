"""Tampered numbers and someone else's order: a clean refusal, never a 500, nothing written.

Completes the cases of test_cart.py, test_checkout.py and test_orders.py (zero, negative, too
many, words, unknown ids, a posted price, another customer's GETs) with decimals, huge numbers,
Unicode digits, exponents and NaN, withdrawn and unavailable products, and the POSTs of another
customer. Money is always the server's: no posted amount lowers a total.
"""

import json
import re
from decimal import Decimal

import pytest

from accounts.tests.factories import UserFactory
from ordering.cart import SESSION_KEY, make_line
from ordering.models import Order
from stores.services import withdraw_product

from .conftest import size_of
from .test_checkout import checkout_post, fill_cart, hidden
from .test_orders import place

JSON = {"HTTP_ACCEPT": "application/json"}
BAD_NUMBERS = [
    "1.5",
    "1,5",
    "1e3",
    "99999999999999999999999999",
    "-0.5",
    "",
    " ",
    "NaN",
    "0x10",
    "²",
    "1\x00",
]


def cart_lines(client):
    cart = client.session.get(SESSION_KEY)
    return None if cart is None else cart["lines"]


@pytest.mark.parametrize("value", BAD_NUMBERS)
@pytest.mark.parametrize("field", ["quantity", "size", "store", "extras"])
def test_a_bad_number_in_any_field_of_cart_add_is_a_clean_400(client, vaise, margherita, field, value):
    data = {"store": vaise.id, "size": size_of(margherita).id, "quantity": 1, field: value}

    response = client.post("/panier/ajouter/", data, **JSON)

    assert response.status_code == 400
    assert json.loads(response.content)["ok"] is False
    assert cart_lines(client) is None


@pytest.mark.parametrize("field", ["size", "store", "extras"])
def test_an_id_in_unicode_digits_is_refused(client, vaise, margherita, extra_cheese, field):
    ids = {"size": size_of(margherita).id, "store": vaise.id, "extras": extra_cheese.id}
    arabic = str(ids[field]).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    data = {"store": vaise.id, "size": size_of(margherita).id, "quantity": 1, field: arabic}

    response = client.post("/panier/ajouter/", data, **JSON)

    assert response.status_code in (200, 400)  # read as the same id or refused, never a 500
    lines = cart_lines(client)
    assert lines in (None, [[size_of(margherita).id, 1, [extra_cheese.id] if field == "extras" else []]])


def test_a_product_withdrawn_at_the_store_cannot_be_added(client, vaise, margherita):
    withdraw_product(store=vaise, product=margherita, user=None)

    response = client.post(
        "/panier/ajouter/", {"store": vaise.id, "size": size_of(margherita).id, "quantity": 1}, **JSON
    )

    assert response.status_code == 409
    assert cart_lines(client) is None


def test_a_product_the_store_cannot_make_cannot_be_added(client, bellecour, margherita):
    response = client.post(
        "/panier/ajouter/", {"store": bellecour.id, "size": size_of(margherita).id, "quantity": 1}, **JSON
    )

    assert response.status_code == 409  # Bellecour has no mozzarella
    assert cart_lines(client) is None


@pytest.mark.parametrize("next_url", ["0", "cart", "https://evil.example/", "//evil.example/"])
def test_a_next_that_is_not_one_of_our_paths_goes_to_the_cart(client, vaise, margherita, next_url):
    data = {"store": vaise.id, "size": size_of(margherita).id, "quantity": 1, "next": next_url}

    response = client.post("/panier/ajouter/", data)

    assert response.status_code == 302
    assert response["Location"] == "/panier/"


@pytest.mark.parametrize("value", BAD_NUMBERS)
def test_a_bad_number_on_a_cart_line_is_a_clean_400(client, vaise, margherita, value):
    fill_cart(client, vaise, (size_of(margherita), 2, []))

    response = client.post("/panier/ligne/0/", {"quantity": value}, **JSON)

    assert response.status_code == 400
    assert cart_lines(client)[0][1] == 2


@pytest.mark.parametrize("index", ["-1", "99999999999999999999999"])
def test_a_line_index_out_of_range_is_404(client, vaise, margherita, index):
    fill_cart(client, vaise, (size_of(margherita), 2, []))

    assert client.post(f"/panier/ligne/{index}/", {"quantity": 1}).status_code == 404


@pytest.mark.parametrize(
    ("tamper", "status"),
    [
        ({"expected_total": "NaN"}, 400),
        ({"expected_total": "sNaN"}, 400),
        ({"expected_total": "Infinity"}, 400),
        ({"expected_total": "-25.00"}, 409),  # a total, not the one shown: the new total to confirm
        ({"expected_total": "1e999999"}, 400),
        ({"cart_store": "99999999999999999999999"}, 409),  # a store, not this one: the cart's to confirm
        ({"cart_store": "1.5"}, 400),
        ({"saved_address": "99999999999999999999999"}, 302),  # pickup: no address is read
        ({"idempotency_key": "x" * 10_000}, 400),
        (
            {"source_token": "cnon:card-nonce-ok", "payment_method": "card_online", "expected_total": "sNaN"},
            400,
        ),
    ],
)
def test_tampered_checkout_fields_are_refused_cleanly_and_never_lower_the_total(filled_cart, tamper, status):
    response, _data = checkout_post(filled_cart, **tamper)

    assert response.status_code == status
    assert [order.total for order in Order.objects.all()] == ([Decimal("33.00")] if status == 302 else [])


def test_a_product_withdrawn_while_the_checkout_page_was_open_is_not_ordered(filled_cart, vaise, margherita):
    page = filled_cart.get("/panier/commander/?mode=pickup").content.decode()
    data = {
        "name": "Claire Martin",
        "phone": "06 12 34 56 78",
        "email": "claire@example.fr",
        "fulfilment": "pickup",
        "when": "asap",
        "payment_method": "cash",
        "idempotency_key": hidden(page, "idempotency_key"),
        "expected_total": "33.00",
    }
    withdraw_product(store=vaise, product=margherita, user=None)

    response = filled_cart.post("/panier/commander/", data)

    assert response.status_code in (302, 409)
    assert not Order.objects.exists()


@pytest.fixture
def filled_cart(client, vaise, margherita, extra_cheese):
    fill_cart(client, vaise, (size_of(margherita, "Grande"), 2, [extra_cheese]))  # 33,00 €
    return client


@pytest.fixture
def order(vaise, margherita, customer):
    return place(vaise, [make_line(size_of(margherita, "Grande").id, 2)], customer=customer)


@pytest.mark.parametrize("value", [*BAD_NUMBERS, "21", "-1", "٣"])
def test_a_bad_quantity_in_an_order_change_is_refused_or_read_as_its_digit(client, order, customer, value):
    client.force_login(customer)
    line = order.lines.get()

    response = client.post(
        f"/commandes/{order.number}/modifier/", {f"quantity-{line.id}": value, "when": "asap"}
    )

    order.refresh_from_db()
    if value == "٣":  # Python reads Arabic-Indic three as 3: a real change, priced by the server
        assert response.status_code == 302
        assert (order.lines.get().quantity, order.total) == (3, Decimal("45.00"))
    else:
        assert response.status_code == 409
        assert (order.lines.get().quantity, order.total) == (2, Decimal("30.00"))


@pytest.mark.parametrize("expected_total", ["NaN", "sNaN", "Infinity", "-1", "0.01", "1e999999"])
def test_a_tampered_total_in_an_order_change_is_never_taken(client, order, customer, expected_total):
    client.force_login(customer)
    line = order.lines.get()

    response = client.post(
        f"/commandes/{order.number}/modifier/",
        {
            f"quantity-{line.id}": 3,
            "when": "asap",
            "expected_total": expected_total,
            "source_token": "cnon:card-nonce-ok",
        },
    )

    assert response.status_code in (302, 409)
    order.refresh_from_db()
    assert order.total in (Decimal("30.00"), Decimal("45.00"))  # unchanged, or the server's price


@pytest.mark.parametrize("page", ["modifier/", "annuler/", "payer/"])
def test_another_customer_cannot_post_to_my_order(client, order, page):
    client.force_login(UserFactory())
    line = order.lines.get()

    response = client.post(
        f"/commandes/{order.number}/{page}",
        {f"quantity-{line.id}": 1, "when": "asap", "reason": "", "source_token": "cnon:card-nonce-ok"},
    )

    assert response.status_code == 404
    order.refresh_from_db()
    assert (order.status, order.total, order.lines.get().quantity) == ("received", Decimal("30.00"), 2)


def test_a_guest_order_is_not_opened_without_its_secret_even_by_a_customer(client, vaise, margherita):
    guest = place(vaise, [make_line(size_of(margherita).id, 1)], key="guest")
    client.force_login(UserFactory(email="claire@example.fr"))  # even with the guest's e-mail

    for page in ["", "etat/", "suivi/", "modifier/", "annuler/", "payer/"]:
        assert client.get(f"/commandes/{guest.number}/{page}").status_code == 404, page
    assert client.post(f"/commandes/{guest.number}/annuler/", {"reason": ""}).status_code == 404
    assert client.post(f"/commandes/{guest.number}/recommander/").status_code == 404
    guest.refresh_from_db()
    assert guest.status == "received"


def test_one_guest_s_secret_does_not_open_another_guest_s_order(client, vaise, margherita):
    first = place(vaise, [make_line(size_of(margherita).id, 1)], key="first")
    second = place(vaise, [make_line(size_of(margherita).id, 1)], key="second")

    response = client.post(f"/commandes/{second.number}/{first.secret}/annuler/", {"reason": ""})

    assert response.status_code == 404
    second.refresh_from_db()
    assert second.status == "received"


STALE_PAGE = "Cette page a été modifiée ou n'est plus à jour : vérifiez votre commande, puis confirmez."


@pytest.mark.parametrize(
    "tamper",
    [
        {"expected_total": "NaN"},
        {"expected_total": "1e999999"},
        {"expected_total": "douze"},
        {"cart_store": "1.5"},
        {"idempotency_key": "x" * 10_000},
        {"idempotency_key": "short"},
        {"fulfilment": "teleport"},
        {"source_token": "<script>", "payment_method": "card_online"},
    ],
)
def test_a_tampered_hidden_field_says_so_and_the_page_can_be_confirmed_again(filled_cart, vaise, tamper):
    response, data = checkout_post(filled_cart, **tamper)

    html = response.content.decode()
    assert response.status_code == 400
    alert = re.search(r'<div class="form-errors" role="alert">(.*?)</div>', html, re.S).group(1)
    assert STALE_PAGE in alert.replace("&#x27;", "'")
    assert not Order.objects.exists()
    # The page's own values again, a new key: confirming the page as shown places the order.
    assert re.fullmatch(r"[0-9a-f]{32}", hidden(html, "idempotency_key"))
    assert (hidden(html, "expected_total"), hidden(html, "cart_store")) == ("33.00", str(vaise.id))
    assert hidden(html, "fulfilment") == "pickup"
    assert "&lt;script&gt;" not in html and "x" * 100 not in html  # no altered value written back
    again = {**data, "payment_method": "cash", "source_token": ""}
    again.update({name: hidden(html, name) for name in ("idempotency_key", "expected_total", "cart_store")})
    again["fulfilment"] = hidden(html, "fulfilment")
    assert filled_cart.post("/panier/commander/", again).status_code == 302
    assert Order.objects.get().total == Decimal("33.00")
