"""Kitchen slots: when a customer can be promised their order."""

import datetime

import pytest

from ordering.exceptions import OrderError
from ordering.models import Order
from ordering.services import cancel_order
from ordering.slots import asap_slot, asap_time, available_slots, check_slot, slot_load
from stores.models import StoreClosure
from stores.tests.factories import StorePageFactory

from .factories import NOW, configure, place


def hm(times):
    return [time.strftime("%H:%M") for time in times]


def test_slots_start_after_the_lead_time_and_end_with_the_opening_hours(shop):
    slots = available_slots(shop.store, "pickup", NOW.replace(hour=22, minute=0))

    today = [slot for slot in slots if slot.start.date() == NOW.date()]
    assert hm(slot.start for slot in today) == ["22:30", "22:45"]  # 23:00 closes: no slot starts then
    assert hm(slot.start for slot in slots[2:4]) == ["11:00", "11:15"]  # tomorrow
    assert {slot.remaining for slot in slots} == {6}


def test_a_delivery_is_promised_after_the_drive(shop):
    configure(shop.store, delivery_minutes=25)

    assert hm([asap_time(shop.store, "delivery", NOW)]) == ["12:55"]
    assert hm([asap_time(shop.store, "pickup", NOW)]) == ["12:30"]


def test_full_slots_are_left_out_and_cancelled_orders_free_their_place(shop):
    configure(shop.store, slot_capacity=1)
    first = place(shop)

    assert hm([asap_time(shop.store, "pickup", NOW)]) == ["12:45"]
    assert available_slots(shop.store, "pickup", NOW)[0].start.strftime("%H:%M") == "12:45"
    cancel_order(first, by_customer=True, now=NOW)
    assert hm([asap_time(shop.store, "pickup", NOW)]) == ["12:30"]


def test_hours_past_midnight_give_slots_on_the_next_day(home_page, store_index):
    store = StorePageFactory(
        parent=store_index, slug="nuit", hours=[(NOW.weekday(), "18:00", "01:00")], delivery_postcodes=""
    )
    configure(store)

    slots = available_slots(store, "pickup", NOW.replace(hour=23, minute=50))

    assert hm(slot.start for slot in slots[:3]) == ["00:15", "00:30", "00:45"]
    assert slots[0].start.date() == NOW.date() + datetime.timedelta(days=1)


def test_a_closure_has_no_slot_and_says_why(shop):
    tomorrow = NOW.date() + datetime.timedelta(days=1)
    StoreClosure.objects.create(
        store=shop.store, starts_on=tomorrow, ends_on=tomorrow, message="Fermeture pour inventaire."
    )

    slots = available_slots(shop.store, "pickup", NOW)

    assert {slot.start.date() for slot in slots} == {NOW.date()}
    with pytest.raises(OrderError) as refused:
        check_slot(shop.store, "pickup", NOW.replace(hour=19) + datetime.timedelta(days=1), NOW)
    assert str(refused.value) == "La pizzeria est fermée ce jour-là : Fermeture pour inventaire."


def test_available_slots_cost_a_bounded_number_of_queries(shop, django_assert_max_num_queries):
    for _number in range(5):
        place(shop)

    with django_assert_max_num_queries(8):
        slots = available_slots(shop.store, "delivery", NOW, days=2)

    assert len(slots) > 50


def test_as_soon_as_possible_never_means_the_next_opening(shop):
    """At 22:45 the kitchen (closing at 23:00) cannot make it: no "as soon as possible" promised
    for tomorrow 11:30 under a bare time; the customer is asked to choose a slot."""
    late = NOW.replace(hour=22, minute=45)

    assert asap_time(shop.store, "pickup", late) is None
    with pytest.raises(OrderError) as refused:
        place(shop, now=late)
    assert str(refused.value) == "Plus aucun créneau n'est libre : choisissez un créneau plus tard."
    assert hm([asap_time(shop.store, "pickup", NOW.replace(hour=22, minute=0))]) == ["22:30"]


def test_as_soon_as_possible_runs_past_midnight_within_the_same_opening(home_page, store_index):
    store = StorePageFactory(
        parent=store_index, slug="nuit", hours=[(NOW.weekday(), "18:00", "01:00")], delivery_postcodes=""
    )
    configure(store)

    assert hm([asap_time(store, "pickup", NOW.replace(hour=23, minute=50))]) == ["00:15"]
    assert (
        asap_time(store, "pickup", NOW.replace(hour=23, minute=59) + datetime.timedelta(minutes=30)) is None
    )


