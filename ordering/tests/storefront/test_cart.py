"""The session cart and its pages: add from the menu or a product page, change, switch store."""

import json

import pytest
from django.contrib.auth import SESSION_KEY as AUTH_SESSION_KEY
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ordering.cart import SESSION_KEY, Cart, make_line

from .conftest import size_of

CART = "/panier/"
ADD = "/panier/ajouter/"
JSON = {"HTTP_ACCEPT": "application/json"}


def cart_data(client):
    return client.session.get(SESSION_KEY)


def add(client, store, size, quantity=1, extras=(), **extra):
    data = {
        "store": store.id,
        "size": size.id,
        "quantity": quantity,
        "extras": [e.id for e in extras],
        **extra,
    }
    return client.post(ADD, data, HTTP_ACCEPT_LANGUAGE="fr", **({} if "json" not in extra else JSON))


def messages_of(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


# -- Cart (the session object) ---------------------------------------------------------------------
def test_the_cart_merges_the_same_choice_and_caps_quantities(client, db):
    session = client.session
    cart = Cart(session)
    cart.add(make_line(7, 2, (3, 1, 3)))
    cart.add(make_line(7, 19, (1, 3)))
    cart.add(make_line(7, 1))

    assert cart.lines == [make_line(7, 20, (1, 3)), make_line(7, 1)]
    assert session[SESSION_KEY]["lines"] == [[7, 20, [1, 3]], [7, 1, []]]
    assert Cart(session).count == 21


def test_set_quantity_zero_removes_and_a_missing_line_raises(client, db):
    cart = Cart(client.session)
    cart.add(make_line(7, 2))
    cart.add(make_line(8, 1))

    cart.set_quantity(0, 0)

    assert cart.lines == [make_line(8, 1)]
    with pytest.raises(IndexError):
        cart.set_quantity(5, 1)
    with pytest.raises(IndexError):
        cart.remove(-1)


def test_a_corrupted_session_cart_is_read_without_failing(client, db):
    session = client.session
    session[SESSION_KEY] = {"store_id": 1, "lines": [["x", 1, []], [4, 2, [1]], "junk"], "code": ""}

    assert Cart(session).lines == [make_line(4, 2, (1,))]


# -- Adding ------------------------------------------------------------------------------------------
def test_adding_from_the_store_menu_without_javascript_redirects_back_with_a_message(
    client, menu_page, vaise, margherita, extra_cheese
):
    menu_url = f"{menu_page.url}pizzeria/vaise/"
    response = add(client, vaise, size_of(margherita, "Grande"), 2, [extra_cheese], next=menu_url)

    assert response.status_code == 302
    assert response["Location"] == menu_url
    assert cart_data(client) == {
        "store_id": vaise.id,
        "lines": [[size_of(margherita, "Grande").id, 2, [extra_cheese.id]]],
        "code": "",
    }
    page = client.get(menu_url, HTTP_ACCEPT_LANGUAGE="fr")
    assert "Margherita (Grande) × 2 ajouté au panier." in messages_of(page)
    assert '<span class="cart-count" data-cart-count>2</span>' in page.content.decode()


def test_adding_with_javascript_answers_json_with_the_new_count(client, vaise, margherita):
    response = add(client, vaise, size_of(margherita), 3, json=True)

    assert response.status_code == 200
    assert json.loads(response.content) == {
        "ok": True,
        "message": "Margherita (Moyenne) × 3 ajouté au panier.",
        "changes": [],
        "count": 3,
    }


def test_an_outside_next_url_is_not_followed(client, vaise, margherita):
    response = add(client, vaise, size_of(margherita), next="https://evil.example/")

    assert response.status_code == 302
    assert response["Location"] == CART


def test_the_store_menu_card_holds_an_add_to_cart_form(client, menu_page, vaise, margherita, extra_cheese):
    html = client.get(f"{menu_page.url}pizzeria/vaise/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert 'action="/panier/ajouter/"' in html
    assert f'<input type="hidden" name="store" value="{vaise.id}">' in html
    assert f'<option value="{size_of(margherita, "Grande").id}">Grande — 15,00\u00a0€</option>' in html
    assert f'name="extras" value="{extra_cheese.id}"> Supplément mozzarella (+1,50\u00a0€)' in html


def test_the_chain_menu_has_no_add_to_cart_form(client, menu_page, vaise, margherita):
    html = client.get(menu_page.url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert "/panier/ajouter/" not in html


def test_a_sold_out_pizza_has_no_form_and_is_refused(client, menu_page, bellecour, margherita, marinara):
    html = client.get(f"{menu_page.url}pizzeria/bellecour/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert html.count('action="/panier/ajouter/"') == 1  # the marinara only

    response = add(client, bellecour, size_of(margherita), json=True)

    assert response.status_code == 409
    assert json.loads(response.content)["message"] == "Plus assez de mozzarella pour Margherita (Moyenne)."
    assert cart_data(client) is None


def test_the_product_page_offers_every_store_and_the_carts_store_first(client, vaise, bellecour, margherita):
    add(client, vaise, size_of(margherita))

    html = client.get(margherita.url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert f'<option value="{vaise.id}" selected>OC Pizza Vaise</option>' in html
    assert f'<option value="{bellecour.id}">OC Pizza Bellecour</option>' in html
    assert 'name="quantity"' in html and f'name="next" value="{margherita.url}"' in html


def test_the_product_page_says_sold_out_at_the_carts_store(client, vaise, bellecour, margherita, marinara):
    add(client, bellecour, size_of(marinara))

    html = client.get(margherita.url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert "Épuisé pour le moment chez OC Pizza Bellecour : choisissez une autre pizzeria." in html
    assert f'<option value="{vaise.id}">OC Pizza Vaise</option>' in html


@pytest.mark.parametrize(
    "tamper",
    [
        {"quantity": 0},
        {"quantity": -2},
        {"quantity": 21},
        {"quantity": "beaucoup"},
        {"size": 999_999},
        {"store": 999_999},
        {"extras": [999_999]},
    ],
)
def test_tampered_adds_are_refused_and_change_nothing(client, vaise, margherita, tamper):
    data = {"store": vaise.id, "size": size_of(margherita).id, "quantity": 1, **tamper}

    response = client.post(ADD, data, **JSON)

    assert response.status_code == 400
    assert json.loads(response.content)["ok"] is False
    assert cart_data(client) is None


def test_an_extra_of_another_product_is_refused(client, vaise, margherita, marinara, extra_cheese):
    response = add(client, vaise, size_of(marinara), extras=[extra_cheese], json=True)

    assert response.status_code == 400
    assert json.loads(response.content)["message"] == "Cette option n'existe pas pour ce produit."
    assert cart_data(client) is None


def test_a_price_in_the_post_is_ignored(client, vaise, margherita):
    add(client, vaise, size_of(margherita), 2, price="0.01", total="0.02", unit_price="0.01")

    html = client.get(CART, HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert "0,01" not in html and "0,02" not in html
    assert '<td class="amount" data-cart-total>25,00\u00a0€</td>' in html


def test_an_unpublished_product_cannot_be_added(client, vaise, margherita):
    margherita.unpublish()

    response = add(client, vaise, size_of(margherita), json=True)

    assert response.status_code == 400
    assert cart_data(client) is None


# -- The cart page --------------------------------------------------------------------------------
def test_the_cart_page_shows_lines_extras_and_french_totals(
    client, vaise, margherita, extra_cheese, marinara
):
    add(client, vaise, size_of(margherita, "Grande"), 2, [extra_cheese])
    add(client, vaise, size_of(marinara), 1)

    response = client.get(CART, HTTP_ACCEPT_LANGUAGE="fr")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Préparé par <strong>OC Pizza Vaise</strong>" in html
    assert '<span class="line-name">Margherita</span> <span class="line-size">Grande</span>' in html
    assert "<li>Supplément mozzarella (+1,50\u00a0€)</li>" in html
    assert "16,50\u00a0€ l'unité" in html
    assert '<td class="amount price">33,00\u00a0€</td>' in html
    assert '<td class="amount" data-cart-subtotal>43,00\u00a0€</td>' in html
    assert '<td class="amount" data-cart-total>43,00\u00a0€</td>' in html
    assert f'href="{reverse("ordering:checkout")}">Commander</a>' in html


def test_changing_a_quantity_and_removing_a_line_without_javascript(client, vaise, margherita, marinara):
    add(client, vaise, size_of(margherita), 1)
    add(client, vaise, size_of(marinara), 1)

    response = client.post("/panier/ligne/0/", {"quantity": 3})
    assert response.status_code == 302 and response["Location"] == CART
    assert cart_data(client)["lines"][0][1] == 3

    response = client.post("/panier/ligne/1/", {"quantity": 1, "remove": "1"})
    assert response.status_code == 302
    assert cart_data(client)["lines"] == [[size_of(margherita).id, 3, []]]


def test_a_change_with_javascript_returns_the_new_cart(client, vaise, margherita):
    add(client, vaise, size_of(margherita), 1)

    response = client.post("/panier/ligne/0/", {"quantity": 4, "fragment": "cart"}, **JSON)

    data = json.loads(response.content)
    assert response.status_code == 200
    assert data["count"] == 4
    assert '<td class="amount" data-cart-total>50,00\u00a0€</td>' in data["html"]


@pytest.mark.parametrize("quantity", ["-1", "21", "x"])
def test_a_tampered_line_quantity_is_refused(client, vaise, margherita, quantity):
    add(client, vaise, size_of(margherita), 2)

    response = client.post("/panier/ligne/0/", {"quantity": quantity}, **JSON)

    assert response.status_code == 400
    assert cart_data(client)["lines"][0][1] == 2


def test_a_missing_line_is_not_found(client, vaise, margherita):
    add(client, vaise, size_of(margherita))

    assert client.post("/panier/ligne/1/", {"quantity": 1}).status_code == 404


def test_what_the_whole_basket_would_exhaust_is_refused(client, menu_page, vaise):
    from menu.tests.factories import IngredientFactory, product_with_recipe
    from stores.tests.factories import stock

    panna = IngredientFactory(name="Panna cotta", unit="piece")
    dessert = product_with_recipe(
        menu_page, title="Panna cotta", recipe={panna: 1}, sizes=(("Pot", "4.00", "1"),)
    )
    stock(vaise, {panna: 3})
    add(client, vaise, size_of(dessert), 2)

    response = add(client, vaise, size_of(dessert), 2, json=True)

    assert response.status_code == 409
    assert json.loads(response.content)["message"] == (
        "Avec le reste de votre panier : Plus assez de panna cotta pour Panna cotta (Pot)."
    )
    assert cart_data(client)["lines"] == [[size_of(dessert).id, 2, []]]
    assert client.post("/panier/ligne/0/", {"quantity": 4}, **JSON).status_code == 409
    assert client.post("/panier/ligne/0/", {"quantity": 3}, **JSON).status_code == 200


def test_switching_store_says_what_it_cannot_make(client, vaise, bellecour, margherita, marinara):
    add(client, vaise, size_of(margherita), 2)
    add(client, vaise, size_of(marinara), 1)

    response = client.post(
        "/panier/pizzeria/", {"store": bellecour.id}, follow=True, HTTP_ACCEPT_LANGUAGE="fr"
    )

    found = messages_of(response)[-2:]  # after the two « ajouté » messages
    assert found[0] == (
        "Votre panier est maintenant chez OC Pizza Bellecour. Ce qu'elle ne peut pas préparer a été retiré."
    )
    assert found[1] == "Plus assez de mozzarella pour Margherita (Moyenne)."
    assert cart_data(client) == {
        "store_id": bellecour.id,
        "lines": [[size_of(marinara).id, 1, []]],
        "code": "",
    }


def test_adding_from_another_store_moves_the_cart_there(client, vaise, bellecour, margherita, marinara):
    add(client, vaise, size_of(margherita), 1)

    response = add(client, bellecour, size_of(marinara), 1, json=True)

    data = json.loads(response.content)
    assert data["ok"] is True and data["count"] == 1
    assert data["changes"] == ["Plus assez de mozzarella pour Margherita (Moyenne)."]
    assert cart_data(client)["store_id"] == bellecour.id


def test_the_cart_is_kept_across_login(client, vaise, margherita, customer):
    add(client, vaise, size_of(margherita), 2)
    before = cart_data(client)

    client.force_login(customer)

    assert client.session[AUTH_SESSION_KEY] == str(customer.pk)
    assert cart_data(client) == before
    assert '<span class="cart-count" data-cart-count>2</span>' in client.get(CART).content.decode()


def test_the_promo_code_is_kept_in_the_cart(client, vaise, margherita):
    add(client, vaise, size_of(margherita))

    response = client.post("/panier/code/", {"code": " bienvenue "})

    assert response.status_code == 302
    assert cart_data(client)["code"] == "BIENVENUE"


def test_an_unknown_promo_code_is_said_on_the_cart_page(client, vaise, margherita):
    add(client, vaise, size_of(margherita))
    client.post("/panier/code/", {"code": "NIMPORTEQUOI"})

    html = client.get(CART, HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert '<p class="field-errors" role="alert">Code promotionnel inconnu ou expiré.</p>' in html
    assert 'value="NIMPORTEQUOI"' in html


def test_an_empty_cart_says_so(client, db):
    html = client.get(CART, HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert "Votre panier est vide." in html
    assert "data-cart-count hidden>0</span>" in html


def test_a_visitor_without_session_costs_no_query_for_the_count(client, vaise):
    with CaptureQueriesContext(connection) as queries:
        client.get(CART)

    assert not any("django_session" in query["sql"] for query in queries.captured_queries)


def queries_of(client, url):
    client.get(url)  # warm Wagtail's site and settings caches
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_the_cart_page_runs_a_bounded_number_of_queries(client, menu_page, vaise, dough):
    from menu.tests.factories import product_with_recipe

    products = [product_with_recipe(menu_page, title=f"Pizza {n}", recipe={dough: 100}) for n in range(12)]
    for product in products[:2]:
        add(client, vaise, size_of(product), 1)
    few = queries_of(client, CART)
    for product in products[2:]:
        add(client, vaise, size_of(product), 1)

    assert queries_of(client, CART) <= few
    assert client.get(CART).content.decode().count("data-cart-line=") == 12


def test_a_cart_whose_store_closed_offers_another(client, vaise, bellecour, marinara):
    add(client, vaise, size_of(marinara))
    vaise.unpublish()

    html = client.get(CART, HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert "La pizzeria de votre panier ne prend plus de commande en ligne" in html
    assert f'<option value="{bellecour.id}">OC Pizza Bellecour</option>' in html


def test_a_full_cart_refuses_one_more_line_and_its_page_still_shows(client, vaise, menu_page, dough):
    """Every add of a new choice used to make a new line, past the 100 lines the pricing takes:
    then the cart page and the checkout failed with a server error."""
    from menu.tests.factories import product_with_recipe
    from ordering.cart import MAX_LINES

    sizes = [(f"Taille {n}", "10.00", "1.00") for n in range(MAX_LINES + 1)]
    product = product_with_recipe(menu_page, title="Calzone", recipe={dough: 10}, sizes=sizes)
    all_sizes = list(product.sizes.order_by("sort_order"))
    session = client.session
    cart = Cart(session)
    cart.set_store(vaise)
    for size in all_sizes[:MAX_LINES]:
        cart.add(make_line(size.id, 1))
    session.save()

    refused = add(client, vaise, all_sizes[MAX_LINES], json=True)
    merged = add(client, vaise, all_sizes[0], json=True)

    assert refused.status_code == 409
    assert (
        refused.json()["message"]
        == f"Votre panier est plein ({MAX_LINES} lignes) : commandez-le, puis faites un second panier."
    )
    assert merged.status_code == 200  # the same choice adds to its line
    assert len(cart_data(client)["lines"]) == MAX_LINES
    assert client.get(CART).status_code == 200


def stock_reads(client, store, size):
    with CaptureQueriesContext(connection) as captured:
        assert add(client, store, size, json=True).status_code == 200
    return [query for query in captured.captured_queries if '"stores_stocklevel"' in query["sql"]]


def test_adding_to_an_empty_cart_checks_the_stock_once(client, vaise, margherita, marinara):
    """The line alone and the cart with the line are the same lines then: one check."""
    assert len(stock_reads(client, vaise, size_of(margherita))) == 1
    assert len(stock_reads(client, vaise, size_of(marinara))) == 2  # the line, then the whole cart
