"""Delivery areas (stores.areas): coverage at the borders, fees by distance band, serving stores."""

import datetime
from decimal import Decimal

import pytest

from stores.areas import delivery_quote, distance_km, fee_for_basket, serving_stores
from stores.geo import GeocodeResult, Point, Precision
from stores.hours import PARIS, next_opening
from stores.models import DeliveryBand, OpeningHours, StoreClosure, StoreOrderingSettings

from .factories import StorePageFactory

# Wednesday 2 December 2026 at noon, Paris. The factory's stores open every day 11:00–23:00.
NOON = datetime.datetime(2026, 12, 2, 12, 0, tzinfo=PARIS)
STORE_LAT, STORE_LNG = Decimal("45.760000"), Decimal("4.835000")  # the factory's store
ONE_KM_NORTH = Decimal("0.008993")  # 1 km of latitude, to the metre


def place(km_north=0, postcode="69002", lat=None, lng=None):
    """An address `km_north` km north of the factory's store."""
    latitude = (
        lat
        if lat is not None
        else STORE_LAT + (ONE_KM_NORTH * Decimal(str(km_north))).quantize(Decimal("0.000001"))
    )
    return GeocodeResult(
        latitude=latitude,
        longitude=lng if lng is not None else STORE_LNG,
        address=f"1 rue Test, {postcode} Lyon",
        postcode=postcode,
        city="Lyon",
        precision=Precision.ADDRESS,
        source="offline",
    )


def settings_for(store, **values):
    return StoreOrderingSettings.objects.create(
        store=store, order_prefix=values.pop("prefix", "TST"), **values
    )


def band(store, up_to_km, fee=None, minimum=None):
    return DeliveryBand.objects.create(
        store=store,
        up_to_km=Decimal(up_to_km),
        delivery_fee=None if fee is None else Decimal(fee),
        minimum_order=None if minimum is None else Decimal(minimum),
    )


def test_distance_is_the_straight_line_in_km_rounded_to_ten_metres(store_index):
    store = StorePageFactory(parent=store_index)

    assert distance_km(store, place(km_north=3)) == Decimal("3.00")
    assert distance_km(store, place(km_north=0)) == Decimal("0.00")


def test_a_listed_postcode_is_covered_with_the_store_settings_fee_and_minimum(store_index):
    store = StorePageFactory(parent=store_index, delivery_postcodes="69002, 69005")
    settings_for(store, delivery_fee=Decimal("2.50"), minimum_order=Decimal("15.00"))

    covered, distance, fee, minimum = delivery_quote(store, place(km_north=2, postcode="69005"))

    assert (covered, distance, fee, minimum) == (True, Decimal("2.00"), Decimal("2.50"), Decimal("15.00"))


def test_a_postcode_not_listed_is_not_covered_however_near(store_index):
    store = StorePageFactory(parent=store_index, delivery_postcodes="69002")

    assert delivery_quote(store, place(km_north=0.5, postcode="69001")) == (
        False,
        Decimal("0.50"),
        None,
        None,
    )


def test_a_store_without_postcodes_or_radius_delivers_nowhere(store_index):
    store = StorePageFactory(parent=store_index, delivery_postcodes="")

    assert delivery_quote(store, place(km_north=0)).covered is False


def test_an_address_exactly_at_the_radius_is_covered_and_ten_metres_further_is_not(store_index):
    store = StorePageFactory(parent=store_index, delivery_postcodes="", delivery_radius_km=Decimal("3.00"))

    assert delivery_quote(store, place(km_north=3)).covered is True
    assert delivery_quote(store, place(km_north="3.01")).covered is False


def test_a_listed_postcode_outside_the_radius_is_not_covered(store_index):
    store = StorePageFactory(parent=store_index, delivery_postcodes="69002", delivery_radius_km=Decimal("3"))

    assert delivery_quote(store, place(km_north=2, postcode="69002")).covered is True
    assert delivery_quote(store, place(km_north=4, postcode="69002")).covered is False
    assert delivery_quote(store, place(km_north=2, postcode="69003")).covered is False


