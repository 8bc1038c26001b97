"""The sales reports (ordering.reports): what counts, exact figures, Paris periods, bounded queries."""

import dataclasses
import datetime
from decimal import Decimal

import pytest

from accounts.tests.factories import UserFactory
from ocpizza import roles
from ordering.models import Order
from ordering.reports import DAY, MONTH, PARIS, WEEK, Period, sales_report
from ordering.services import (
    cancel_order,
    mark_collected,
    mark_delivered,
    mark_ready,
    pay_order,
    refund_order,
    send_out,
    start_preparing,
)
from stores.models import StorePage, StoreRole
from stores.tests.factories import StoreMembershipFactory, StorePageFactory, stock

from .factories import NOW, configure, line, new_key, place

D = Decimal
OK = "cnon:card-nonce-ok"
MINUTE = datetime.timedelta(minutes=1)
WEDNESDAY = NOW.date()  # 2026-11-25


@pytest.fixture
def other_shop(shop, store_index):
    store = StorePageFactory(parent=store_index, slug="bellecour", title="OC Pizza Bellecour")
    configure(store)
    stock(store, {shop.cheese: 5000, shop.dough: 10000, shop.basil: 500, shop.beer_stock: 20})
    return dataclasses.replace(shop, store=store)


def placed_at(order, moment):
    """Move an order (and its events) to `moment`, as if it had been placed then."""
    Order.objects.filter(pk=order.pk).update(created_at=moment)
    order.events.update(created_at=moment)
    order.refresh_from_db()
    return order


@pytest.fixture
def day_orders(shop, other_shop):
    """Wednesday 25/11/2026 at Vaise: a collected pickup (18,00 €, cash, web), a delivered phone
    order paid online and partly refunded (26,50 € − 5,00 €, late), a cancelled counter order,
    an unpaid online order; at Bellecour, one collected order (18,00 €)."""
    pickup = place(shop, now=NOW)
    start_preparing(pickup, now=NOW + 5 * MINUTE)
    mark_ready(pickup, now=NOW + 15 * MINUTE)
    mark_collected(pickup, payment_method="cash", amount_received=pickup.total, now=NOW + 25 * MINUTE)

    delivery = place(
        shop,
        [line(shop.large, 2), line(shop.beer_size)],
        fulfilment="delivery",
        payment_method="card_online",
        source=Order.Source.PHONE,
        now=NOW,
    )
    pay_order(delivery, source_token=OK, idempotency_key=new_key(), now=NOW)
    start_preparing(delivery, now=NOW + 10 * MINUTE)
    mark_ready(delivery, now=NOW + 25 * MINUTE)
    send_out(delivery, now=NOW + 30 * MINUTE)
    mark_delivered(delivery, now=NOW + 75 * MINUTE)
    refund_order(
        delivery,
        amount=D("5.00"),
        reason="Pizza froide",
        user=None,
        idempotency_key=new_key(),
        now=NOW + 80 * MINUTE,
    )

    cancelled = place(shop, source=Order.Source.COUNTER, now=NOW)
    cancel_order(cancelled, reason="Client parti", now=NOW + MINUTE)

    unpaid = place(shop, payment_method="card_online", now=NOW)

    elsewhere = place(other_shop, now=NOW)
    return {
        "pickup": pickup,
        "delivery": delivery,
        "cancelled": cancelled,
        "unpaid": unpaid,
        "other": elsewhere,
    }


@pytest.fixture
def head_office(db):
    return UserFactory(email="henri@oc-pizza.fr", groups=[roles.HEAD_OFFICE])


def member_of(store, email, role=StoreRole.MANAGER, group=roles.STORE_MANAGERS):
    user = UserFactory(email=email, groups=[group])
    StoreMembershipFactory(user=user, store=store, role=role)
    return user


@pytest.fixture
def manager(shop):
    return member_of(shop.store, "romain@oc-pizza.fr")


def utc(moment):
    return moment.astimezone(datetime.UTC)


