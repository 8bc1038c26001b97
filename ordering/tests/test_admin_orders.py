"""The orders in the Wagtail admin: who sees which orders, the list, the detail, and cancelling."""

import dataclasses
import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from ocpizza import roles
from ordering.models import Order, OrderEvent, Payment
from ordering.services import cancel_order, pay_order, start_preparing
from stores.models import StockLevel, StoreRole
from stores.tests.factories import StoreMembershipFactory, StorePageFactory, stock

from .factories import NOW, configure, line, new_key, place

D = Decimal
OK = "cnon:card-nonce-ok"


@pytest.fixture
def other_shop(shop, store_index):
    """A second store selling the same menu (Bellecour)."""
    store = StorePageFactory(parent=store_index, slug="bellecour", title="OC Pizza Bellecour")
    configure(store)
    stock(store, {shop.cheese: 5000, shop.dough: 10000, shop.basil: 500, shop.beer_stock: 20})
    return dataclasses.replace(shop, store=store)


@pytest.fixture
def head_office(db):
    return UserFactory(email="henri@oc-pizza.fr", groups=[roles.HEAD_OFFICE])


def manager_of(store, email="romain@oc-pizza.fr", role=StoreRole.MANAGER):
    user = UserFactory(email=email, groups=[roles.STORE_MANAGERS])
    StoreMembershipFactory(user=user, store=store, role=role)
    return user


@pytest.fixture
def manager(shop):
    return manager_of(shop.store)


@pytest.fixture
def other_manager(other_shop):
    return manager_of(other_shop.store, email="bella@oc-pizza.fr")


@pytest.fixture
def order(shop):
    return place(shop)  # two small pizzas, pickup, cash: 18,00 €


@pytest.fixture
def paid_order(shop):
    order = place(shop, [line(shop.small, 2), line(shop.beer_size)], payment_method="card_online")
    pay_order(order, source_token=OK, idempotency_key=new_key(), now=NOW)
    return order  # 22,00 € paid online


def url(order, action=""):
    return f"/admin/commandes/{order.number}/{action + '/' if action else ''}"


# Who sees what -----------------------------------------------------------------------------------


def test_head_office_lists_the_orders_of_every_store(client, head_office, order, other_shop):
    elsewhere = place(other_shop)
    client.force_login(head_office)

    response = client.get("/admin/commandes/")

    assert response.status_code == 200
    assert [o.number for o in response.context["page_obj"]] == [elsewhere.number, order.number]


def test_a_manager_lists_only_the_orders_of_their_store(client, manager, order, other_shop):
    place(other_shop)
    client.force_login(manager)

    response = client.get("/admin/commandes/")

    assert response.status_code == 200
    assert [o.number for o in response.context["page_obj"]] == [order.number]
    assert f'data-order="{order.number}"' in response.content.decode()


def test_a_manager_opens_an_order_of_their_store(client, manager, order):
    client.force_login(manager)

    response = client.get(url(order))

    assert response.status_code == 200
    assert response.context["order"] == order


@pytest.mark.parametrize("action", ["", "annuler", "encaisser", "rembourser"])
def test_the_manager_of_another_store_gets_403_on_every_screen_of_an_order(
    client, other_manager, order, action
):
    client.force_login(other_manager)

    assert client.get(url(order, action)).status_code == 403
    assert client.post(url(order, action), {"reason": "Erreur"}).status_code == 403
    assert Order.objects.get(pk=order.pk).status == "received"


@pytest.mark.parametrize("action", ["", "annuler", "encaisser", "rembourser"])
def test_a_staff_member_of_the_store_without_the_manager_role_gets_403(client, shop, order, action):
    crew = manager_of(shop.store, email="eric@oc-pizza.fr", role=StoreRole.STAFF)
    client.force_login(crew)

    assert client.get("/admin/commandes/").status_code == 403
    assert client.get(url(order, action)).status_code == 403


def test_marketing_gets_403_on_the_orders(client, order):
    client.force_login(UserFactory(groups=[roles.MARKETING]))

    response = client.get("/admin/commandes/")

    assert response.status_code == 403
    assert "Vous n'avez pas accès aux commandes" in response.content.decode()
    assert client.get(url(order)).status_code == 403


