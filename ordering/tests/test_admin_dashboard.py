"""The Wagtail dashboard's order panels: today's orders per status and store, and late orders."""

import dataclasses
import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import UserFactory
from ocpizza import roles
from ordering.dashboard import LateOrder, late_orders, paris_day, todays_orders
from ordering.models import Order
from ordering.services import Contact, cancel_order, mark_collected, mark_ready, start_preparing
from stores.models import StorePage, StoreRole
from stores.tests.factories import StoreMembershipFactory, StorePageFactory, stock

from .factories import NOW, configure, line, place

DASHBOARD = "/admin/"
PARIS = timezone.get_default_timezone()


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


def placed_today(shop, *, promised_in=datetime.timedelta(minutes=30), **overrides):
    """An order placed the real way, then moved to now (the panels read the real clock)."""
    order = place(shop, [line(shop.small)], **overrides)
    now = timezone.now()
    Order.objects.filter(pk=order.pk).update(created_at=now, promised_at=now + promised_in)
    order.refresh_from_db()
    return order


def store_row(html, store):
    match = re.search(rf'<tr data-store="{store.id}">(.*?)</tr>', html, flags=re.S)
    return match.group(1) if match else None


def cell(store, status, number):
    day = timezone.localdate().isoformat()
    url = f"/admin/commandes/?store={store.id}&amp;day={day}&amp;status={status}"
    return f'<td data-status="{status}"><a href="{url}">{number}</a></td>'


@pytest.fixture
def day_of_orders(shop, other_shop):
    """Vaise: two received and one preparing today, one received two days ago; Bellecour: one
    cancelled today."""
    received = [placed_today(shop), placed_today(shop)]
    preparing = start_preparing(placed_today(shop))
    old = place(shop, [line(shop.small)])
    Order.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=2))
    cancelled = cancel_order(placed_today(other_shop), user=None, reason="Doublon")
    return {"received": received, "preparing": preparing, "cancelled": cancelled}


# Today's orders ----------------------------------------------------------------------------------


def test_head_office_sees_todays_orders_per_status_in_every_store(
    client, head_office, shop, other_shop, day_of_orders
):
    client.force_login(head_office)

    html = client.get(DASHBOARD).content.decode()

    assert "Activité du jour" in html
    vaise, bellecour = store_row(html, shop.store), store_row(html, other_shop.store)
    assert cell(shop.store, "received", 2) in vaise
    assert cell(shop.store, "preparing", 1) in vaise
    assert '<td data-status="cancelled">0</td>' in vaise
    assert "<td data-total>3</td>" in vaise
    assert '<td data-status="received">0</td>' in bellecour
    assert cell(other_shop.store, "cancelled", 1) in bellecour
    assert "<td data-total>1</td>" in bellecour
    header = re.search(
        r"<thead>(.*?)</thead>", html.split('id="todays-orders-content"', 1)[1], flags=re.S
    ).group(1)
    assert re.findall(r'<th scope="col">([^<]+)</th>', header) == [
        "Point de vente",
        "Reçue",
        "En préparation",
        "Annulée",
        "Total",
    ]


def test_a_manager_sees_the_orders_of_their_store_only(client, manager, shop, other_shop, day_of_orders):
    client.force_login(manager)

    html = client.get(DASHBOARD).content.decode()

    assert "<td data-total>3</td>" in store_row(html, shop.store)
    assert store_row(html, other_shop.store) is None
    assert "OC Pizza Bellecour" not in html


def test_a_store_without_orders_today_says_so(client, manager, shop):
    place(shop)  # on 25/11/2026
    client.force_login(manager)

    html = client.get(DASHBOARD).content.decode()

    day = timezone.localdate().strftime("%d/%m/%Y")
    assert f"Aucune commande aujourd'hui ({day}) dans vos points de vente." in html


def test_the_day_is_the_paris_day(shop):
    """Just after midnight in Paris it is still the day before in UTC."""
    first_minutes = timezone.make_aware(datetime.datetime(2026, 11, 25, 0, 30), PARIS)
    last_minute = timezone.make_aware(datetime.datetime(2026, 11, 24, 23, 59), PARIS)
    for moment in (first_minutes, last_minute):
        order = place(shop)
        Order.objects.filter(pk=order.pk).update(created_at=moment)

    today = todays_orders([shop.store], head_office=False, now=NOW)

    assert today.day == datetime.date(2026, 11, 25)
    assert today.rows[0].counts == {"received": 1}


def test_a_day_when_the_clocks_change_lasts_23_hours():
    _day, start, end = paris_day(timezone.make_aware(datetime.datetime(2026, 3, 29, 12, 0), PARIS))

    assert end.astimezone(datetime.UTC) - start.astimezone(datetime.UTC) == datetime.timedelta(hours=23)


# Late orders -------------------------------------------------------------------------------------