def wednesday():
    return Period.containing(DAY, WEDNESDAY)


REPORT = "/admin/rapports/"
CSV = "/admin/rapports/csv/"
WEDNESDAY_QUERY = {"period": "day", "date": "2026-11-25"}


# The figures --------------------------------------------------------------------------------------


def test_the_figures_of_a_day_per_store_and_their_total(day_orders, shop, other_shop):
    report = sales_report(StorePage.objects.all(), wednesday())

    bellecour, vaise = report.columns
    assert (bellecour.name, vaise.name, report.total.name) == (
        "OC Pizza Bellecour",
        "OC Pizza Vaise",
        "Total",
    )
    # Vaise: the pickup (18,00) and the delivery (30,50, of which 5,00 refunded); the cancelled and
    # the unpaid orders bring nothing.
    assert vaise.orders == 2
    assert vaise.revenue_incl_vat == D("43.50")
    assert vaise.refunds == D("5.00")
    assert vaise.cancelled == 1
    # Per rate, refund spread over the delivery's amounts (25,50 / 30,50 kept): 10 % on
    # 18,00 + 26,50 × 25,5/30,5 = 40,16; 20 % on 4,00 × 25,5/30,5 = 3,34.
    assert [(line.rate, line.total, line.vat, line.base) for line in vaise.vat] == [
        (D("10.00"), D("40.16"), D("3.65"), D("36.51")),
        (D("20.00"), D("3.34"), D("0.56"), D("2.78")),
    ]
    assert vaise.revenue_excl_vat == D("39.29")
    assert vaise.average_basket == D("21.75")
    assert [(r.value, r.orders, r.revenue, r.percent) for r in vaise.source_shares()] == [
        ("web", 1, D("18.00"), D("50.0")),
        ("phone", 1, D("25.50"), D("50.0")),
        ("counter", 0, D("0.00"), D("0.0")),
    ]
    assert [(r.value, r.orders) for r in vaise.payment_shares() if r.orders] == [
        ("card_online", 1),
        ("cash", 1),
    ]
    assert [(p.name, p.quantity, p.amount) for p in vaise.top_products] == [
        ("Margherita", 4, D("42.00")),
        ("Bière blonde", 1, D("4.00")),
    ]
    # Received → ready: 15 and 25 minutes; → delivered: 75 minutes (late: promised at 12:50).
    assert (vaise.ready_count, vaise.ready_minutes) == (2, D("20.0"))
    assert (vaise.delivered_count, vaise.delivered_minutes) == (1, D("75.0"))
    assert vaise.late == 1

    assert (bellecour.orders, bellecour.revenue_incl_vat, bellecour.revenue_excl_vat) == (
        1,
        D("18.00"),
        D("16.36"),
    )
    assert (bellecour.ready_minutes, bellecour.late, bellecour.cancelled) == (None, 0, 0)

    total = report.total
    assert (total.orders, total.revenue_incl_vat, total.refunds, total.cancelled, total.late) == (
        3,
        D("61.50"),
        D("5.00"),
        1,
        1,
    )
    assert [(line.rate, line.vat) for line in total.vat] == [(D("10.00"), D("5.29")), (D("20.00"), D("0.56"))]
    assert total.revenue_excl_vat == D("55.65")
    assert total.average_basket == D("20.50")
    assert [(p.name, p.quantity, p.amount) for p in total.top_products] == [
        ("Margherita", 6, D("60.00")),
        ("Bière blonde", 1, D("4.00")),
    ]
    assert (total.ready_minutes, total.delivered_minutes) == (D("20.0"), D("75.0"))
    noon = [bucket for bucket in report.series if bucket.orders]
    assert [(b.label, b.orders, b.revenue) for b in noon] == [("12h", 3, D("61.50"))]
    assert len(report.series) == 24


