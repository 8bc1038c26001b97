"""The managers' order review: filters, the search box, the detail's timeline and the CSV export."""

import csv
import dataclasses
import datetime
import io
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import UserFactory
from ocpizza import roles
from ordering.search import normalise_phone
from ordering.services import Contact, cancel_order, mark_collected, mark_ready, pay_order, start_preparing
from stores.models import StoreRole
from stores.tests.factories import StoreMembershipFactory, StorePageFactory, stock

from .factories import NOW, configure, line, new_key, place

D = Decimal
OK = "cnon:card-nonce-ok"
LIST = "/admin/commandes/"


@pytest.fixture
def other_shop(shop, store_index):
    store = StorePageFactory(parent=store_index, slug="bellecour", title="OC Pizza Bellecour")
    configure(store)
    stock(store, {shop.cheese: 5000, shop.dough: 10000, shop.basil: 500, shop.beer_stock: 20})
    return dataclasses.replace(shop, store=store)


def member(store, email, *, group=roles.STORE_MANAGERS, role=StoreRole.MANAGER):
    user = UserFactory(email=email, groups=[group])
    StoreMembershipFactory(user=user, store=store, role=role)
    return user


@pytest.fixture
def head_office(db):
    return UserFactory(email="henri@oc-pizza.fr", groups=[roles.HEAD_OFFICE])


@pytest.fixture
def manager(shop):
    return member(shop.store, "romain@oc-pizza.fr")


@pytest.fixture
def orders(shop):
    """Four orders of the shop, one per channel and way of paying (oldest first)."""
    web = place(
        shop, contact=Contact(name="Camille Martin", phone="06 12 34 56 78", email="camille@example.fr")
    )
    phone = place(
        shop,
        source="phone",
        payment_method="card_terminal",
        contact=Contact(name="Paul Durand", phone="+33 7 01 02 03 04"),
        now=NOW + datetime.timedelta(minutes=1),
    )
    counter = place(
        shop,
        source="counter",
        payment_method="meal_voucher",
        contact=Contact(name="Lina Haddad", phone="04.78.00.11.22"),
        now=NOW + datetime.timedelta(minutes=2),
    )
    online = place(
        shop,
        [line(shop.small, 2), line(shop.beer_size)],
        payment_method="card_online",
        contact=Contact(name="Hugo Bernard", phone="0699887766", email="hugo@example.fr"),
        now=NOW + datetime.timedelta(minutes=3),
    )
    pay_order(online, source_token=OK, idempotency_key=new_key(), now=NOW + datetime.timedelta(minutes=3))
    return {"web": web, "phone": phone, "counter": counter, "online": online}


def numbers(response):
    assert response.status_code == 200
    return [order.number for order in response.context["page_obj"]]


# Filters -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"source": "web"}, ["online", "web"]),
        ({"source": "phone"}, ["phone"]),
        ({"source": "counter"}, ["counter"]),
        ({"payment_method": "meal_voucher"}, ["counter"]),
        ({"payment_method": "card_online"}, ["online"]),
        ({"payment_state": "paid"}, ["online"]),
        ({"payment_state": "unpaid"}, ["counter", "phone", "web"]),
        ({"payment_state": "unpaid", "source": "web"}, ["web"]),
        ({"status": "received", "payment_method": "cash", "day": "2026-11-25"}, ["web"]),
        ({"source": "phone", "q": "Martin"}, []),
    ],
)
def test_each_filter_alone_and_combined_finds_exactly_its_orders(client, manager, orders, query, expected):
    client.force_login(manager)

    response = client.get(LIST, query)

    assert numbers(response) == [orders[name].number for name in expected]


def test_the_late_filter_keeps_open_orders_past_their_promised_time(client, manager, shop, orders):
    """The orders were promised on 25/11/2026, long before the test runs."""
    collected = mark_ready(start_preparing(orders["web"], now=NOW), now=NOW)
    mark_collected(collected, payment_method="cash", amount_received=collected.total, now=NOW)
    cancel_order(orders["counter"], user=manager, reason="Client parti", now=NOW)
    waiting = place(shop, payment_method="card_online")  # not paid: not the store's yet
    client.force_login(manager)

    response = client.get(LIST, {"late": "on"})

    assert numbers(response) == [orders["online"].number, orders["phone"].number]
    assert waiting.status == "pending_payment"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("status", "lost", "État inconnu."),
        ("source", "fax", "Canal inconnu."),
        ("payment_method", "bitcoin", "Moyen de paiement inconnu."),
        ("payment_state", "maybe", "État de paiement inconnu."),
        ("day", "25/13/2026", "Saisissez une date valide."),
        ("store", "abc", "Point de vente inconnu."),
        ("q", "x" * 101, "La recherche tient en 100 caractères au plus."),
    ],
)
def test_a_bad_filter_value_shows_its_error_and_no_order(client, manager, orders, field, value, message):
    client.force_login(manager)

    response = client.get(LIST, {field: value})

    assert numbers(response) == []
    assert response.context["filter_form"].errors[field] == [message]
    assert message.replace("'", "&#x27;") in response.content.decode()