def test_a_crew_member_without_admin_access_is_sent_to_the_admin_login(client, shop):
    """Wagtail's own rule for an account without admin access, as on the stock screens."""
    crew = UserFactory(groups=[roles.STORE_STAFF])
    StoreMembershipFactory(user=crew, store=shop.store, role=StoreRole.STAFF)
    client.force_login(crew)

    response = client.get("/admin/commandes/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/admin/commandes/"


def test_an_unknown_order_is_a_404(client, manager, order):
    client.force_login(manager)

    assert client.get("/admin/commandes/VAI-0101-999/").status_code == 404


def test_the_orders_menu_item_is_shown_to_managers_not_to_marketing(client, manager, order):
    client.force_login(manager)
    assert "/admin/commandes/" in client.get("/admin/").content.decode()

    client.force_login(UserFactory(groups=[roles.MARKETING]))
    assert "/admin/commandes/" not in client.get("/admin/").content.decode()


# The list ----------------------------------------------------------------------------------------


def test_the_list_finds_an_order_by_its_number(client, manager, shop, order):
    other = place(shop)
    client.force_login(manager)

    response = client.get("/admin/commandes/", {"q": other.number.lower()})

    assert [o.number for o in response.context["page_obj"]] == [other.number]


def test_the_filters_offer_every_value_first_in_words(client, head_office, order):
    client.force_login(head_office)

    html = client.get("/admin/commandes/").content.decode()

    assert html.count('<option value="" selected>Tous</option>') == 2  # status, payment
    assert '<option value="" selected>Tous les points de vente</option>' in html
    assert "---------" not in html


def test_the_list_filters_by_status_and_by_payment_state(client, manager, shop, order, paid_order):
    start_preparing(order, now=NOW)
    client.force_login(manager)

    preparing = client.get("/admin/commandes/", {"status": "preparing"})
    paid = client.get("/admin/commandes/", {"payment_state": "paid"})
    unpaid = client.get("/admin/commandes/", {"payment_state": "unpaid"})

    assert [o.number for o in preparing.context["page_obj"]] == [order.number]
    assert [o.number for o in paid.context["page_obj"]] == [paid_order.number]
    assert [o.number for o in unpaid.context["page_obj"]] == [order.number]
    assert "Payée" in paid.content.decode()


def test_the_list_filters_by_day_and_by_store(client, head_office, shop, order, other_shop):
    elsewhere = place(other_shop)
    yesterday = place(shop, now=NOW - datetime.timedelta(days=1))
    client.force_login(head_office)

    by_day = client.get("/admin/commandes/", {"day": "2026-11-24"})
    by_store = client.get("/admin/commandes/", {"store": other_shop.store.id})

    assert [o.number for o in by_day.context["page_obj"]] == [yesterday.number]
    assert [o.number for o in by_store.context["page_obj"]] == [elsewhere.number]


def test_a_manager_cannot_filter_on_another_store(client, manager, other_shop, order):
    place(other_shop)
    client.force_login(manager)

    response = client.get("/admin/commandes/", {"store": other_shop.store.id})

    assert response.status_code == 200
    assert list(response.context["page_obj"]) == []
    assert response.context["filter_form"].errors["store"] == ["Point de vente inconnu."]


def test_an_invalid_day_shows_an_error_and_no_order(client, manager, order):
    client.force_login(manager)

    response = client.get("/admin/commandes/", {"day": "2026-13-45"})

    assert response.status_code == 200
    assert list(response.context["page_obj"]) == []
    assert response.context["filter_form"].errors["day"] == ["Saisissez une date valide."]


def test_the_list_is_paginated_by_fifty(client, manager, shop):
    stock(shop.store, {shop.cheese: 5000, shop.dough: 10000})
    orders = [place(shop, [line(shop.small)]) for _ in range(51)]
    client.force_login(manager)

    first = client.get("/admin/commandes/")
    second = client.get("/admin/commandes/", {"p": 2})

    assert len(first.context["page_obj"]) == 50
    assert [o.number for o in second.context["page_obj"]] == [orders[0].number]
    assert "Page 1 sur 2" in first.content.decode()


def orders_paid_and_not(shop, count):
    for index in range(count):
        order = place(shop, [line(shop.small)], payment_method="card_online" if index % 2 else "cash")
        if index % 2:
            pay_order(order, source_token=OK, idempotency_key=new_key(), now=NOW)


def list_queries(client, query):
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/admin/commandes/", query)
    assert response.status_code == 200
    return len(queries), response


@pytest.mark.parametrize("query", [{}, {"payment_state": "paid", "day": "2026-11-25"}])
def test_the_list_reads_a_bounded_number_of_queries_whatever_the_number_of_orders(
    client, manager, shop, query, django_assert_max_num_queries
):
    orders_paid_and_not(shop, 2)
    client.force_login(manager)
    client.get("/admin/commandes/")  # Wagtail's caches (site, menu) are warm from here
    few, _response = list_queries(client, query)
    orders_paid_and_not(shop, 40)

    with django_assert_max_num_queries(few):
        many, response = list_queries(client, query)

    assert len(response.context["page_obj"]) == (42 if not query else 21)
    assert many <= 20


# The detail --------------------------------------------------------------------------------------


def test_the_detail_shows_lines_totals_payments_and_the_timeline(client, manager, paid_order):
    client.force_login(manager)

    response = client.get(url(paid_order), HTTP_ACCEPT_LANGUAGE="fr")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Margherita (Petite)" in html
    assert "Bière blonde (33 cl)" in html
    assert "data-total>22,00\xa0€" in html
    assert "data-paid>22,00\xa0€" in html
    assert 'data-payment-state="paid">Payée' in html
    charge = Payment.objects.get(order=paid_order)
    assert f'data-payment="{charge.id}" data-kind="charge"' in html
    assert charge.provider_reference in html
    assert [e.to_status for e in response.context["events"]] == ["pending_payment", "received"]
    assert "Payée en ligne" in html
    assert response.context["can_refund"] is True
    assert response.context["can_record"] is False
    assert response.context["can_cancel"] is True


def detail_queries(client, order):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url(order)).status_code == 200
    return len(queries)