def test_a_refund_giving_back_a_lowered_order_is_not_taken_off_twice(shop):
    """An order lowered after its online payment gives back the difference: its revenue is its
    new total, not the new total minus that refund."""
    from ordering.services import change_order

    order = place(shop, [line(shop.small, 2), line(shop.beer_size)], payment_method="card_online", now=NOW)
    pay_order(order, source_token=OK, idempotency_key=new_key(), now=NOW)
    change_order(order, lines=[line(shop.small, 2)], user=None, now=NOW + MINUTE)
    order.refresh_from_db()
    assert (order.total, order.refunded_amount()) == (D("18.00"), D("4.00"))

    vaise = sales_report(StorePage.objects.all(), wednesday()).columns[0]

    assert (vaise.revenue_incl_vat, vaise.refunds) == (D("18.00"), D("0.00"))


def test_a_day_runs_from_paris_midnight_to_paris_midnight(shop):
    late_evening = placed_at(place(shop, now=NOW), datetime.datetime(2026, 11, 25, 23, 30, tzinfo=PARIS))
    just_after = placed_at(place(shop, now=NOW), datetime.datetime(2026, 11, 26, 0, 30, tzinfo=PARIS))
    assert just_after.created_at.astimezone(datetime.UTC).date() == WEDNESDAY  # 23:30 UTC the 25th

    wednesday_report = sales_report(StorePage.objects.all(), wednesday())
    thursday = sales_report(StorePage.objects.all(), Period.containing(DAY, datetime.date(2026, 11, 26)))

    assert wednesday_report.columns[0].orders == 1
    assert [b.label for b in wednesday_report.series if b.orders] == ["23h"]
    assert thursday.columns[0].orders == 1
    assert [b.label for b in thursday.series if b.orders] == ["00h"]
    assert late_evening.created_at < just_after.created_at


def test_the_week_of_the_change_to_summer_time(shop):
    """Monday 23/03/2026 to Sunday 29/03/2026, when clocks go forward: 167 hours."""
    week = Period.containing(WEEK, datetime.date(2026, 3, 25))
    assert (week.first_day, week.last_day) == (datetime.date(2026, 3, 23), datetime.date(2026, 3, 29))
    assert utc(week.end) - utc(week.start) == datetime.timedelta(hours=167)
    assert [b.label for b in sales_report(StorePage.objects.none(), week).series] == [
        "23/03", "24/03", "25/03", "26/03", "27/03", "28/03", "29/03"
    ]  # fmt: skip
    placed_at(place(shop, now=NOW), datetime.datetime(2026, 3, 23, 0, 15, tzinfo=PARIS))
    placed_at(place(shop, now=NOW), datetime.datetime(2026, 3, 29, 23, 30, tzinfo=PARIS))  # 21:30 UTC
    placed_at(place(shop, now=NOW), datetime.datetime(2026, 3, 30, 0, 30, tzinfo=PARIS))  # 22:30 UTC, Sunday
    placed_at(place(shop, now=NOW), datetime.datetime(2026, 3, 22, 23, 30, tzinfo=PARIS))

    report = sales_report(StorePage.objects.all(), week)

    assert report.columns[0].orders == 2
    assert [(b.label, b.orders) for b in report.series if b.orders] == [("23/03", 1), ("29/03", 1)]
    assert sales_report(StorePage.objects.all(), week.next()).columns[0].orders == 1


def test_periods_move_by_day_week_and_month():
    day = Period.containing(DAY, datetime.date(2026, 3, 1))
    assert (day.previous().first_day, day.next().first_day) == (
        datetime.date(2026, 2, 28),
        datetime.date(2026, 3, 2),
    )
    month = Period.containing(MONTH, datetime.date(2026, 12, 15))
    assert (month.first_day, month.last_day) == (datetime.date(2026, 12, 1), datetime.date(2026, 12, 31))
    assert (month.previous().first_day, month.next().first_day) == (
        datetime.date(2026, 11, 1),
        datetime.date(2027, 1, 1),
    )
    assert str(month.label) == "décembre 2026"
    assert str(Period.containing(WEEK, WEDNESDAY).label) == "semaine 48, du 23/11/2026 au 29/11/2026"
    # October 2026 ends with the change to winter time: 31 days, 745 hours.
    october = Period.containing(MONTH, datetime.date(2026, 10, 10))
    assert utc(october.end) - utc(october.start) == datetime.timedelta(hours=745)