def test_late_orders_are_open_orders_past_their_promised_time_longest_late_first(client, manager, shop):
    past = -datetime.timedelta(minutes=90, seconds=20)
    late = placed_today(shop, promised_in=past)
    later = placed_today(shop, promised_in=-datetime.timedelta(hours=3))
    placed_today(shop, promised_in=datetime.timedelta(minutes=20))  # not yet due
    collected = mark_ready(start_preparing(placed_today(shop, promised_in=past)))
    mark_collected(collected, payment_method="cash", amount_received=collected.total)
    cancel_order(placed_today(shop, promised_in=past), user=None, reason="Doublon")
    placed_today(shop, promised_in=past, payment_method="card_online")  # waits for its payment
    client.force_login(manager)

    html = client.get(DASHBOARD).content.decode()

    assert re.findall(r'data-late-order="([^"]+)"', html) == [later.number, late.number]
    row = re.search(rf'<tr data-late-order="{late.number}">(.*?)</tr>', html, flags=re.S).group(1)
    assert f'<a href="/admin/commandes/{late.number}/">{late.number}</a>' in row
    assert "<td>OC Pizza Vaise</td>" in row
    assert "<td>Reçue</td>" in row
    assert timezone.localtime(late.promised_at).strftime("%d/%m/%Y %H:%M") in row
    assert "<td>1 h 30</td>" in row


def test_the_late_panel_shows_ten_orders_and_links_to_the_others(client, manager, shop):
    stock(shop.store, {shop.cheese: 2000, shop.dough: 4000})
    for minutes in range(12):
        placed_today(shop, promised_in=-datetime.timedelta(minutes=10 + minutes))
    client.force_login(manager)

    html = client.get(DASHBOARD).content.decode()

    assert len(re.findall(r"data-late-order=", html)) == 10
    assert '<a href="/admin/commandes/?late=on" data-more-late>Voir les 2 autres retards</a>' in html


def test_no_late_order_says_so(client, manager, shop):
    placed_today(shop)
    client.force_login(manager)

    assert "Aucune commande en retard." in client.get(DASHBOARD).content.decode()


def test_late_orders_count_the_minutes_since_the_promised_time(shop, manager):
    order = place(shop, contact=Contact(name="Paul Durand", phone="0701020304"), source="phone")
    now = order.promised_at + datetime.timedelta(minutes=65, seconds=59)

    rows, total = late_orders([shop.store], head_office=False, now=now)

    assert [(row.order, row.minutes, row.delay) for row in rows] == [(order, 65, "1 h 05")]
    assert total == 1
    assert late_orders([shop.store], head_office=False, now=order.promised_at) == ([], 0)
    assert LateOrder(order=order, minutes=7).delay == "7 min"
    assert LateOrder(order=order, minutes=4 * 1440 + 6 * 60 + 59).delay == "4 j 6 h"


# Who sees the panels -----------------------------------------------------------------------------


def test_marketing_sees_no_order_panel(client, day_of_orders):
    client.force_login(UserFactory(groups=[roles.MARKETING]))

    response = client.get(DASHBOARD)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Activité du jour" not in html
    assert "Heure promise dépassée" not in html


def test_a_crew_member_with_admin_access_but_no_managed_store_sees_no_order_panel(
    client, shop, day_of_orders
):
    crew = member(shop.store, "eric@oc-pizza.fr", role=StoreRole.STAFF)
    client.force_login(crew)

    response = client.get(DASHBOARD)

    assert response.status_code == 200
    assert "Activité du jour" not in response.content.decode()


def test_crew_without_admin_access_and_anonymous_visitors_go_to_the_login(client, shop):
    assert client.get(DASHBOARD)["Location"] == "/admin/login/?next=/admin/"
    crew = member(shop.store, "eric@oc-pizza.fr", group=roles.STORE_STAFF, role=StoreRole.STAFF)
    client.force_login(crew)

    response = client.get(DASHBOARD)

    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/admin/"


def test_low_stock_keeps_its_one_panel_beside_the_order_panels(client, manager, shop):
    stock(shop.store, {}, thresholds={shop.basil: 1000})
    placed_today(shop)  # reserves basil: the free quantity goes down under the threshold
    client.force_login(manager)

    html = client.get(DASHBOARD).content.decode()

    assert html.count("Stock bas dans vos points de vente") == 1
    assert "Activité du jour" in html
    assert html.index("Activité du jour") < html.index("Heure promise dépassée")


# Queries -----------------------------------------------------------------------------------------


def dashboard_queries(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(DASHBOARD)
    assert response.status_code == 200
    return len(queries), response.content.decode()


@pytest.mark.parametrize("who", ["head_office", "manager"])
def test_the_panels_read_a_bounded_number_of_queries_whatever_the_number_of_orders(
    client, request, shop, other_shop, who, django_assert_max_num_queries
):
    user = request.getfixturevalue(who)
    placed_today(shop)
    client.force_login(user)
    client.get(DASHBOARD)  # Wagtail's caches are warm from here
    few, _html = dashboard_queries(client)
    stock(shop.store, {shop.cheese: 4000, shop.dough: 8000})
    for index in range(30):
        order = placed_today(shop, promised_in=datetime.timedelta(minutes=-5 if index % 2 else 30))
        if index % 3 == 0:
            start_preparing(order)
        if index % 10 == 0:
            placed_today(other_shop)

    with django_assert_max_num_queries(few):
        _many, html = dashboard_queries(client)

    assert len(re.findall(r"data-late-order=", html)) == 10
    assert StorePage.objects.count() == 2