def test_the_detail_reads_as_many_queries_whatever_its_lines_payments_and_events(
    client, manager, shop, paid_order, django_assert_max_num_queries
):
    bigger = place(
        shop,
        [line(shop.small), line(shop.large, 2, shop.extra), line(shop.beer_size), line(shop.dessert_size)],
        payment_method="card_online",
    )
    pay_order(bigger, source_token=OK, idempotency_key=new_key(), now=NOW)
    cancel_order(bigger, user=manager, reason="Test", now=NOW)  # a refund and one more event
    client.force_login(manager)
    client.get(url(paid_order))
    few = detail_queries(client, paid_order)

    with django_assert_max_num_queries(few):
        detail_queries(client, bigger)

    assert few <= 22


# Cancelling --------------------------------------------------------------------------------------


def test_a_manager_cancels_an_order_with_a_reason(client, manager, shop, order):
    client.force_login(manager)

    response = client.post(url(order, "annuler"), {"reason": "Client injoignable"})

    assert response.status_code == 302
    assert response["Location"] == url(order)
    order.refresh_from_db()
    assert (order.status, order.cancel_reason) == ("cancelled", "Client injoignable")
    event = OrderEvent.objects.filter(order=order).last()
    assert (event.to_status, event.note, event.user) == ("cancelled", "Client injoignable", manager)
    assert StockLevel.objects.get(store=shop.store, ingredient=shop.dough).reserved == 0


def test_cancelling_a_paid_order_refunds_it_in_full(client, manager, paid_order):
    client.force_login(manager)

    client.post(url(paid_order, "annuler"), {"reason": "Rupture de mozzarella"})

    refund = Payment.objects.get(order=paid_order, kind="refund")
    assert (refund.amount, refund.status) == (D("22.00"), "succeeded")
    assert Order.objects.get(pk=paid_order.pk).status == "cancelled"


@pytest.mark.parametrize("reason", ["", "   "])
def test_cancelling_without_a_reason_is_refused_and_nothing_written(client, manager, order, reason):
    client.force_login(manager)

    response = client.post(url(order, "annuler"), {"reason": reason})

    assert response.status_code == 400
    assert response.context["form"].errors["reason"] == ["Indiquez le motif."]
    assert Order.objects.get(pk=order.pk).status == "received"
    assert OrderEvent.objects.filter(order=order).count() == 1


def test_cancelling_a_delivered_order_shows_the_service_refusal(client, manager, order):
    Order.objects.filter(pk=order.pk).update(status="collected")
    client.force_login(manager)

    response = client.post(url(order, "annuler"), {"reason": "Trop tard"})

    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == [
        f"La commande {order.number} ne peut pas être annulée : elle est retirée."
    ]
    assert Order.objects.get(pk=order.pk).status == "collected"


def test_every_form_needs_its_csrf_token(manager, order):
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)

    response = client.post(url(order, "annuler"), {"reason": "Client injoignable"})

    assert response.status_code == 403
    assert Order.objects.get(pk=order.pk).status == "received"
