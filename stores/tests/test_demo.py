"""The demo stores' ordering settings and late hours (stores/demo.py through load_demo_data)."""

import datetime
import io
import zoneinfo
from decimal import Decimal

from django.core.management import call_command

from stores import hours
from stores.models import StoreOrderingSettings, StorePage

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
FRIDAY = datetime.date(2026, 11, 27)


def load_demo():
    out = io.StringIO()
    call_command("load_demo_data", "--i-know-this-is-production", stdout=out)
    return out.getvalue()


def test_demo_stores_take_orders_and_loading_again_keeps_what_was_edited(db):
    load_demo()

    prefixes = dict(StoreOrderingSettings.objects.values_list("store__slug", "order_prefix"))
    assert prefixes == {
        "bellecour": "BEL",
        "croix-rousse": "CRO",
        "part-dieu": "PAR",
        "guillotiere": "GUI",
        "vaise": "VAI",
    }
    vaise = StoreOrderingSettings.objects.get(order_prefix="VAI")
    assert (vaise.minimum_order, vaise.delivery_fee, vaise.free_delivery_from) == (
        Decimal("15.00"),
        Decimal("2.50"),
        Decimal("30.00"),
    )
    assert (vaise.lead_time_minutes, vaise.delivery_minutes, vaise.slot_capacity) == (20, 20, 6)
    assert vaise.accepted_payments == ["cash", "card_terminal", "meal_voucher", "cheque"]
    assert vaise.online_payment and vaise.accepts_orders
    for settings in StoreOrderingSettings.objects.all():
        settings.full_clean()

    # Edited in the admin, and one store's settings lost: a second run keeps the edit, adds the
    # missing row, and adds nothing else.
    StoreOrderingSettings.objects.filter(order_prefix="VAI").update(minimum_order=Decimal("20.00"))
    StoreOrderingSettings.objects.filter(order_prefix="BEL").delete()
    out = load_demo()

    assert StoreOrderingSettings.objects.count() == 5
    assert StoreOrderingSettings.objects.get(order_prefix="VAI").minimum_order == Decimal("20.00")
    assert StoreOrderingSettings.objects.get(order_prefix="BEL").minimum_order == Decimal("15.00")
    assert "les réglages de commande de 1 points de vente" in out
    out = load_demo()
    assert "Ajouté" not in out and StoreOrderingSettings.objects.count() == 5


def test_one_demo_store_stays_open_after_midnight_on_friday_and_saturday(db, client):
    load_demo()
    late = StorePage.objects.get(slug="guillotiere")
    saturday, sunday = FRIDAY + datetime.timedelta(days=1), FRIDAY + datetime.timedelta(days=2)

    assert hours.opening_intervals(late, FRIDAY)[-1][1] == datetime.datetime.combine(
        saturday, datetime.time(1), tzinfo=PARIS
    )
    assert hours.opening_intervals(late, saturday)[-1][1] == datetime.datetime.combine(
        sunday, datetime.time(1), tzinfo=PARIS
    )
    assert hours.is_open_at(late, datetime.datetime.combine(saturday, datetime.time(0, 30), tzinfo=PARIS))
    assert not hours.is_open_at(
        StorePage.objects.get(slug="vaise"),
        datetime.datetime.combine(saturday, datetime.time(0, 30), tzinfo=PARIS),
    )
    for other in StorePage.objects.exclude(slug="guillotiere"):
        assert all(not slot.ends_next_day for slot in other.opening_hours.all())

    html = client.get(late.url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert html.count("18:00 – 01:00 <small>(le lendemain)</small>") == 2
    assert "minimum de commande 15,00\u00a0€" in html


def test_loading_again_gives_a_free_prefix_when_the_derived_one_was_taken(db):
    load_demo()
    # Head office gave "BEL" to Vaise after Bellecour's settings were lost.
    StoreOrderingSettings.objects.filter(order_prefix="BEL").delete()
    StoreOrderingSettings.objects.filter(order_prefix="VAI").update(order_prefix="BEL")

    load_demo()

    prefixes = dict(StoreOrderingSettings.objects.values_list("store__slug", "order_prefix"))
    assert (prefixes["vaise"], prefixes["bellecour"]) == ("BEL", "BEE")


def test_the_demo_part_dieu_charges_by_distance_within_four_km(db):
    from stores.areas import delivery_quote
    from stores.geo import OfflineGeocoder

    load_demo()
    part_dieu = StorePage.objects.get(slug="part-dieu")

    assert part_dieu.delivery_radius_km == Decimal("4.00")
    # 69003's centre is 0.55 km away (free), 69006's 1.07 km; both within the first band.
    quote = delivery_quote(part_dieu, OfflineGeocoder().geocode("69006 Lyon"))
    assert quote == (True, Decimal("1.07"), Decimal("0.00"), Decimal("15.00"))
