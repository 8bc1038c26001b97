"""Order taking by phone and at the counter (/equipe/<store>/prise-de-commande/, issue #12 item 2):
who opens it, finding a customer, the address checked like the website's, the lines, placing."""

import datetime
import html
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import AddressFactory, UserFactory
from menu.models import Category
from menu.tests.factories import IngredientFactory, ProductExtraFactory, product_with_recipe
from ocpizza import roles
from ordering import slots
from ordering.boards import kitchen_board
from ordering.models import Order, OrderEvent
from ordering.services import Contact
from stores.models import StockLevel, StoreRole
from stores.services import withdraw_product
from stores.tests.factories import StoreMembershipFactory, StorePageFactory, stock

from .factories import configure, line, place

ROLE_GROUP = {
    StoreRole.MANAGER: roles.STORE_MANAGERS,
    StoreRole.STAFF: roles.STORE_STAFF,
    StoreRole.PIZZAIOLO: roles.PIZZAIOLOS,
    StoreRole.DRIVER: roles.DRIVERS,
}


def crew(role, *stores):
    user = UserFactory(groups=[ROLE_GROUP[role]])
    for store in stores:
        StoreMembershipFactory(user=user, store=store, role=role)
    return user


def url(store):
    return f"/equipe/{store.id}/prise-de-commande/"


@pytest.fixture
def other(shop, store_index):
    bellecour = StorePageFactory(parent=store_index, slug="bellecour", title="OC Pizza Bellecour")
    configure(bellecour)
    return bellecour


@pytest.fixture
def equipier(client, shop):
    user = crew(StoreRole.STAFF, shop.store)
    client.force_login(user)
    return user


def a_slot(store, fulfilment="pickup"):
    """A slot a little later (the page's choices are computed again on each request)."""
    return slots.available_slots(store, fulfilment)[3].start.isoformat()


def form(shop, lines=(), **fields):
    """What the page posts: the lines (size, quantity, extras), a pickup by phone, paid in cash."""
    data = {
        "source": "phone",
        "fulfilment": "pickup",
        "name": "",
        "phone": "",
        "email": "",
        "when": a_slot(shop.store, fields.get("fulfilment", "pickup")),
        "payment_method": "cash",
        "idempotency_key": "taking-key-0123456789abcdef",
        "expected_total": "",
    }
    for index, (size, quantity, extras) in enumerate(lines):
        data[f"line-{index}"] = f"{size.id}:{','.join(str(e.id) for e in extras)}"
        data[f"quantity-{index}"] = str(quantity)
    data.update(fields)
    return data


def text(response):
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())))


def hidden(response, name):
    match = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', response.content.decode())
    return match[1] if match else None


def written():
    return (
        Order.objects.count(),
        OrderEvent.objects.count(),
        sorted(StockLevel.objects.values_list("id", "on_hand", "reserved")),
    )


# Who opens it --------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [StoreRole.MANAGER, StoreRole.STAFF])
def test_the_store_s_manager_and_equipiers_open_it_and_not_another_store_s(client, shop, other, role):
    client.force_login(crew(role, shop.store))

    response = client.get(url(shop.store))
    assert response.status_code == 200
    assert "Prise de commande" in text(response)
    response = client.get(url(other))
    assert response.status_code == 403
    assert "Vous n’avez pas accès à cet écran pour ce point de vente." in response.content.decode()


def test_head_office_opens_every_store_s(client, shop, other):
    client.force_login(UserFactory(groups=[roles.HEAD_OFFICE]))

    assert client.get(url(shop.store)).status_code == 200
    assert client.get(url(other)).status_code == 200


@pytest.mark.parametrize(
    ("groups", "role"),
    [
        ([roles.PIZZAIOLOS], StoreRole.PIZZAIOLO),
        ([roles.DRIVERS], StoreRole.DRIVER),
        ([roles.MARKETING], None),
        ([], None),
    ],
)
def test_pizzaiolos_drivers_marketing_and_customers_get_403_and_place_nothing(client, shop, groups, role):
    user = UserFactory(groups=groups)
    if role:
        StoreMembershipFactory(user=user, store=shop.store, role=role)
    client.force_login(user)
    before = written()

    assert client.get(url(shop.store)).status_code == 403
    posted = form(shop, [(shop.small, 1, [])], name="Léa", phone="06 11 22 33 44", place="")
    assert client.post(url(shop.store), posted).status_code == 403
    assert written() == before