def test_filters_and_search_survive_pagination(client, manager, shop):
    stock(shop.store, {shop.cheese: 6000, shop.dough: 12000})
    martin = Contact(name="Camille Martin", phone="06 12 34 56 78")
    matching = [place(shop, [line(shop.small)], source="phone", contact=martin) for _ in range(51)]
    place(shop, [line(shop.small)], source="counter", contact=martin)
    client.force_login(manager)

    first = client.get(LIST, {"source": "phone", "q": "martin"})
    second = client.get(LIST, {"source": "phone", "q": "martin", "p": "2"})

    html = first.content.decode()
    assert len(numbers(first)) == 50
    assert numbers(second) == [matching[0].number]
    assert 'href="?source=phone&amp;q=martin&amp;p=2"' in html
    assert 'href="?source=phone&amp;q=martin&amp;format=csv"' in html


def test_the_reset_link_shows_once_something_is_filtered(client, manager, orders):
    client.force_login(manager)

    plain = client.get(LIST).content.decode()
    filtered = client.get(LIST, {"source": "phone"}).content.decode()
    paged_only = client.get(LIST, {"p": "1"}).content.decode()

    assert "Réinitialiser" not in plain
    assert "Réinitialiser" not in paged_only
    assert f'<a class="button button-secondary" href="{LIST}">Réinitialiser</a>' in filtered


# The search box ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("camille martin", ["web"]),
        ("Martin Camille", ["web"]),
        ("DURAND", ["phone"]),
        ("hugo@example", ["online"]),
        ("07 01 02 03 04", ["phone"]),
        ("0701020304", ["phone"]),
        ("07.01.02.03.04", ["phone"]),
        ("+33 7 01 02 03 04", ["phone"]),
        ("+33 (0)7 01 02 03 04", ["phone"]),
        ("0033 701020304", ["phone"]),
        ("04 78 00 11 22", ["counter"]),
        ("+33478001122", ["counter"]),
        ("56 78", ["web"]),
        ("Dupont", []),
    ],
)
def test_the_search_finds_an_order_by_name_email_or_phone_however_typed(
    client, manager, orders, text, expected
):
    client.force_login(manager)

    response = client.get(LIST, {"q": text})

    assert numbers(response) == [orders[name].number for name in expected]


def test_the_search_finds_an_order_by_its_exact_number_alone(client, manager, orders):
    client.force_login(manager)

    response = client.get(LIST, {"q": f"  {orders['counter'].number.lower()} "})

    assert numbers(response) == [orders["counter"].number]


def test_an_exact_phone_number_comes_before_numbers_that_only_contain_it(client, manager, shop):
    exact = place(shop, source="phone", contact=Contact(name="Camille Martin", phone="06 12 34 56 78"))
    longer = place(
        shop,
        source="phone",
        contact=Contact(name="Inès Roux", phone="06 12 34 56 78 90"),
        now=NOW + datetime.timedelta(minutes=5),
    )
    client.force_login(manager)

    response = client.get(LIST, {"q": "+33 6 12 34 56 78"})

    assert numbers(response) == [exact.number, longer.number]


def test_a_manager_never_finds_another_stores_order(client, manager, other_shop, orders):
    elsewhere = place(
        other_shop, source="phone", contact=Contact(name="Paul Durand", phone="+33 7 01 02 03 04")
    )
    client.force_login(manager)

    response = client.get(LIST, {"q": "Durand"})

    assert numbers(response) == [orders["phone"].number]
    assert elsewhere.number not in response.content.decode()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("06 12 34 56 78", "0612345678"),
        ("+33 6 12 34 56 78", "0612345678"),
        ("+33 (0)6 12 34 56 78", "0612345678"),
        ("0033612345678", "0612345678"),
        ("06-12-34-56-78", "0612345678"),
        ("123", ""),
        ("Martin", ""),
        ("VAI-1125-001", ""),
    ],
)
def test_a_phone_number_is_read_in_its_national_form(text, expected):
    assert normalise_phone(text) == expected


# The detail --------------------------------------------------------------------------------------