def test_a_radius_alone_covers_every_postcode_within_it(store_index):
    store = StorePageFactory(parent=store_index, delivery_postcodes="", delivery_radius_km=Decimal("5"))

    assert delivery_quote(store, place(km_north=4, postcode="69100")).covered is True


def test_a_position_without_postcode_is_covered_by_a_radius_only(store_index):
    by_radius = StorePageFactory(parent=store_index, delivery_postcodes="", delivery_radius_km=Decimal("5"))
    by_postcode = StorePageFactory(parent=store_index, delivery_postcodes="69002")
    position = Point(STORE_LAT + ONE_KM_NORTH, STORE_LNG)

    assert delivery_quote(by_radius, position).covered is True
    assert delivery_quote(by_postcode, position).covered is False


def test_distance_bands_set_the_fee_and_minimum_over_the_store_settings(store_index):
    store = StorePageFactory(parent=store_index, delivery_postcodes="", delivery_radius_km=Decimal("8"))
    settings_for(store, delivery_fee=Decimal("4.00"), minimum_order=Decimal("12.00"))
    band(store, "6", fee="2.50", minimum="20.00")  # created first: bands apply by distance, not by order
    band(store, "3", fee="0")

    assert delivery_quote(store, place(km_north=1))[2:] == (Decimal("0.00"), Decimal("12.00"))
    assert delivery_quote(store, place(km_north=3))[2:] == (Decimal("0.00"), Decimal("12.00"))
    assert delivery_quote(store, place(km_north="3.01"))[2:] == (Decimal("2.50"), Decimal("20.00"))
    assert delivery_quote(store, place(km_north=6))[2:] == (Decimal("2.50"), Decimal("20.00"))
    # Beyond the last band, still within the radius: the store's settings.
    assert delivery_quote(store, place(km_north=7))[2:] == (Decimal("4.00"), Decimal("12.00"))


def test_a_store_without_saved_settings_delivers_free_without_minimum(store_index):
    store = StorePageFactory(parent=store_index, delivery_postcodes="69002")

    assert delivery_quote(store, place(km_north=1))[2:] == (Decimal("0.00"), Decimal("0.00"))


def test_free_delivery_from_the_store_threshold_applies_to_a_band_fee(store_index):
    store = StorePageFactory(parent=store_index, delivery_postcodes="", delivery_radius_km=Decimal("6"))
    settings_for(store, delivery_fee=Decimal("4.00"), free_delivery_from=Decimal("30.00"))
    band(store, "6", fee="2.50")
    quote = delivery_quote(store, place(km_north=4))

    assert fee_for_basket(store, quote, Decimal("29.99")) == Decimal("2.50")
    assert fee_for_basket(store, quote, Decimal("30.00")) == Decimal("0.00")


# Serving stores


def test_the_nearest_open_store_covering_the_address_serves_it_first(store_index):
    near = StorePageFactory(parent=store_index, title="Près", delivery_postcodes="69002")
    far = StorePageFactory(
        parent=store_index, title="Loin", delivery_postcodes="69002", latitude=STORE_LAT - 4 * ONE_KM_NORTH
    )
    StorePageFactory(parent=store_index, title="Ailleurs", delivery_postcodes="69003")

    serving = serving_stores(place(km_north=1), NOON)

    assert [(entry.store, entry.distance_km, entry.open_now) for entry in serving] == [
        (near, Decimal("1.00"), True),
        (far, Decimal("5.00"), True),
    ]


def test_a_closed_nearest_store_comes_after_the_next_open_one_with_its_next_opening(store_index):
    near_closed = StorePageFactory(
        parent=store_index, title="Près", delivery_postcodes="69002", hours=[(2, "18:00", "23:00")]
    )
    far_open = StorePageFactory(
        parent=store_index, title="Loin", delivery_postcodes="69002", latitude=STORE_LAT - 4 * ONE_KM_NORTH
    )

    first, second = serving_stores(place(km_north=1), NOON)

    assert (first.store, first.open_now, first.next_opening) == (far_open, True, None)
    assert (second.store, second.open_now) == (near_closed, False)
    assert second.next_opening == datetime.datetime(2026, 12, 2, 18, 0, tzinfo=PARIS)