def test_a_visitor_is_sent_to_the_login_page_and_an_unknown_store_is_404(client, shop, equipier):
    client.logout()
    response = client.get(url(shop.store))
    assert response.status_code == 302
    assert response["Location"] == f"/compte/connexion/?next={url(shop.store)}"

    client.force_login(equipier)
    assert client.get("/equipe/999999/prise-de-commande/").status_code == 404


def test_staff_home_links_the_screen_for_the_equipier_s_store(client, shop, equipier):
    page = client.get("/equipe/").content.decode()

    assert f'href="{url(shop.store)}"' in page


# Building the order ----------------------------------------------------------------------------------


def test_adding_a_product_with_its_size_and_extras_shows_the_server_s_quote(client, shop, equipier):
    posted = form(shop, name="Léa Petit")
    posted.update({f"size-{shop.pizza.id}": shop.large.id, f"add-quantity-{shop.pizza.id}": "2"})
    posted[f"extras-{shop.pizza.id}"] = [shop.extra.id]
    posted["add"] = shop.pizza.id

    response = client.post(url(shop.store), posted)

    assert response.status_code == 200
    assert hidden(response, "line-0") == f"{shop.large.id}:{shop.extra.id}"
    assert 'name="quantity-0" value="2"' in response.content.decode()
    page = text(response)
    assert "Margherita Grande Supplément mozzarella" in page
    assert "Total TTC 27,00 €" in page
    assert 'value="Léa Petit"' in response.content.decode()  # what was typed is kept
    assert hidden(response, "expected_total") == "27.00"
    assert Order.objects.count() == 0


def test_an_unavailable_product_is_greyed_and_refused(client, shop, equipier):
    withdraw_product(store=shop.store, product=shop.dessert, reason="Plus de mascarpone", user=equipier)
    page = client.get(url(shop.store)).content.decode()
    card = re.search(
        rf'<li class="taking-product taking-unavailable" id="produit-{shop.dessert.id}">.*?</li>', page, re.S
    )
    assert card is not None
    assert "Indisponible pour le moment dans cette pizzeria" in card[0]
    assert re.search(r'<button type="submit" name="add" [^>]*disabled', card[0])
    before = written()

    posted = form(shop, [(shop.small, 1, [])], name="Léa", phone="06 11 22 33 44")
    posted.update({f"size-{shop.dessert.id}": shop.dessert_size.id, "add": shop.dessert.id})
    response = client.post(url(shop.store), posted)

    assert response.status_code == 400
    assert "Tiramisu n'est pas disponible pour le moment dans cette pizzeria." in text(response)
    assert hidden(response, "line-0") == f"{shop.small.id}:"  # the order so far is kept
    assert hidden(response, "line-1") is None
    # Posted as a line anyway (a stale page): placing refuses it, nothing written.
    posted = form(shop, [(shop.small, 1, []), (shop.dessert_size, 1, [])], name="Léa", phone="06 11 22 33 44")
    response = client.post(url(shop.store), {**posted, "place": ""})
    assert response.status_code == 409
    assert "pas disponible" in text(response)
    assert written() == before


def test_a_quantity_of_zero_or_the_remove_button_takes_a_line_out(client, shop, equipier):
    posted = form(shop, [(shop.small, 1, []), (shop.beer_size, 3, []), (shop.dessert_size, 1, [])])
    posted["quantity-0"] = "0"
    posted["remove"] = "1"  # the index among the lines kept: the dessert

    response = client.post(url(shop.store), posted)

    assert response.status_code == 200
    assert hidden(response, "line-0") == f"{shop.beer_size.id}:"
    assert hidden(response, "line-1") is None


# The customer --------------------------------------------------------------------------------------


