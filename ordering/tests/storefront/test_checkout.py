"""Checkout: contact, delivery or pickup, when, payment; the server prices again; one order per key."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from ordering.cart import SESSION_KEY
from ordering.models import Order

from .conftest import ordering_settings, size_of

CHECKOUT = "/panier/commander/"


def fill_cart(client, store, *lines):
    for size, quantity, extras in lines:
        data = {"store": store.id, "size": size.id, "quantity": quantity, "extras": [e.id for e in extras]}
        assert client.post("/panier/ajouter/", data).status_code == 302


def hidden(html, name):
    return re.search(rf'name="{name}" value="([^"]*)"', html).group(1)


def checkout_post(client, **overrides):
    mode = overrides.get("fulfilment", "pickup")
    html = client.get(f"{CHECKOUT}?mode={mode}", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    data = {
        "name": "Claire Martin",
        "phone": "06 12 34 56 78",
        "email": "claire@example.fr",
        "fulfilment": "pickup",
        "when": "asap",
        "payment_method": "cash",
        "idempotency_key": hidden(html, "idempotency_key"),
        "expected_total": hidden(html, "expected_total"),
    }
    data.update(overrides)
    return client.post(CHECKOUT, data, HTTP_ACCEPT_LANGUAGE="fr"), data


@pytest.fixture
def filled(client, vaise, margherita, extra_cheese):
    fill_cart(client, vaise, (size_of(margherita, "Grande"), 2, [extra_cheese]))
    return client


def test_an_empty_cart_goes_back_to_the_cart(client, db):
    response = client.get(CHECKOUT)

    assert response.status_code == 302 and response["Location"] == "/panier/"


def test_the_checkout_page_shows_the_quote_and_a_fresh_key(filled, customer):
    filled.force_login(customer)

    response = filled.get(CHECKOUT, HTTP_ACCEPT_LANGUAGE="fr")

    html = response.content.decode()
    assert response.status_code == 200
    assert 'value="Claire Martin"' in html and 'value="claire@example.fr"' in html
    assert len(hidden(html, "idempotency_key")) == 32
    assert hidden(html, "expected_total") == "33.00"
    assert "Confirmer la commande (33,00\u00a0€)" in html
    assert "Au plus tôt : <strong>" in html
    assert 'value="cash"' in html and 'value="card_online"' in html and 'value="cheque"' not in html
    assert filled.get(CHECKOUT).content.decode() != html  # a new key each time the form is shown


def test_a_guest_orders_for_pickup_paying_at_pickup(filled, vaise):
    response, _data = checkout_post(filled)

    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/commandes/{order.number}/{order.secret}/"
    assert (order.store, order.fulfilment, order.payment_method) == (vaise, "pickup", "cash")
    assert (order.contact_name, order.contact_email, order.customer) == (
        "Claire Martin",
        "claire@example.fr",
        None,
    )
    assert order.status == "received" and order.total == Decimal("33.00")
    assert filled.session[SESSION_KEY]["lines"] == []

    page = filled.get(response["Location"], HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Créer un compte" in page
    assert 'href="/compte/inscription/?email=claire%40example.fr"' in page


def test_a_double_submission_gives_one_order(filled):
    response, data = checkout_post(filled)
    again = filled.post(CHECKOUT, data)

    assert Order.objects.count() == 1
    assert again.status_code == 302 and again["Location"] == response["Location"]


def test_a_logged_in_customer_orders_for_delivery(filled, customer):
    filled.force_login(customer)

    response, _data = checkout_post(
        filled, fulfilment="delivery", street_address="3 rue de Bourgogne", postcode="69009", city="Lyon"
    )

    order = Order.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/commandes/{order.number}/"
    assert order.customer == customer and order.fulfilment == "delivery"
    assert (order.street_address, order.postcode, order.delivery_fee) == (
        "3 rue de Bourgogne",
        "69009",
        Decimal("2.50"),
    )
    assert order.total == Decimal("35.50")


def test_delivery_needs_an_address(filled):
    response, _data = checkout_post(filled, fulfilment="delivery")

    assert response.status_code == 400
    assert "Indiquez l&#x27;adresse de livraison." in response.content.decode()
    assert not Order.objects.exists()


def test_an_out_of_area_address_is_refused_with_a_pickup_offer(filled):
    response, data = checkout_post(
        filled, fulfilment="delivery", street_address="1 place Bellecour", postcode="69002", city="Lyon"
    )

    html = response.content.decode()
    assert response.status_code == 409
    assert 'name="switch_to_pickup"' in html
    assert not Order.objects.exists()

    switched = filled.post(CHECKOUT, {**data, "switch_to_pickup": "1"}, HTTP_ACCEPT_LANGUAGE="fr")

    html = switched.content.decode()
    assert switched.status_code == 200
    assert '<input type="hidden" name="fulfilment" value="pickup"' in html
    assert 'value="Claire Martin"' in html
    assert "Confirmer la commande (33,00\u00a0€)" in html
    assert not Order.objects.exists()


def test_a_changed_total_is_shown_before_confirming(filled, margherita):
    response, data = checkout_post(filled, expected_total="30.00")

    html = response.content.decode()
    assert response.status_code == 409
    assert (
        "Le total a changé depuis l'affichage de la page : 30,00\u00a0€ → <strong>33,00\u00a0€</strong>"
        in html
    )
    assert hidden(html, "expected_total") == "33.00"
    assert not Order.objects.exists()

    data["expected_total"] = "33.00"
    assert filled.post(CHECKOUT, data).status_code == 302
    assert Order.objects.get().total == Decimal("33.00")


@pytest.mark.parametrize(
    "tamper",
    [
        {"payment_method": "cheque"},
        {"payment_method": "free"},
        {"when": "2020-01-01T12:00:00+01:00"},
        {"fulfilment": "teleport"},
    ],
)
def test_tampered_choices_are_refused(filled, tamper):
    response, _data = checkout_post(filled, **tamper)

    assert response.status_code == 400
    assert not Order.objects.exists()


def test_a_tampered_total_cannot_lower_the_price(filled):
    response, _data = checkout_post(filled, expected_total="0.01", subtotal="0.01", total="0.01")

    assert response.status_code == 409
    assert not Order.objects.exists()


def test_card_online_goes_to_the_payment_page_then_the_order(filled, customer):
    filled.force_login(customer)
    response, _data = checkout_post(filled, payment_method="card_online")
    order = Order.objects.get()
    assert order.status == "pending_payment"
    assert response["Location"] == f"/commandes/{order.number}/payer/"

    page = filled.get(response["Location"], HTTP_ACCEPT_LANGUAGE="fr")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'value="cnon:card-nonce-ok"' in html and 'value="cnon:card-nonce-declined"' in html

    declined = filled.post(
        response["Location"],
        {"source_token": "cnon:card-nonce-declined", "idempotency_key": hidden(html, "idempotency_key")},
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert declined.status_code == 402
    order.refresh_from_db()
    assert order.status == "pending_payment"

    card_number = filled.post(  # only a token from the card form, never a card
        response["Location"], {"source_token": "4111 1111 1111 1111", "idempotency_key": "x" * 32}
    )
    assert card_number.status_code == 400
    paying = {
        "source_token": "cnon:card-nonce-ok",
        "idempotency_key": hidden(declined.content.decode(), "idempotency_key"),
    }
    accepted = filled.post(response["Location"], paying)
    again = filled.post(response["Location"], paying)  # a double click

    assert accepted.status_code == 302 and accepted["Location"] == f"/commandes/{order.number}/"
    assert again.status_code == 302 and again["Location"] == f"/commandes/{order.number}/"
    order.refresh_from_db()
    assert order.status == "received"
    assert [(p.kind, p.status, p.amount) for p in order.payments.all()] == [
        ("charge", "failed", Decimal("33.00")),
        ("charge", "succeeded", Decimal("33.00")),
    ]


def test_a_store_without_delivery_offers_pickup_only(client, store_index, menu_page, marinara, dough):
    from stores.tests.factories import StorePageFactory, stock

    from .conftest import ALL_DAY

    store = StorePageFactory(
        parent=store_index, title="OC Pizza Gare", slug="gare", delivery_postcodes="", hours=ALL_DAY
    )
    ordering_settings(store, accepted_payments=["cash"], online_payment=False)
    stock(store, {dough: 10_000})
    fill_cart(client, store, (size_of(marinara), 2, []))

    html = client.get(CHECKOUT, HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert '<input type="hidden" name="fulfilment" value="pickup"' in html
    assert "OC Pizza Gare ne livre pas : votre commande est à retirer sur place." in html
    assert "?mode=delivery" not in html
    assert 'value="card_online"' not in html


def test_the_checkout_runs_a_bounded_number_of_queries(client, menu_page, vaise, dough):
    from menu.tests.factories import product_with_recipe

    products = [product_with_recipe(menu_page, title=f"Pizza {n}", recipe={dough: 100}) for n in range(12)]

    def queries(placing):
        client.get(CHECKOUT)
        with CaptureQueriesContext(connection) as captured:
            if placing:
                response, _data = checkout_post(
                    client, idempotency_key=f"key-{len(products)}-{placing}-0123456"
                )
                assert response.status_code == 302
            else:
                assert client.get(CHECKOUT).status_code == 200
        return len(captured)

    fill_cart(client, vaise, *[(size_of(p), 1, []) for p in products[:2]])
    few = queries(False), queries("few")
    fill_cart(client, vaise, *[(size_of(p), 1, []) for p in products])

    assert queries(False) <= few[0]
    assert queries("many") <= few[1]
    assert Order.objects.count() == 2


def test_a_cart_with_a_line_no_longer_available_goes_back_to_the_cart(filled, margherita):
    margherita.unpublish()

    response = filled.get(CHECKOUT, follow=True, HTTP_ACCEPT_LANGUAGE="fr")

    assert response.redirect_chain == [("/panier/", 302)]
    html = response.content.decode()
    assert "Certains produits de votre panier ne sont plus disponibles : modifiez-le." in html
    assert "Margherita n&#x27;est plus disponible." in html or "Margherita n'est plus disponible." in html


def test_a_store_in_the_post_is_ignored(filled, vaise, bellecour):
    response, _data = checkout_post(filled, store=bellecour.id, store_id=bellecour.id)

    assert response.status_code == 302
    assert Order.objects.get().store == vaise


def saved_address_model():
    from accounts import models as accounts_models

    if not hasattr(accounts_models, "Address"):
        pytest.skip("accounts.Address arrives with the accounts branch (helper A)")
    return accounts_models.Address


def test_a_saved_address_is_offered_and_copied_onto_the_order(filled, customer):
    address_model = saved_address_model()
    home = address_model.objects.create(
        user=customer,
        label="Maison",
        street_address="3 rue de Bourgogne",
        postcode="69009",
        city="Lyon",
        details="2e étage",
        is_default=True,
    )
    foreign = address_model.objects.create(
        user=UserFactory(), street_address="1 rue Ailleurs", postcode="69009", city="Lyon"
    )
    filled.force_login(customer)

    html = filled.get(CHECKOUT, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert '<input type="hidden" name="fulfilment" value="delivery"' in html
    assert f'<option value="{home.id}" selected>Maison — 3 rue de Bourgogne, 69009 Lyon</option>' in html

    refused, _data = checkout_post(filled, fulfilment="delivery", saved_address=foreign.id)
    assert refused.status_code == 400
    response, _data = checkout_post(filled, fulfilment="delivery", saved_address=home.id)

    order = Order.objects.get()
    assert response.status_code == 302
    assert (order.street_address, order.postcode, order.address_details) == (
        "3 rue de Bourgogne",
        "69009",
        "2e étage",
    )


def test_without_a_card_provider_the_checkout_offers_and_takes_no_card_payment(filled, settings):
    settings.PAYMENT_PROVIDER = "none"

    html = filled.get(CHECKOUT, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    response, _data = checkout_post(filled, payment_method="card_online")

    assert 'value="card_online"' not in html and 'value="cash"' in html
    assert response.status_code == 400  # as any choice the page did not offer
    assert "Sélectionnez un choix valide" in response.content.decode()
    assert not Order.objects.exists()


def test_a_cart_moved_to_another_store_since_the_page_was_shown_is_not_ordered_there_unseen(
    client, vaise, bellecour, marinara
):
    """The same total at both stores: the order used to go to the other store without a word."""
    fill_cart(client, vaise, (size_of(marinara), 2, []))
    html = client.get(CHECKOUT, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    data = {
        "name": "Claire Martin",
        "phone": "06 12 34 56 78",
        "email": "claire@example.fr",
        "fulfilment": "pickup",
        "when": "asap",
        "payment_method": "cash",
        "idempotency_key": hidden(html, "idempotency_key"),
        "expected_total": hidden(html, "expected_total"),
        "cart_store": hidden(html, "cart_store"),
    }
    assert data["cart_store"] == str(vaise.id)
    assert client.post("/panier/pizzeria/", {"store": bellecour.id}).status_code == 302  # another tab

    response = client.post(CHECKOUT, data, HTTP_ACCEPT_LANGUAGE="fr")

    assert response.status_code == 409
    assert not Order.objects.exists()
    page = response.content.decode()
    assert "Votre panier est maintenant chez OC Pizza Bellecour : vérifiez-le, puis confirmez." in page
    assert hidden(page, "cart_store") == str(bellecour.id)

    confirmed = client.post(CHECKOUT, {**data, "cart_store": hidden(page, "cart_store")})
    assert confirmed.status_code == 302
    assert Order.objects.get().store == bellecour


@pytest.mark.parametrize("padding", ["", " ", "\t", "\n"], ids=["as-is", "space", "tab", "newline"])
def test_another_guests_form_key_does_not_open_their_order(filled, vaise, margherita, padding):
    from django.test import Client

    response, data = checkout_post(filled)
    order = Order.objects.get()
    stranger = Client()
    fill_cart(stranger, vaise, (size_of(margherita, "Grande"), 2, []))

    # Padded, the key is still theirs once the form strips it.
    posted = {**data, "expected_total": "30.00", "idempotency_key": padding + data["idempotency_key"]}
    answer = stranger.post(CHECKOUT, posted, HTTP_ACCEPT_LANGUAGE="fr")

    html = answer.content.decode()
    assert answer.status_code == 409
    assert order.secret not in html and order.number not in html
    assert (
        "Cette page a été modifiée ou n&#x27;est plus à jour : vérifiez votre commande, puis confirmez."
        in html
    )
    assert order.number not in stranger.session.get("guest_orders", [])
    assert Order.objects.count() == 1
    # A new key in the page: confirming it places the stranger's own order.
    assert hidden(html, "idempotency_key") != data["idempotency_key"]
    again = {**data, "expected_total": "30.00", "idempotency_key": hidden(html, "idempotency_key")}
    assert stranger.post(CHECKOUT, again).status_code == 302
    assert Order.objects.exclude(pk=order.pk).get().total == Decimal("30.00")


def test_another_guests_key_on_a_refused_form_is_replaced_at_once(filled, vaise, margherita):
    from django.test import Client

    response, data = checkout_post(filled)
    order = Order.objects.get()
    stranger = Client()
    fill_cart(stranger, vaise, (size_of(margherita, "Grande"), 2, []))

    answer = stranger.post(
        CHECKOUT, {**data, "expected_total": "30.00", "name": ""}, HTTP_ACCEPT_LANGUAGE="fr"
    )

    html = answer.content.decode()
    assert answer.status_code == 400
    assert order.secret not in html and order.number not in html
    assert hidden(html, "idempotency_key") != data["idempotency_key"]
    # Named and confirmed with the page's new key: the stranger's own order, at once.
    again = {**data, "expected_total": "30.00", "idempotency_key": hidden(html, "idempotency_key")}
    assert stranger.post(CHECKOUT, again).status_code == 302
    assert Order.objects.exclude(pk=order.pk).get().total == Decimal("30.00")


def bench_order(client, store, number):
    """The bench's order: a session holding one pizza, posted once (no page shown before), pickup
    as soon as possible, cash, its own idempotency key."""
    return client.post(
        CHECKOUT,
        {
            "name": "Client Bench",
            "phone": "04 78 00 00 00",
            "email": "bench@example.com",
            "fulfilment": "pickup",
            "when": "asap",
            "payment_method": "cash",
            "idempotency_key": f"bench-idempotency-{number:04d}",
            "cart_store": str(store.id),
        },
    )


def test_placing_the_benchs_order_reads_hours_quotes_and_stock_once(
    client, vaise, margherita, marinara, extra_cheese, django_assert_max_num_queries
):
    """Hours, closures and slots read once per request (the slots only under the placing lock:
    "as soon as possible" needs no list of slots before), the key looked up once before the lock
    and once under it, the cart priced once, the stock reserved with one locking read and one
    write per table: a bounded count that grows with neither the lines nor the ingredients of
    the cart."""
    fill_cart(client, vaise, (size_of(margherita, "Grande"), 1, []))
    assert bench_order(client, vaise, 0).status_code == 302  # the process's first-use caches

    fill_cart(client, vaise, (size_of(margherita, "Grande"), 1, []))
    with django_assert_max_num_queries(22) as one_line:
        assert bench_order(client, vaise, 1).status_code == 302
    few = len(one_line)  # now: the next request's start clears the connection's query log

    fill_cart(
        client,
        vaise,
        (size_of(margherita, "Grande"), 2, [extra_cheese]),
        (size_of(margherita, "Moyenne"), 1, []),
        (size_of(marinara), 3, []),
    )
    # Three lines, one of them with an extra: no more queries, whatever their number (the extras
    # are kept with the sizes, under the orders' token: menu/catalogue.py).
    with django_assert_max_num_queries(few):
        assert bench_order(client, vaise, 2).status_code == 302
    assert Order.objects.count() == 3
    assert [line.quantity for line in Order.objects.get(idempotency_key__endswith="0002").lines.all()] == [
        2,
        1,
        3,
    ]


def test_the_checkout_page_reads_hours_and_slots_once(
    client, vaise, margherita, django_assert_max_num_queries
):
    fill_cart(client, vaise, (size_of(margherita, "Grande"), 1, []))
    assert client.get(CHECKOUT).status_code == 200  # the process's first-use caches

    with django_assert_max_num_queries(13):
        assert client.get(CHECKOUT).status_code == 200