def test_closed_stores_come_by_next_opening_then_distance(store_index):
    tonight = StorePageFactory(
        parent=store_index, delivery_postcodes="69002", latitude=STORE_LAT - 4 * ONE_KM_NORTH,
        hours=[(2, "18:00", "23:00")],
    )  # fmt: skip
    tomorrow = StorePageFactory(parent=store_index, delivery_postcodes="69002", hours=[(3, "11:00", "14:00")])
    never = StorePageFactory(parent=store_index, delivery_postcodes="69002")
    OpeningHours.objects.filter(store=never).delete()

    serving = serving_stores(place(km_north=0), NOON)

    assert [entry.store for entry in serving] == [tonight, tomorrow, never]
    assert serving[2].next_opening is None


def test_a_store_that_takes_no_orders_online_serves_nobody(store_index):
    phone_only = StorePageFactory(parent=store_index, delivery_postcodes="69002")
    open_store = StorePageFactory(parent=store_index, delivery_postcodes="69002")
    settings_for(phone_only, accepts_orders=False)

    assert [entry.store for entry in serving_stores(place(km_north=1), NOON)] == [open_store]


def test_serving_stores_carry_their_band_fee_and_minimum(store_index):
    store = StorePageFactory(parent=store_index, delivery_postcodes="", delivery_radius_km=Decimal("6"))
    band(store, "6", fee="2.50", minimum="20.00")

    (entry,) = serving_stores(place(km_north=4), NOON)

    assert (entry.fee, entry.minimum) == (Decimal("2.50"), Decimal("20.00"))


def test_no_store_serves_an_address_outside_every_area(store_index):
    StorePageFactory(parent=store_index, delivery_postcodes="69002", delivery_radius_km=Decimal("2"))

    assert serving_stores(place(km_north=3), NOON) == []


# Next opening


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (
            datetime.datetime(2026, 12, 2, 9, 0, tzinfo=PARIS),
            datetime.datetime(2026, 12, 2, 11, 30, tzinfo=PARIS),
        ),
        (
            datetime.datetime(2026, 12, 2, 15, 0, tzinfo=PARIS),
            datetime.datetime(2026, 12, 2, 18, 0, tzinfo=PARIS),
        ),
        (
            datetime.datetime(2026, 12, 2, 12, 0, tzinfo=PARIS),
            datetime.datetime(2026, 12, 2, 18, 0, tzinfo=PARIS),
        ),
        (
            datetime.datetime(2026, 12, 2, 23, 30, tzinfo=PARIS),
            datetime.datetime(2026, 12, 9, 11, 30, tzinfo=PARIS),
        ),
    ],
    ids=["before lunch", "between services", "while open", "after the last service of the week"],
)
def test_next_opening_is_the_start_of_the_next_service(store_index, now, expected):
    store = StorePageFactory(parent=store_index, hours=[(2, "11:30", "14:30"), (2, "18:00", "23:00")])

    assert next_opening(store, now) == expected


def test_next_opening_skips_an_exceptional_closure(store_index):
    store = StorePageFactory(parent=store_index)  # every day 11:00–23:00
    StoreClosure.objects.create(
        store=store,
        starts_on=datetime.date(2026, 12, 3),
        ends_on=datetime.date(2026, 12, 5),
        message="Travaux",
    )

    assert next_opening(store, NOON) == datetime.datetime(2026, 12, 6, 11, 0, tzinfo=PARIS)


def test_a_store_without_hours_has_no_next_opening(store_index):
    store = StorePageFactory(parent=store_index)
    OpeningHours.objects.filter(store=store).delete()

    assert next_opening(store, NOON) is None