def test_a_known_customer_is_found_by_phone_in_another_format_with_their_last_address(client, shop, equipier):
    old = place(
        shop,
        fulfilment="delivery",
        contact=Contact(name="Nina Garnier", phone="+33 6 12 34 56 78", email=""),
        source="phone",
    )
    elsewhere = StorePageFactory(parent=shop.store.get_parent(), slug="gare", title="OC Pizza Gare")
    assert elsewhere.id != old.store_id
    account = UserFactory(first_name="Paul", last_name="Durand", phone="06.99.88.77.66")
    AddressFactory(user=account, street_address="3 rue Marietton", postcode="69009", city="Lyon")

    response = client.post(url(shop.store), form(shop, lookup="06 12 34 56 78", search=""))

    assert response.status_code == 200
    page = text(response)
    assert "Nina Garnier · +33 6 12 34 56 78" in page
    assert "Dernière adresse : 12 rue de Bourgogne, 69009 Lyon" in page
    assert "Paul Durand" not in page
    token = re.search(r'name="pick" value="([^"]+)"', response.content.decode())[1]

    # Picking her fills the contact and her last address, located again without geocoding.
    response = client.post(url(shop.store), form(shop, [(shop.small, 2, [])], pick=token))

    assert response.status_code == 200
    page = response.content.decode()
    assert 'value="Nina Garnier"' in page and 'value="+33 6 12 34 56 78"' in page
    assert 'value="12 rue de Bourgogne"' in page
    assert re.search(r'<input type="radio" name="fulfilment" value="delivery"[^>]*checked', page)
    assert "Adresse livrable" in text(response)
    assert "frais de livraison 2,50 €" in text(response)

    # An account is found by its own number, and its saved address offered.
    response = client.post(url(shop.store), form(shop, lookup="0699887766", search=""))
    page = text(response)
    assert "Paul Durand · 06.99.88.77.66" in page and "compte client" in page
    assert "Dernière adresse : 3 rue Marietton, 69009 Lyon" in page


def test_a_picked_account_s_order_is_theirs(client, shop, equipier):
    account = UserFactory(
        first_name="Paul", last_name="Durand", phone="06 99 88 77 66", email="paul@example.fr"
    )
    response = client.post(url(shop.store), form(shop, lookup="+33699887766", search=""))
    token = re.search(r'name="pick" value="([^"]+)"', response.content.decode())[1]
    response = client.post(url(shop.store), form(shop, [(shop.small, 2, [])], pick=token))
    customer = hidden(response, "customer")
    posted = form(
        shop,
        [(shop.small, 2, [])],
        name="Paul Durand",
        phone="06 99 88 77 66",
        customer=customer,
        expected_total="18.00",
        place="",
    )

    response = client.post(url(shop.store), posted)

    assert response.status_code == 302
    order = Order.objects.get()
    assert order.customer == account
    assert order.contact_email == "paul@example.fr"


def test_an_account_is_found_by_its_whole_number_only_and_a_staff_account_never(client, shop, equipier):
    UserFactory(first_name="Paul", last_name="Durand", phone="06 99 88 77 66")
    type(equipier).objects.filter(pk=equipier.pk).update(phone="06 55 55 55 55")

    partial = client.post(url(shop.store), form(shop, lookup="88 77 66", search=""))
    staff = client.post(url(shop.store), form(shop, lookup="06 55 55 55 55", search=""))
    whole = client.post(url(shop.store), form(shop, lookup="06 99 88 77 66", search=""))

    assert "Paul Durand" not in text(partial)
    assert "Aucun client connu à ce numéro" in text(staff)
    assert "Paul Durand" in text(whole)


def test_a_picked_account_whose_number_was_typed_over_gets_no_order(client, shop, equipier):
    """Staff picked Paul, then took another caller's name and number: a new customer's order."""
    UserFactory(first_name="Paul", last_name="Durand", phone="06 99 88 77 66", email="paul@example.fr")
    response = client.post(url(shop.store), form(shop, lookup="06 99 88 77 66", search=""))
    token = re.search(r'name="pick" value="([^"]+)"', response.content.decode())[1]
    response = client.post(url(shop.store), form(shop, [(shop.small, 2, [])], pick=token))
    posted = form(
        shop,
        [(shop.small, 2, [])],
        name="Léa Roux",
        phone="07 11 22 33 44",
        email="",
        customer=hidden(response, "customer"),
        expected_total="18.00",
        place="",
    )

    response = client.post(url(shop.store), posted)

    assert response.status_code == 302
    order = Order.objects.get()
    assert (order.customer, order.contact_name) == (None, "Léa Roux")