def test_the_detail_shows_extras_refunds_and_every_event_with_who_and_why(client, manager, shop):
    order = place(shop, [line(shop.large, 2, shop.extra, shop.no_basil)], payment_method="card_online")
    pay_order(order, source_token=OK, idempotency_key=new_key(), now=NOW)
    cancel_order(order, user=manager, reason="Four en panne", now=NOW + datetime.timedelta(minutes=5))
    client.force_login(manager)

    response = client.get(f"{LIST}{order.number}/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Margherita (Grande)<br><small>Supplément mozzarella, Sans basilic</small>" in html
    assert 'data-kind="refund"' in html
    assert "data-refunded>27,00\xa0€" in html
    assert [(e.from_status, e.to_status) for e in response.context["events"]] == [
        ("", "pending_payment"),
        ("pending_payment", "received"),
        ("received", "cancelled"),
    ]
    cancelled = response.context["events"][-1]
    row = re.search(rf'<tr data-event="{cancelled.id}">(.*?)</tr>', html, flags=re.S).group(1)
    assert "25/11/2026 12:05" in row
    assert "<td>Reçue</td>" in row
    assert 'data-to="cancelled">Annulée' in row
    assert str(manager) in row
    assert "Four en panne" in row
    assert '<dd data-source="web">Site web</dd>' in html


# The export --------------------------------------------------------------------------------------


def export(client, query=None):
    response = client.get(LIST, {**(query or {}), "format": "csv"})
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8")
    return response, body


def rows(body):
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body.removeprefix("\ufeff")), delimiter=";"))


HEADER = [
    "Numéro",
    "Passée le",
    "Point de vente",
    "Canal",
    "Mode",
    "Client",
    "Téléphone",
    "E-mail",
    "Adresse",
    "Heure promise",
    "État",
    "Motif d'annulation",
    "Moyen de paiement",
    "État du paiement",
    "Articles",
    "Sous-total TTC (€)",
    "Remises (€)",
    "Frais de livraison (€)",
    "Total TTC (€)",
    "Encaissé (€)",
    "Remboursé (€)",
]


def test_the_export_writes_every_order_of_the_filters_for_a_french_spreadsheet(client, manager, shop, orders):
    evil = place(
        shop,
        [line(shop.small, 2), line(shop.beer_size)],
        fulfilment="delivery",
        source="phone",
        payment_method="cash",
        contact=Contact(name='=HYPERLINK("http://evil.example","x")', phone="+33 6 11 22 33 44"),
        now=NOW + datetime.timedelta(minutes=10),
    )
    client.force_login(manager)

    response, body = export(client, {"source": "phone"})

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(r'attachment; filename="commandes-\d{8}-\d{4}\.csv"', response["Content-Disposition"])
    assert rows(body) == [
        HEADER,
        [
            evil.number,
            "25/11/2026 12:10",
            "OC Pizza Vaise",
            "Téléphone",
            "Livraison",
            '\'=HYPERLINK("http://evil.example","x")',
            "'+33 6 11 22 33 44",
            "",
            "12 rue de Bourgogne, 69009 Lyon (2e étage)",
            _paris(evil.promised_at),
            "Reçue",
            "",
            "Espèces",
            "Non payée",
            "3",
            "22,00",
            "0,00",
            "2,50",
            "24,50",
            "0,00",
            "0,00",
        ],
        [
            orders["phone"].number,
            "25/11/2026 12:01",
            "OC Pizza Vaise",
            "Téléphone",
            "À emporter",
            "Paul Durand",
            "'+33 7 01 02 03 04",
            "",
            "",
            _paris(orders["phone"].promised_at),
            "Reçue",
            "",
            "Carte bancaire (terminal)",
            "Non payée",
            "2",
            "18,00",
            "0,00",
            "0,00",
            "18,00",
            "0,00",
            "0,00",
        ],
    ]


def _paris(moment):
    return timezone.localtime(moment).strftime("%d/%m/%Y %H:%M")


def test_the_export_shows_what_was_paid_and_refunded(client, manager, orders):
    cancel_order(
        orders["online"], user=manager, reason="Four en panne", now=NOW + datetime.timedelta(minutes=5)
    )
    client.force_login(manager)

    _response, body = export(client, {"payment_method": "card_online"})

    [row] = rows(body)[1:]
    assert row[HEADER.index("État")] == "Annulée"
    assert row[HEADER.index("Motif d'annulation")] == "Four en panne"
    assert row[HEADER.index("État du paiement")] == "Remboursée"
    assert row[HEADER.index("Total TTC (€)")] == "22,00"
    assert row[HEADER.index("Encaissé (€)")] == "22,00"
    assert row[HEADER.index("Remboursé (€)")] == "22,00"


def test_the_export_of_a_search_keeps_its_order(client, manager, orders):
    client.force_login(manager)

    _response, body = export(client, {"q": "0"})  # one digit: not a phone number; every number has a 0

    assert [row[0] for row in rows(body)[1:]] == [
        orders[name].number for name in ("online", "counter", "phone", "web")
    ]