def test_an_opening_all_day_runs_on_at_midnight(home_page, store_index):
    store = StorePageFactory(
        parent=store_index, slug="jour", hours=[(day, "00:00", "23:59") for day in range(7)]
    )
    configure(store)

    assert hm([asap_time(store, "pickup", NOW.replace(hour=23, minute=45))]) == ["00:15"]


def test_the_load_counts_the_given_slots_only_and_only_orders_of_the_store(shop):
    slots = available_slots(shop.store, "pickup", NOW)
    first, second, third = (slot.start for slot in slots[:3])
    for start in (first, second, second, third):
        place(shop, slot=start)
    elsewhere = place(shop, slot=third)
    Order.objects.filter(pk=elsewhere.pk).update(
        store=StorePageFactory(parent=shop.store.get_parent(), title="Ailleurs")
    )
    cancelled = place(shop, slot=first)
    cancel_order(cancelled)

    # The middle slot lies between the two asked for: it is read, and left out.
    assert slot_load(shop.store, [first, third]) == {first: 1, third: 1}
    assert slot_load(shop.store, [second]) == {second: 2}
    assert slot_load(
        shop.store, [first, second, third], exclude_order=Order.objects.filter(slot_start=second).first()
    ) == {
        first: 1,
        second: 1,
        third: 1,
    }
    assert slot_load(shop.store, []) == {}


def test_the_hour_the_clocks_go_back_has_both_its_slots_each_with_its_own_capacity(shop):
    """Paris goes from 03:00 CEST back to 02:00 CET on 2026-10-25: a store open on the Saturday
    night has the quarter hours from 02:00 to 02:45 twice, an hour apart."""
    from zoneinfo import ZoneInfo

    from stores.models import OpeningHours

    paris, utc = ZoneInfo("Europe/Paris"), datetime.UTC
    OpeningHours.objects.filter(store=shop.store).delete()
    OpeningHours.objects.create(store=shop.store, weekday=5, opens=datetime.time(22), closes=datetime.time(4))
    configure(shop.store, slot_capacity=1)
    now = datetime.datetime(2026, 10, 24, 23, 0, tzinfo=paris)
    first, second = (
        datetime.datetime(2026, 10, 25, hour, 15, tzinfo=utc).astimezone(paris) for hour in (0, 1)
    )

    starts = [slot.start for slot in available_slots(shop.store, "pickup", now)]
    moments = [start.astimezone(utc) for start in starts]
    assert moments == sorted(moments) and len(set(moments)) == len(moments)
    assert hm(start for start in starts if start.hour == 2) == ["02:00", "02:15", "02:30", "02:45"] * 2
    assert {first.astimezone(utc), second.astimezone(utc)} <= set(moments)  # as moments: Python finds
    # the two 02:15 of Paris equal to each other

    place(shop, slot=second, now=now)

    after = [slot.start.astimezone(utc) for slot in available_slots(shop.store, "pickup", now)]
    assert second.astimezone(utc) not in after  # full
    assert first.astimezone(utc) in after  # the same wall-clock time an hour earlier: still free
    with pytest.raises(OrderError, match="Ce créneau est complet"):
        check_slot(shop.store, "pickup", second, now)
    assert check_slot(shop.store, "pickup", first, now).remaining == 1


def test_as_soon_as_possible_is_the_first_offered_slot_at_every_moment(home_page, store_index, shop):
    """`asap_slot` looks for the first free slot alone (without making the day's others): it
    gives what the first of `available_slots` gives, for full slots, a break, the night and the
    closing time, pickup and delivery."""
    configure(shop.store, slot_capacity=1, delivery_minutes=25)
    place(shop)  # 12:30 full
    place(shop, slot=NOW.replace(hour=12, minute=45))
    night = StorePageFactory(
        parent=store_index,
        slug="nuit",
        hours=[(NOW.weekday(), "11:00", "14:00"), (NOW.weekday(), "18:00", "01:00")],
    )
    configure(night)
    moments = [
        NOW.replace(hour=hour, minute=minute)
        for hour in (0, 10, 12, 13, 17, 22, 23)
        for minute in (0, 40, 59)
    ]

    for store in (shop.store, night):
        for fulfilment in ("pickup", "delivery"):
            for moment in moments:
                offered = available_slots(store, fulfilment, moment)
                assert asap_slot(store, fulfilment, moment) == asap_slot(
                    store, fulfilment, moment, slots=offered
                ), (store.slug, fulfilment, moment)
    assert asap_slot(shop.store, "pickup", NOW).start.strftime("%H:%M") == "13:00"
    assert (
        asap_slot(night, "delivery", NOW.replace(hour=23, minute=40)).promised_at.strftime("%H:%M") == "00:20"
    )
