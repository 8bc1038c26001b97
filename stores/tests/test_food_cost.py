"""Expected against actual use of ingredients: the figures, the screen, its CSV and who sees it."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from accounts.tests.factories import UserFactory
from menu.models import Ingredient
from menu.tests.factories import IngredientFactory, product_with_recipe
from ocpizza import roles
from stores.food_cost import food_cost_report
from stores.models import StoreRole
from stores.services import (
    consume_reservation,
    count_inventory,
    record_waste,
    release_ingredients,
    reserve_ingredients,
    restock,
    restore_reservation,
)

from .factories import StoreMembershipFactory

NOVEMBER = {"date_from": "2026-11-01", "date_to": "2026-11-30"}


def paris(day, hour, minute=0, month=11):
    return timezone.make_aware(datetime.datetime(2026, month, day, hour, minute))


@pytest.fixture
def priced_cheese(cheese):
    cheese.purchase_price = Decimal("8.40")  # € per kilo, the cheese is counted in grams
    cheese.save()
    return cheese


@pytest.fixture
def eggs(db):
    return IngredientFactory(name="Œufs", unit=Ingredient.Unit.PIECE, purchase_price=Decimal("0.25"))


@pytest.fixture
def pizzas(menu_page, priced_cheese, dough, eggs):
    reine = product_with_recipe(menu_page, title="Reine", recipe={dough: 200, priced_cheese: 100})
    florentine = product_with_recipe(
        menu_page, title="Florentine", recipe={dough: 200, priced_cheese: 80, eggs: 1}
    )
    return reine.sizes.get(), florentine.sizes.get()


def order(store, lines, reference, at):
    """An order placed (its recipe held) then started by the kitchen (its recipe consumed)."""
    reserve_ingredients(store=store, lines=lines, order_reference=reference, now=at)
    consume_reservation(store=store, order_reference=reference, now=at + datetime.timedelta(minutes=5))


@pytest.fixture
def november(bellecour, priced_cheese, dough, eggs, pizzas, head_office):
    """Bellecour's November: counted on 31 October and 30 November, between them a delivery, two
    orders started, one cancelled, some waste; the shelf at the end is short of the books."""
    reine, florentine = pizzas
    store, user = bellecour, head_office
    restock(
        store=store,
        lines=[(priced_cheese, 5000), (dough, 8000), (eggs, 30)],
        user=user,
        now=paris(30, 10, month=10),
    )
    # Dough and eggs are found as booked: only the cheese's correction is written.
    count_inventory(
        store=store,
        counts=[(priced_cheese, 4900), (dough, 8000), (eggs, 30)],
        user=user,
        now=paris(31, 22, month=10),
    )
    restock(store=store, lines=[(priced_cheese, 3000)], user=user, now=paris(5, 9))
    order(store, [(reine, 3, [])], "N-1", paris(6, 12))
    order(store, [(florentine, 2, [])], "N-2", paris(7, 19))
    reserve_ingredients(store=store, lines=[(reine, 1, [])], order_reference="N-3", now=paris(8, 20))
    release_ingredients(store=store, order_reference="N-3", now=paris(8, 20, 10))
    record_waste(
        store=store, lines=[(priced_cheese, 250), (eggs, 3)], user=user, reason="Périmé", now=paris(9, 8)
    )
    # Books: cheese 7190, dough 7000, eggs 25.
    count_inventory(
        store=store, counts=[(priced_cheese, 6900), (dough, 6950), (eggs, 24)], user=user, now=paris(30, 22)
    )
    restock(store=store, lines=[(priced_cheese, 1000)], user=user, now=paris(2, 9, month=12))
    return store


def figures(report):
    return [
        (
            row.name,
            row.opening,
            row.deliveries,
            row.closing,
            row.actual,
            row.expected,
            row.waste,
            row.gap,
            row.gap_cost,
        )
        for row in report.rows
    ]


NOVEMBER_FIGURES = [
    # name, opening, deliveries, closing, actual, expected, waste, gap, gap in euros
    ("Mozzarella", 4900, 3000, 6900, 1000, 460, 250, 290, Decimal("2.44")),  # 290 g at 8.40 €/kg
    ("Œufs", 30, 0, 24, 6, 2, 3, 1, Decimal("0.25")),
    ("Pâte", 8000, 0, 6950, 1050, 1000, 0, 50, None),  # no purchase price: units only
]


def test_the_report_compares_what_orders_used_with_what_left_the_shelf(november):
    report = food_cost_report(
        store=november, date_from=datetime.date(2026, 11, 1), date_to=datetime.date(2026, 11, 30)
    )

    assert report.problem == ""
    assert report.opening_count.at == paris(31, 22, month=10)
    assert report.closing_count.at == paris(30, 22)
    assert figures(report) == NOVEMBER_FIGURES
    assert report.gap_cost == Decimal("2.69")
    assert report.waste_cost == Decimal("2.85")  # 250 g at 8.40 €/kg + 3 eggs at 0.25 €
    assert [row.name for row in report.unpriced] == ["Pâte"]


def test_a_start_undone_by_the_kitchen_is_expected_once(november, pizzas):
    """The kitchen starts N-4 by mistake, undoes it (its consumption restored), starts it again:
    the recipe was used once, so it is expected once."""
    reine, _florentine = pizzas
    reserve_ingredients(store=november, lines=[(reine, 2, [])], order_reference="N-4", now=paris(10, 12))
    consume_reservation(store=november, order_reference="N-4", now=paris(10, 12, 5))
    restore_reservation(store=november, order_reference="N-4", now=paris(10, 12, 6))
    consume_reservation(store=november, order_reference="N-4", now=paris(10, 12, 7))

    report = food_cost_report(
        store=november, date_from=datetime.date(2026, 11, 1), date_to=datetime.date(2026, 11, 30)
    )

    cheese = next(row for row in report.rows if row.name == "Mozzarella")
    assert cheese.expected == 460 + 2 * 100  # the November orders, plus two Reines once


def test_without_a_count_before_the_period_it_opens_on_the_first_count_inside(november):
    report = food_cost_report(
        store=november, date_from=datetime.date(2026, 10, 1), date_to=datetime.date(2026, 11, 30)
    )

    assert report.opening_count.at == paris(31, 22, month=10)
    assert figures(report) == NOVEMBER_FIGURES


def test_a_period_with_no_closing_count_says_so_and_shows_nothing(november):
    report = food_cost_report(
        store=november, date_from=datetime.date(2026, 12, 1), date_to=datetime.date(2026, 12, 31)
    )

    assert report.rows == []
    assert str(report.problem) == (
        "Aucun inventaire entre celui du 30/11/2026 22:00 et la fin du 31/12/2026 : les écarts se "
        "mesurent entre deux inventaires. Faites un inventaire pour clore la période, ou choisissez "
        "une période qui en contient un."
    )


def test_a_store_never_counted_says_so(vaise, cheese, head_office):
    restock(store=vaise, lines=[(cheese, 1000)], user=head_office, now=paris(3, 9))

    report = food_cost_report(
        store=vaise, date_from=datetime.date(2026, 11, 1), date_to=datetime.date(2026, 11, 30)
    )

    assert report.rows == [] and report.opening_count is None
    assert str(report.problem).startswith("Aucun inventaire avant le 30/11/2026 dans ce point de vente")


def test_expected_use_is_the_recipe_even_when_the_shelf_had_less(bellecour, dough, menu_page, head_office):
    pizza = product_with_recipe(menu_page, title="Marinara", recipe={dough: 200}).sizes.get()
    restock(store=bellecour, lines=[(dough, 1000)], user=head_office, now=paris(1, 9))
    count_inventory(store=bellecour, counts=[(dough, 900)], user=head_office, now=paris(1, 10))
    reserve_ingredients(store=bellecour, lines=[(pizza, 4, [])], order_reference="M-1", now=paris(2, 12))
    count_inventory(store=bellecour, counts=[(dough, 500)], user=head_office, now=paris(2, 13))
    consume_reservation(store=bellecour, order_reference="M-1", now=paris(2, 14))  # takes 500, not 800
    count_inventory(
        store=bellecour, counts=[(dough, 0)], user=head_office, now=paris(3, 22)
    )  # writes nothing
    restock(store=bellecour, lines=[(dough, 100)], user=head_office, now=paris(4, 9))
    count_inventory(store=bellecour, counts=[(dough, 90)], user=head_office, now=paris(4, 22))

    report = food_cost_report(
        store=bellecour, date_from=datetime.date(2026, 11, 2), date_to=datetime.date(2026, 11, 4)
    )

    assert report.opening_count.at == paris(1, 10)
    assert figures(report) == [("Pâte", 900, 100, 90, 910, 800, 0, 110, None)]


@pytest.mark.parametrize("orders", [1, 40])
def test_the_report_takes_four_queries_whatever_the_number_of_movements(
    bellecour, dough, menu_page, head_office, orders, django_assert_max_num_queries
):
    pizza = product_with_recipe(menu_page, title="Marinara", recipe={dough: 200}).sizes.get()
    restock(store=bellecour, lines=[(dough, 10000)], user=head_office, now=paris(1, 9))
    count_inventory(store=bellecour, counts=[(dough, 9990)], user=head_office, now=paris(1, 10))
    for number in range(orders):
        order(bellecour, [(pizza, 1, [])], f"Q-{number}", paris(2, 12))
    count_inventory(
        store=bellecour, counts=[(dough, 9000 - orders * 200)], user=head_office, now=paris(3, 22)
    )

    with django_assert_max_num_queries(4):
        report = food_cost_report(
            store=bellecour, date_from=datetime.date(2026, 11, 2), date_to=datetime.date(2026, 11, 3)
        )

    assert figures(report) == [
        ("Pâte", 9990, 0, 9000 - orders * 200, 990 + orders * 200, orders * 200, 0, 990, None)
    ]


# The screen ----------------------------------------------------------------------------------


def url(store, **query):
    params = "&".join(f"{key}={value}" for key, value in {**NOVEMBER, **query}.items())
    return f"/admin/stock/{store.id}/ecarts/?{params}"


def test_the_manager_sees_the_worst_gaps_first_with_the_counts_used(client, manager, november):
    client.force_login(manager)

    response = client.get(url(november), HTTP_ACCEPT_LANGUAGE="fr")

    html = response.content.decode()
    assert response.status_code == 200
    assert "de l'inventaire du 31/10/2026 22:00 à l'inventaire du 30/11/2026 22:00" in html
    assert (
        html.index('data-ingredient="Mozzarella"')
        < html.index('data-ingredient="Œufs"')
        < html.index('data-ingredient="Pâte"')
    )
    assert "2,44 €" in html and "sans prix" in html and "8,40 € / kg" in html and "0,25 € / pièce" in html
    assert "Écart inexpliqué chiffré : 2,69 € ; pertes déclarées chiffrées : 2,85 €." in html
    assert "1 ingrédient sans prix d'achat n'est compté qu'en quantité." in html
    assert "Consommation réelle = stock d'ouverture + livraisons − stock de clôture" in html


def test_the_screen_explains_a_period_without_count(client, manager, november):
    client.force_login(manager)

    html = client.get(url(november, date_from="2026-12-01", date_to="2026-12-31")).content.decode()

    assert "data-food-cost-problem" in html
    assert "Aucun inventaire entre celui du 30/11/2026 22:00 et la fin du 31/12/2026" in html
    assert "data-ingredient" not in html and "format=csv" not in html


def test_a_reversed_period_is_refused_with_a_french_message(client, manager, november):
    client.force_login(manager)

    response = client.get(url(november, date_from="2026-11-30", date_to="2026-11-01"))

    assert response.status_code == 200
    assert "La date de début doit précéder la date de fin." in response.content.decode()
    assert (
        client.get(url(november, date_from="2026-11-30", date_to="2026-11-01", format="csv")).status_code
        == 400
    )


def test_without_dates_the_screen_shows_this_month(client, manager, bellecour):
    client.force_login(manager)
    today = timezone.localdate()

    html = client.get(f"/admin/stock/{bellecour.id}/ecarts/").content.decode()

    assert f'value="{today.replace(day=1).isoformat()}"' in html and f'value="{today.isoformat()}"' in html


def test_the_csv_holds_the_counts_and_every_figure(client, manager, november):
    november.title = "=Bellecour"  # a title a spreadsheet would run as a formula
    november.save()
    client.force_login(manager)

    response = client.get(url(november, format="csv"))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="ecarts-bellecour-20261101-20261130.csv"'
    assert response.content.decode("utf-8") == (
        "\ufeffInventaire d'ouverture;2026-10-31 22:00:00;Inventaire de clôture;2026-11-30 22:00:00\r\n"
        "Point de vente;Ingrédient;Unité;Stock d'ouverture;Livraisons;Stock de clôture;"
        "Consommation réelle;Consommation théorique;Pertes déclarées;Écart inexpliqué;"
        "Prix d'achat HT;Prix par;Écart en euros\r\n"
        "'=Bellecour;Mozzarella;grammes;4900;3000;6900;1000;460;250;290;8,40;€ / kg;2,44\r\n"
        "'=Bellecour;Œufs;pièces;30;0;24;6;2;3;1;0,25;€ / pièce;0,25\r\n"
        "'=Bellecour;Pâte;grammes;8000;0;6950;1050;1000;0;50;;€ / kg;\r\n"
    )


@pytest.mark.parametrize("orders", [1, 30])
def test_the_screen_takes_a_bounded_number_of_queries(
    client, manager, bellecour, dough, menu_page, head_office, orders, django_assert_max_num_queries
):
    pizza = product_with_recipe(menu_page, title="Marinara", recipe={dough: 200}).sizes.get()
    restock(store=bellecour, lines=[(dough, 10000)], user=head_office, now=paris(1, 9))
    count_inventory(store=bellecour, counts=[(dough, 9990)], user=head_office, now=paris(1, 10))
    for number in range(orders):
        order(bellecour, [(pizza, 1, [])], f"Q-{number}", paris(2, 12))
    count_inventory(store=bellecour, counts=[(dough, 1000)], user=head_office, now=paris(3, 22))
    client.force_login(manager)

    with django_assert_max_num_queries(20):
        response = client.get(url(bellecour))

    assert response.status_code == 200 and 'data-ingredient="Pâte"' in response.content.decode()


# Who sees it -------------------------------------------------------------------------------


def test_head_office_sees_any_store(client, head_office, november):
    client.force_login(head_office)

    assert client.get(url(november)).status_code == 200


def test_a_manager_of_another_store_gets_403(client, vaise, november):
    other = UserFactory(groups=[roles.STORE_MANAGERS])
    StoreMembershipFactory(user=other, store=vaise, role=StoreRole.MANAGER)
    client.force_login(other)

    assert client.get(url(november)).status_code == 403
    assert client.get(url(november, format="csv")).status_code == 403
    assert client.get(url(vaise)).status_code == 200


def test_marketing_gets_403(client, marketing, november):
    client.force_login(marketing)

    assert client.get(url(november)).status_code == 403
    assert client.get(url(november, format="csv")).status_code == 403


def test_a_crew_member_gets_the_admin_login_or_403_with_admin_access(client, november):
    """Without admin access Wagtail's own rule applies (its login page), as on every stock screen;
    with it, the membership of a crew member still shows no stock."""
    crew = UserFactory(groups=[roles.STORE_STAFF])
    StoreMembershipFactory(user=crew, store=november, role=StoreRole.STAFF)
    client.force_login(crew)

    response = client.get(url(november))

    assert response.status_code == 302 and response["Location"].startswith("/admin/login/?next=")
    crew.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(crew)
    assert client.get(url(november)).status_code == 403
    assert client.get(url(november, format="csv")).status_code == 403


def test_an_anonymous_visitor_is_sent_to_the_admin_login(client, november):
    response = client.get(f"/admin/stock/{november.id}/ecarts/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=")


def test_the_stock_screen_links_to_the_report(client, manager, bellecour):
    client.force_login(manager)

    assert (
        f'href="/admin/stock/{bellecour.id}/ecarts/"'
        in client.get(f"/admin/stock/{bellecour.id}/").content.decode()
    )


# The group ---------------------------------------------------------------------------------


def test_head_office_compares_the_stores_largest_gap_first(client, head_office, november, vaise):
    client.force_login(head_office)

    response = client.get("/admin/stock/ecarts/?date_from=2026-11-01&date_to=2026-11-30")

    html = response.content.decode()
    assert response.status_code == 200
    assert html.index('data-store="OC Pizza Bellecour"') < html.index('data-store="OC Pizza Vaise"')
    assert (
        "du 31/10/2026 22:00 au 30/11/2026 22:00" in html
        and "2,69 €" in html
        and "Mozzarella (+290 grammes)" in html
    )
    assert "Aucun inventaire avant le 30/11/2026 dans ce point de vente" in html  # Vaise was never counted
    assert f'href="/admin/stock/{november.id}/ecarts/?date_from=2026-11-01&amp;date_to=2026-11-30"' in html


def test_only_head_office_opens_the_group_view(client, manager, marketing, november):
    for user in (manager, marketing):
        client.force_login(user)
        assert client.get("/admin/stock/ecarts/").status_code == 403


@pytest.mark.parametrize("orders", [1, 30])
def test_the_group_view_takes_a_bounded_number_of_queries(
    client, head_office, bellecour, vaise, dough, menu_page, orders, django_assert_max_num_queries
):
    pizza = product_with_recipe(menu_page, title="Marinara", recipe={dough: 200}).sizes.get()
    for store in (bellecour, vaise):
        restock(store=store, lines=[(dough, 10000)], user=head_office, now=paris(1, 9))
        count_inventory(store=store, counts=[(dough, 9990)], user=head_office, now=paris(1, 10))
        for number in range(orders):
            order(store, [(pizza, 1, [])], f"Q-{number}", paris(2, 12))
        count_inventory(store=store, counts=[(dough, 1000)], user=head_office, now=paris(3, 22))
    client.force_login(head_office)

    with django_assert_max_num_queries(30):
        response = client.get("/admin/stock/ecarts/?date_from=2026-11-02&date_to=2026-11-03")

    assert response.status_code == 200 and response.content.decode().count("Pâte (+") == 2


def test_the_csv_of_a_period_without_count_holds_the_reason_alone(client, manager, november):
    client.force_login(manager)

    response = client.get(url(november, date_from="2026-12-01", date_to="2026-12-31", format="csv"))

    assert response.status_code == 200
    assert response.content.decode("utf-8") == (
        "\ufeffAucun inventaire entre celui du 30/11/2026 22:00 et la fin du 31/12/2026 : les écarts se "
        "mesurent entre deux inventaires. Faites un inventaire pour clore la période, ou choisissez une "
        "période qui en contient un.\r\n"
    )


@pytest.mark.parametrize(
    "query",
    [
        {"date_from": "2026-01-01", "date_to": "9999-12-31"},
        {"date_from": "0001-01-01", "date_to": "2026-11-30"},
    ],
)
def test_a_date_out_of_the_calendar_is_a_french_error_not_a_crash(client, manager, november, query):
    client.force_login(manager)

    response = client.get(url(november, **query))

    assert response.status_code == 200
    assert "Choisissez une date entre 2000 et 2100." in response.content.decode()