def test_a_customer_picked_on_another_store_s_screen_attaches_no_account(client, shop, other, equipier):
    UserFactory(first_name="Paul", last_name="Durand", phone="06 99 88 77 66")
    head_office = UserFactory(groups=[roles.HEAD_OFFICE])
    client.force_login(head_office)
    response = client.post(url(other), form(shop, lookup="06 99 88 77 66", search=""))
    token = re.search(r'name="pick" value="([^"]+)"', response.content.decode())[1]
    client.force_login(equipier)

    response = client.post(url(shop.store), form(shop, [(shop.small, 2, [])], pick=token))

    assert "Ce client n’a pas pu être repris : recherchez-le de nouveau." in text(response)


def test_an_altered_customer_value_attaches_no_account(client, shop, equipier):
    posted = form(
        shop,
        [(shop.small, 2, [])],
        name="X",
        phone="06 11 22 33 44",
        customer="forged",
        expected_total="18.00",
    )

    response = client.post(url(shop.store), {**posted, "place": ""})

    assert response.status_code == 302
    assert Order.objects.get().customer is None


# Placing ---------------------------------------------------------------------------------------------


def test_a_phone_order_for_a_new_customer_is_placed_with_exact_lines_total_and_fee(client, shop, equipier):
    address = {"street_address": "12 rue de Bourgogne", "postcode": "69009", "city": "Lyon"}
    posted = form(
        shop,
        [(shop.large, 2, [shop.extra]), (shop.beer_size, 1, [])],
        name="Léa Petit",
        phone="06 11 22 33 44",
        fulfilment="delivery",
        address_details="Interphone Petit",
        **address,
    )
    # « Vérifier l'adresse »: the fee of its band, the total to confirm, nothing written.
    response = client.post(url(shop.store), {**posted, "check_address": ""})
    assert response.status_code == 200
    assert "Adresse livrable" in text(response)
    assert "Frais de livraison 2,50 €" in text(response)
    assert "Total TTC 33,50 €" in text(response)
    assert hidden(response, "expected_total") == "33.50"
    assert Order.objects.count() == 0
    located = hidden(response, "located")

    response = client.post(
        url(shop.store), {**posted, "expected_total": "33.50", "located": located, "place": ""}
    )

    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/equipe/{shop.store.id}/prise-de-commande/{order.number}/"
    assert order.source == Order.Source.PHONE
    assert order.customer is None
    assert (order.contact_name, order.contact_phone, order.contact_email) == (
        "Léa Petit",
        "06 11 22 33 44",
        "",
    )
    assert (order.street_address, order.postcode, order.city, order.address_details) == (
        "12 rue de Bourgogne",
        "69009",
        "Lyon",
        "Interphone Petit",
    )
    assert order.latitude is not None
    assert (order.subtotal, order.delivery_fee, order.total) == (
        Decimal("31.00"),
        Decimal("2.50"),
        Decimal("33.50"),
    )
    assert [(x.product_name, x.size_name, x.quantity, x.unit_price) for x in order.lines.order_by("id")] == [
        ("Margherita", "Grande", 2, Decimal("13.50")),
        ("Bière blonde", "33 cl", 1, Decimal("4.00")),
    ]
    assert order.status == Order.Status.RECEIVED
    assert order.payment_method == "cash"
    assert order.slot_start == datetime.datetime.fromisoformat(posted["when"]) and not order.asap
    assert OrderEvent.objects.filter(order=order).get().user == equipier

    confirmation = client.get(response["Location"])
    assert confirmation.status_code == 200
    page = text(confirmation)
    assert f"Numéro à donner au client : {order.number}" in page
    assert "Livrée vers " in page and "Voir le tableau de la cuisine" in page
    assert "2 × Margherita (Grande) · + Supplément mozzarella" in page
    assert "1 × Bière blonde (33 cl)" in page
    assert "Total TTC 33,50 €" in page
    assert f'href="/equipe/{shop.store.id}/cuisine/"' in confirmation.content.decode()