# Who sees what -------------------------------------------------------------------------------------


def test_head_office_sees_every_store_side_by_side_with_a_total(client, head_office, day_orders):
    client.force_login(head_office)

    response = client.get(REPORT, WEDNESDAY_QUERY)

    assert response.status_code == 200
    assert [c.name for c in response.context["columns"]] == ["OC Pizza Bellecour", "OC Pizza Vaise", "Total"]
    html = response.content.decode()
    assert "61,50" in html and "43,50" in html
    assert '<title id="chart-stores-title">' in html


def test_a_manager_sees_only_their_store(client, manager, day_orders):
    client.force_login(manager)

    response = client.get(REPORT, WEDNESDAY_QUERY)

    assert response.status_code == 200
    assert [c.name for c in response.context["columns"]] == ["OC Pizza Vaise"]
    html = response.content.decode()
    assert "Bellecour" not in html
    assert "43,50" in html and "61,50" not in html
    csv_text = client.get(CSV, WEDNESDAY_QUERY).content.decode("utf-8-sig")
    assert "Bellecour" not in csv_text
    assert "Indicateur;OC Pizza Vaise\r\n" in csv_text


def test_another_stores_report_is_refused(client, manager, day_orders, other_shop):
    client.force_login(manager)

    query = {**WEDNESDAY_QUERY, "store": other_shop.store.id}
    assert client.get(REPORT, query).status_code == 403
    assert client.get(CSV, query).status_code == 403
    assert client.get(REPORT, {**WEDNESDAY_QUERY, "store": 999999}).status_code == 404


def test_head_office_chooses_one_store(client, head_office, day_orders, other_shop):
    client.force_login(head_office)

    response = client.get(REPORT, {**WEDNESDAY_QUERY, "store": other_shop.store.id})

    assert [c.name for c in response.context["columns"]] == ["OC Pizza Bellecour"]
    assert f"store={other_shop.store.id}" in response.context["next_url"]


@pytest.mark.parametrize("group", [roles.STORE_STAFF, roles.PIZZAIOLOS, roles.DRIVERS])
def test_crew_and_marketing_cannot_open_the_reports(client, shop, group):
    # With the admin access of a manager but a crew role in the store, or marketing: 403.
    client.force_login(member_of(shop.store, "crew@oc-pizza.fr", role=StoreRole.STAFF))
    assert client.get(REPORT).status_code == 403
    client.force_login(UserFactory(email="marketing@oc-pizza.fr", groups=[roles.MARKETING]))
    assert client.get(REPORT).status_code == 403
    assert client.get(CSV).status_code == 403
    # A crew account (no admin access) is sent to the admin login, as on every admin screen.
    crew = member_of(shop.store, f"{group.lower()[:4]}@oc-pizza.fr", role=StoreRole.STAFF, group=group)
    client.force_login(crew)
    response = client.get(REPORT)
    assert (response.status_code, response["Location"]) == (302, "/admin/login/?next=/admin/rapports/")


def test_an_anonymous_visitor_is_sent_to_the_admin_login(client, shop):
    response = client.get(CSV)

    assert (response.status_code, response["Location"]) == (302, "/admin/login/?next=/admin/rapports/csv/")


def test_the_reports_menu_item_is_shown_to_managers_not_to_marketing(client, manager):
    client.force_login(manager)
    assert "/admin/rapports/" in client.get("/admin/").content.decode()

    client.force_login(UserFactory(email="marketing@oc-pizza.fr", groups=[roles.MARKETING]))
    assert "/admin/rapports/" not in client.get("/admin/").content.decode()


# The page ----------------------------------------------------------------------------------------