@pytest.mark.parametrize("query", [{"status": "lost"}, {"day": "hier"}, {"source": "fax"}])
def test_the_export_of_bad_filters_is_refused_and_exports_nothing(client, manager, orders, query):
    client.force_login(manager)

    response = client.get(LIST, {**query, "format": "csv"})

    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode() == "Filtres invalides : corrigez-les avant d'exporter."


def export_queries(client, query):
    with CaptureQueriesContext(connection) as queries:
        _response, body = export(client, query)
    return len(queries), body


@pytest.mark.parametrize("query", [{}, {"q": "Martin", "payment_state": "unpaid", "source": "web"}])
def test_the_export_reads_a_bounded_number_of_queries_whatever_the_number_of_orders(
    client, manager, shop, query, django_assert_max_num_queries
):
    stock(shop.store, {shop.cheese: 6000, shop.dough: 12000})
    place(shop, [line(shop.small)])
    client.force_login(manager)
    export(client, query)  # Wagtail's caches are warm from here
    few, _body = export_queries(client, query)
    for index in range(55):
        order = place(shop, [line(shop.small)], payment_method="card_online" if index % 5 == 0 else "cash")
        if index % 5 == 0:
            pay_order(order, source_token=OK, idempotency_key=new_key(), now=NOW)

    with django_assert_max_num_queries(few):
        _many, body = export_queries(client, query)

    assert len(rows(body)) == 1 + (56 if not query else 45)
    assert few <= 12


def list_queries(client, query):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST, query)
    assert response.status_code == 200
    return len(queries), response


def test_the_searched_and_filtered_list_reads_a_bounded_number_of_queries(
    client, manager, shop, django_assert_max_num_queries
):
    query = {"q": "+33 6 12", "source": "phone", "payment_state": "unpaid", "late": "on"}
    stock(shop.store, {shop.cheese: 6000, shop.dough: 12000})
    camille = Contact(name="Camille Martin", phone="06 12 34 56 78")
    place(shop, [line(shop.small)], source="phone", contact=camille)
    client.force_login(manager)
    client.get(LIST, query)  # Wagtail's caches are warm from here
    few, _response = list_queries(client, query)
    for _ in range(55):
        place(shop, [line(shop.small)], source="phone", contact=camille)

    with django_assert_max_num_queries(few):
        _many, response = list_queries(client, query)

    assert len(numbers(response)) == 50
    assert few <= 20


# Who may list and export -------------------------------------------------------------------------


def test_head_office_exports_every_store(client, head_office, orders, other_shop):
    elsewhere = place(other_shop, now=NOW + datetime.timedelta(minutes=10))
    client.force_login(head_office)

    _response, body = export(client)

    exported = [row[0] for row in rows(body)[1:]]
    assert exported == [
        elsewhere.number,
        *(orders[name].number for name in ("online", "counter", "phone", "web")),
    ]


def test_a_manager_exports_only_their_store(client, manager, orders, other_shop):
    place(other_shop)
    client.force_login(manager)

    _response, body = export(client)

    assert {row[2] for row in rows(body)[1:]} == {"OC Pizza Vaise"}
    assert len(rows(body)) == 5


def test_a_manager_cannot_export_another_store(client, manager, orders, other_shop):
    place(other_shop)
    client.force_login(manager)

    response = client.get(LIST, {"store": other_shop.store.id, "format": "csv"})

    assert response.status_code == 400


@pytest.mark.parametrize(
    "group",
    [roles.MARKETING, roles.STORE_MANAGERS],  # a manager group without a store to manage
)
def test_the_list_and_export_are_refused_to_whoever_reviews_no_store(client, orders, group):
    client.force_login(UserFactory(groups=[group]))

    assert client.get(LIST).status_code == 403
    assert client.get(LIST, {"format": "csv"}).status_code == 403


def test_a_crew_member_of_the_store_is_refused_the_list_and_the_export(client, shop, orders):
    crew = member(shop.store, "eric@oc-pizza.fr", role=StoreRole.STAFF)
    client.force_login(crew)

    assert client.get(LIST).status_code == 403
    assert client.get(LIST, {"format": "csv"}).status_code == 403


def test_anonymous_visitors_are_sent_to_the_login_from_the_export(client, orders):
    response = client.get(LIST, {"format": "csv"})

    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/admin/commandes/%3Fformat%3Dcsv"


def test_the_list_shows_the_channel_and_the_export_link(client, manager, orders):
    client.force_login(manager)

    html = client.get(LIST).content.decode()

    assert '<td data-source="phone">Téléphone</td>' in html
    assert '<td data-source="counter">Comptoir</td>' in html
    assert 'href="?format=csv" download>Exporter en CSV</a>' in html