def test_the_order_appears_on_the_kitchen_board_as_received(client, shop, equipier):
    posted = form(shop, [(shop.small, 2, [])], name="Léa", phone="06 11 22 33 44", source="counter")

    client.post(url(shop.store), {**posted, "expected_total": "18.00", "place": ""})

    order = Order.objects.get()
    assert order.source == Order.Source.COUNTER
    received = kitchen_board(shop.store)[0]
    assert [ticket.order.number for ticket in received.tickets] == [order.number]
    page = client.get(f"/equipe/{shop.store.id}/cuisine/").content.decode()
    assert order.number in page


def test_a_double_submit_places_one_order(client, shop, equipier):
    posted = {**form(shop, [(shop.small, 2, [])], name="Léa", phone="06 11 22 33 44"), "place": ""}
    posted["expected_total"] = "18.00"

    first = client.post(url(shop.store), posted)
    second = client.post(url(shop.store), posted)

    assert Order.objects.count() == 1
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]


def test_placing_looks_the_key_up_once(client, shop, equipier):
    posted = {**form(shop, [(shop.small, 2, [])], name="Léa", phone="06 11 22 33 44"), "place": ""}
    posted["expected_total"] = "18.00"

    with CaptureQueriesContext(connection) as queries:
        response = client.post(url(shop.store), posted)

    assert response.status_code == 302
    lookups = [q["sql"] for q in queries if "idempotency_key" in q["sql"] and q["sql"].startswith("SELECT")]
    assert len(lookups) == 1, lookups
    assert Order.objects.get().idempotency_key == posted["idempotency_key"]


@pytest.mark.parametrize("padding", ["", " "], ids=["as-is", "padded"])
def test_the_key_of_another_store_s_order_is_refused_with_nothing_written(
    client, shop, other, equipier, padding
):
    theirs = place(shop, idempotency_key="taking-key-0123456789abcdef")
    Order.objects.filter(pk=theirs.pk).update(store=other)  # placed at Bellecour with this key
    before = written()
    posted = {**form(shop, [(shop.small, 2, [])], name="Léa", phone="06 11 22 33 44"), "place": ""}
    posted["expected_total"] = "18.00"
    posted["idempotency_key"] = padding + posted["idempotency_key"]  # the form strips it

    response = client.post(url(shop.store), posted)

    assert response.status_code == 409
    assert "Ce formulaire a déjà servi : rechargez la page." in text(response)
    assert theirs.number not in response.content.decode()
    assert written() == before
    assert hidden(response, "idempotency_key") != posted["idempotency_key"]  # a new one to place with


def test_the_key_of_another_store_s_order_on_a_refused_form_is_replaced_at_once(
    client, shop, other, equipier
):
    theirs = place(shop, idempotency_key="taking-key-0123456789abcdef")
    Order.objects.filter(pk=theirs.pk).update(store=other)
    posted = {**form(shop, [(shop.small, 2, [])], name="", phone="06 11 22 33 44"), "place": ""}
    posted["expected_total"] = "18.00"

    response = client.post(url(shop.store), posted)

    assert response.status_code == 400
    assert theirs.number not in response.content.decode()
    fresh = hidden(response, "idempotency_key")
    assert fresh != posted["idempotency_key"]
    placed = client.post(url(shop.store), {**posted, "name": "Léa", "idempotency_key": fresh})
    assert placed.status_code == 302
    assert Order.objects.exclude(pk=theirs.pk).get().idempotency_key == fresh