def test_the_page_shows_charts_with_their_title_and_the_numbers_in_tables(client, manager, day_orders):
    client.force_login(manager)

    html = client.get(REPORT, WEDNESDAY_QUERY).content.decode()

    assert 'role="img" aria-labelledby="chart-series-title chart-series-desc"' in html
    assert '<title id="chart-series-title">Chiffre d&#x27;affaires TTC par heure</title>' in html
    assert '<title id="chart-sources-title">Commandes par canal</title>' in html
    assert (
        'font-size="11" fill="currentColor">max. 43,50\xa0€</text><rect x="12" y="168" width="18" height="0"'
        in html
    )
    assert '<td>12h</td><td class="num">2</td><td class="num">43,50\xa0€</td>' in html
    assert "20,0 min (2 commandes)" in html
    assert "cdn" not in html.lower().split("<svg", 1)[0][-20:]  # no script pulled for the charts


def test_the_period_links_and_a_bad_date(client, manager, day_orders):
    client.force_login(manager)

    response = client.get(REPORT, {"period": "week", "date": "2026-11-25"})
    assert response.context["previous_url"] == "/admin/rapports/?period=week&date=2026-11-16"
    assert response.context["next_url"] == "/admin/rapports/?period=week&date=2026-11-30"
    assert response.context["report"].columns[0].orders == 2

    response = client.get(REPORT, {"period": "month", "date": "pas une date"})
    assert response.status_code == 200
    assert "Saisissez une date valide, par exemple 25/11/2026." in response.content.decode()
    assert response.context["report"].period.kind == MONTH  # the valid choice is kept

    response = client.get(REPORT, {"period": "day", "date": "0001-01-01"})
    assert response.status_code == 200
    assert "Choisissez une date entre 2000 et 2100." in response.content.decode()


# CSV -----------------------------------------------------------------------------------------------


def test_the_csv_for_a_french_spreadsheet(client, head_office, day_orders):
    day_orders["other"].lines.update(product_name='=HYPERLINK("http://evil")')
    StorePage.objects.filter(slug="bellecour").update(title="@Bellecour")
    client.force_login(head_office)

    response = client.get(CSV, WEDNESDAY_QUERY)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="rapport-day-2026-11-25.csv"'
    assert response.content.startswith(b"\xef\xbb\xbf")
    assert response.content.decode("utf-8-sig") == "\r\n".join(
        [
            "Rapport des ventes;25/11/2026",
            "Du;25/11/2026;au;25/11/2026",
            "",
            "Indicateur;'@Bellecour;OC Pizza Vaise;Total",
            "Commandes;1;2;3",
            "Chiffre d'affaires TTC (€);18,00;43,50;61,50",
            "Chiffre d'affaires HT (€);16,36;39,29;55,65",
            "TVA 10,00 % (€);1,64;3,65;5,29",
            "TVA 20,00 % (€);0,00;0,56;0,56",
            "Remboursements déduits (€);0,00;5,00;5,00",
            "Panier moyen TTC (€);18,00;21,75;20,50",
            "Commandes Site web;1;1;2",
            "Part Site web (%);100,0;50,0;66,7",
            "Commandes Téléphone;0;1;1",
            "Part Téléphone (%);0,0;50,0;33,3",
            "Commandes Comptoir;0;0;0",
            "Part Comptoir (%);0,0;0,0;0,0",
            "Commandes Carte bancaire en ligne;0;1;1",
            "Part Carte bancaire en ligne (%);0,0;50,0;33,3",
            "Commandes Espèces;1;1;2",
            "Part Espèces (%);100,0;50,0;66,7",
            "Commandes Carte bancaire (terminal);0;0;0",
            "Part Carte bancaire (terminal) (%);0,0;0,0;0,0",
            "Commandes Titre-restaurant;0;0;0",
            "Part Titre-restaurant (%);0,0;0,0;0,0",
            "Commandes Chèque;0;0;0",
            "Part Chèque (%);0,0;0,0;0,0",
            "Délai moyen reçue → prête (min);;20,0;20,0",
            "Délai moyen reçue → livrée (min);;75,0;75,0",
            "Commandes en retard;0;1;1",
            "Annulations;0;1;1",
            "",
            "Produits les plus vendus;Quantité;Montant des lignes TTC (€)",
            "Margherita;4;42,00",
            '"\'=HYPERLINK(""http://evil"")";2;18,00',
            "Bière blonde;1;4,00",
            "",
        ]
    )