def test_an_address_outside_the_area_is_refused_with_the_message_and_nothing_written(client, shop, equipier):
    before = written()
    posted = form(
        shop,
        [(shop.small, 2, [])],
        name="Léa",
        phone="06 11 22 33 44",
        fulfilment="delivery",
        street_address="1 montée du Gourguillon",
        postcode="69005",
        city="Lyon",
    )

    for button in ("check_address", "place"):
        response = client.post(url(shop.store), {**posted, button: ""})

        assert response.status_code == 400
        assert (
            "OC Pizza Vaise ne livre pas cette adresse (69005 Lyon). Vous pouvez retirer votre commande "
            "sur place, ou la commander à une autre pizzeria."
        ) in text(response)
        assert 'value="1 montée du Gourguillon"' in response.content.decode()
    assert written() == before


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": ""}, "Champ requis."),
        ({"phone": "12"}, "Un numéro de téléphone, par exemple 06 12 34 56 78."),
        ({"email": "pas-un-mail"}, "Saisissez une adresse de courriel valide."),
        ({"payment_method": "card_online"}, "Sélectionnez un choix valide."),
        ({"fulfilment": "delivery"}, "Indiquez l'adresse de livraison."),
        ({"when": "2001-01-01T12:00:00+01:00"}, "Sélectionnez un choix valide."),
    ],
)
def test_bad_input_comes_back_with_the_french_error_and_nothing_written(
    client, shop, equipier, fields, message
):
    before = written()
    posted = form(shop, [(shop.small, 2, [])], name="Léa", phone="06 11 22 33 44", expected_total="18.00")
    posted.update(fields)

    response = client.post(url(shop.store), {**posted, "place": ""})

    assert response.status_code == 400
    assert message in text(response)
    assert hidden(response, "line-0") == f"{shop.small.id}:"
    assert written() == before


def test_an_empty_order_is_refused(client, shop, equipier):
    response = client.post(url(shop.store), {**form(shop, name="Léa", phone="06 11 22 33 44"), "place": ""})

    assert response.status_code == 400
    assert "Ajoutez au moins un produit à la commande." in text(response)
    assert Order.objects.count() == 0


def test_a_total_changed_since_the_page_comes_back_to_be_confirmed(client, shop, equipier):
    posted = form(shop, [(shop.small, 2, [])], name="Léa", phone="06 11 22 33 44", expected_total="17.00")

    response = client.post(url(shop.store), {**posted, "place": ""})

    assert response.status_code == 409
    assert "il est maintenant de 18,00 €" in text(response)
    assert hidden(response, "expected_total") == "18.00"
    assert Order.objects.count() == 0


def test_only_the_store_s_on_site_methods_are_offered(client, shop, equipier):
    configure(shop.store, accepted_payments=["cash", "cheque"])

    page = client.get(url(shop.store)).content.decode()

    assert re.findall(r'name="payment_method" value="(\w+)"', page) == ["cash", "cheque"]


def test_the_confirmation_of_another_store_s_order_is_not_shown(client, shop, other, equipier):
    order = place(shop)

    assert client.get(f"/equipe/{shop.store.id}/prise-de-commande/{order.number}/").status_code == 200
    client.force_login(crew(StoreRole.STAFF, other))
    assert client.get(f"/equipe/{other.id}/prise-de-commande/{order.number}/").status_code == 404


# Bounded -------------------------------------------------------------------------------------------


def test_the_screen_s_queries_are_bounded_with_a_larger_menu_and_many_orders(
    client, shop, equipier, menu_page, django_assert_max_num_queries
):
    def build(first, count):
        for n in range(first, first + count):
            ingredient = IngredientFactory(name=f"Ingrédient {n}")
            product = product_with_recipe(
                menu_page,
                title=f"Pizza {n}",
                recipe={ingredient: 10, shop.dough: 200},
                sizes=(("Petite", "9.00", "1.00"), ("Grande", "12.00", "2.00")),
                category=Category.PIZZA,
            )
            ProductExtraFactory(product=product, name=f"Option {n}", ingredient=ingredient, quantity=5)
            stock(shop.store, {ingredient: 1000})
        for _n in range(count):
            place(
                shop,
                [line(shop.small, 1)],
                contact=Contact(name="Nina Garnier", phone="06 12 34 56 78"),
                source="phone",
            )

    build(0, 3)
    lines = [(shop.small, 1, []), (shop.large, 2, [shop.extra]), (shop.beer_size, 1, [])]
    posted = form(shop, lines, lookup="06 12 34 56 78", search="")
    with django_assert_max_num_queries(70) as few:
        assert client.post(url(shop.store), posted).status_code == 200
    build(3, 12)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.post(url(shop.store), posted)
    assert response.status_code == 200
    assert "Pizza 14" in text(response)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url(shop.store)).status_code == 200