# Bounded queries ------------------------------------------------------------------------------------


def test_the_report_reads_the_same_number_of_queries_whatever_the_number_of_orders(
    client, head_office, day_orders, shop, other_shop, django_assert_max_num_queries
):
    client.force_login(head_office)
    client.get(REPORT, WEDNESDAY_QUERY)  # warm the session and site caches

    with django_assert_max_num_queries(QUERIES):
        assert client.get(REPORT, WEDNESDAY_QUERY).status_code == 200
    with django_assert_max_num_queries(QUERIES):
        assert client.get(CSV, WEDNESDAY_QUERY).status_code == 200

    for n in range(12):
        order = place(shop if n % 2 else other_shop, [line(shop.small), line(shop.beer_size)], now=NOW)
        start_preparing(order, now=NOW + MINUTE)
        mark_ready(order, now=NOW + 9 * MINUTE)
    cancel_order(place(other_shop, now=NOW), reason="Erreur", now=NOW + MINUTE)

    with django_assert_max_num_queries(QUERIES):
        response = client.get(REPORT, WEDNESDAY_QUERY)
    assert response.context["report"].total.orders == 15
    with django_assert_max_num_queries(QUERIES):
        assert client.get(CSV, WEDNESDAY_QUERY).status_code == 200


QUERIES = 26  # 9 for the report (its stores and 8 sums), the rest is the admin around it


def test_the_charts_escape_what_people_typed():
    from ordering.svg_charts import bar_chart, column_chart

    svg = bar_chart(
        chart_id="c",
        title="Par <b>point</b> de vente",
        description="d & e",
        rows=[("<script>alert(1)</script>", D("10.00"), "10,00 €"), ("Vaise", D("5.00"), "5,00 €")],
    )
    assert "<script>" not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    assert (
        '<title id="c-title">Par &lt;b&gt;point&lt;/b&gt; de vente</title><desc id="c-desc">d &amp; e</desc>'
        in svg
    )
    # The largest bar takes the whole width (320), the other its share.
    assert 'width="320" height="18"' in svg and 'width="160" height="18"' in svg

    columns = column_chart(
        chart_id="s", title="t", description="d", columns=[("01/11", 0), ("02/11", D("4"))]
    )
    assert columns.startswith('<svg xmlns="http://www.w3.org/2000/svg" class="report-chart" role="img" ')
    assert 'height="0"' in columns and 'height="160"' in columns


def test_discounts_come_off_at_their_vat_rate_as_on_the_receipt(shop, monkeypatch):
    from menu import promotions
    from menu.promotions import PromotionRule

    welcome = PromotionRule(
        promotion_id=8,
        title="Bienvenue : 10 % offerts",
        kind="percent_off",
        code="BIENVENUE",
        percent=D("10"),
    )
    monkeypatch.setattr(promotions, "_sources", [])
    promotions.register_rule_source(lambda now: [welcome])
    order = place(shop, [line(shop.small, 2), line(shop.beer_size)], code="BIENVENUE", now=NOW)
    assert (order.discount_total, order.total) == (D("2.20"), D("19.80"))

    vaise = sales_report(StorePage.objects.all(), wednesday()).columns[0]

    assert vaise.revenue_incl_vat == D("19.80")
    assert vaise.vat == order.vat_breakdown()
    assert [(line.rate, line.total) for line in vaise.vat] == [
        (D("10.00"), D("16.20")),
        (D("20.00"), D("3.60")),
    ]