def test_a_line_altered_in_the_page_is_refused_with_nothing_written(client, shop, equipier):
    posted = form(shop, [(shop.small, 2, [])], name="Léa", phone="06 11 22 33 44")
    posted["quantity-0"] = "beaucoup"

    response = client.post(url(shop.store), {**posted, "place": ""})

    assert response.status_code == 400
    assert "Quantité entre 0 et 20 pour chaque ligne." in text(response)
    assert Order.objects.count() == 0


def test_another_address_of_the_picked_customer_can_be_chosen(client, shop, equipier):
    account = UserFactory(first_name="Paul", last_name="Durand", phone="06 99 88 77 66")
    AddressFactory(
        user=account, street_address="3 rue Marietton", postcode="69009", city="Lyon", is_default=True
    )
    AddressFactory(user=account, street_address="40 quai Paul Sédaillan", postcode="69009", city="Lyon")
    response = client.post(url(shop.store), form(shop, lookup="06 99 88 77 66", search=""))
    token = re.search(r'name="pick" value="([^"]+)"', response.content.decode())[1]
    response = client.post(url(shop.store), form(shop, pick=token))
    assert 'value="3 rue Marietton"' in response.content.decode()  # the default one first

    posted = form(
        shop,
        customer=hidden(response, "customer"),
        fulfilment="delivery",
        street_address="3 rue Marietton",
        postcode="69009",
        city="Lyon",
        use_address="1",
    )
    response = client.post(url(shop.store), posted)

    assert response.status_code == 200
    assert 'value="40 quai Paul Sédaillan"' in response.content.decode()
    assert "Adresse livrable" in text(response)

    response = client.post(url(shop.store), {**posted, "forget_customer": ""})
    assert hidden(response, "customer") is None  # no value any more
    assert "Client repris" not in text(response)


@pytest.mark.parametrize(
    "tamper",
    [
        {"quantity-0": "-1"},
        {"quantity-0": "21"},
        {"quantity-0": "1.5"},
        {"quantity-0": "99999999999999999999999"},
        {"line-0": "abc:"},
        {"line-0": "99999999999999999999999:"},
        {"line-0": "١:"},
        {"line-0": "²:"},
        {"line-0": "{size}:99999999999999999999999"},
        {"line-0": "{size}:-1"},
    ],
)
def test_a_tampered_line_is_a_clean_400_with_nothing_written(client, shop, equipier, tamper):
    posted = form(shop, [(shop.small, 2, [])], name="Léa", phone="06 11 22 33 44")
    posted.update({key: value.format(size=shop.small.id) for key, value in tamper.items()})

    response = client.post(url(shop.store), {**posted, "place": ""})

    assert response.status_code == 400
    assert Order.objects.count() == 0


@pytest.mark.parametrize(
    "tamper",
    [
        {"add-quantity": "0"},
        {"add-quantity": "1.5"},
        {"add-quantity": "99999999999999999999999"},
        {"size": "99999999999999999999999"},
        {"size": "١"},
        {"extras": "99999999999999999999999"},
        {"extras": "-1"},
    ],
)
def test_a_tampered_add_is_a_clean_400(client, shop, equipier, tamper):
    product = shop.dessert
    posted = form(shop, name="Léa", phone="06 11 22 33 44")
    posted.update({f"size-{product.id}": shop.dessert_size.id, "add": product.id})
    posted.update({f"{key}-{product.id}": value for key, value in tamper.items()})

    response = client.post(url(shop.store), posted)

    assert response.status_code == 400
    assert hidden(response, "line-0") is None
    assert Order.objects.count() == 0
