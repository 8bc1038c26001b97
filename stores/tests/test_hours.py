"""Opening intervals, closures and 15-minute slots (stores/hours.py), in Europe/Paris."""

import datetime
import zoneinfo
from decimal import Decimal

import pytest
from wagtail.models import Page

from stores import hours
from stores.models import StoreClosure, StoreOrderingSettings

from .factories import StorePageFactory

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
UTC = datetime.UTC
FRIDAY = datetime.date(2026, 11, 27)
SATURDAY = FRIDAY + datetime.timedelta(days=1)


def at(day, hour, minute=0):
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=PARIS)


@pytest.fixture
def late_store(store_index):
    """Friday: lunch 11:30–14:30 and evening 18:00–01:00 (ends Saturday); nothing else."""
    return StorePageFactory(
        parent=store_index, slug="vaise", hours=[(4, "11:30", "14:30"), (4, "18:00", "01:00")]
    )


def test_intervals_start_on_their_day_and_may_end_the_next(late_store):
    assert hours.opening_intervals(late_store, FRIDAY) == [
        (at(FRIDAY, 11, 30), at(FRIDAY, 14, 30)),
        (at(FRIDAY, 18), at(SATURDAY, 1)),
    ]
    assert hours.opening_intervals(late_store, SATURDAY) == []


def test_open_after_midnight_belongs_to_the_day_before(late_store):
    assert hours.is_open_at(late_store, at(FRIDAY, 23, 59))
    assert hours.is_open_at(late_store, at(SATURDAY, 0, 30))
    assert not hours.is_open_at(late_store, at(SATURDAY, 1))
    assert not hours.is_open_at(late_store, at(FRIDAY, 17, 59))
    assert hours.is_open_at(late_store, at(SATURDAY, 0, 30).astimezone(UTC))
    assert late_store.is_open(now=at(SATURDAY, 0, 45))


def test_closure_of_the_start_day_closes_the_night_after_midnight(late_store):
    StoreClosure.objects.create(store=late_store, starts_on=FRIDAY, ends_on=FRIDAY, message="Travaux")

    assert hours.closure_on(late_store, FRIDAY).message == "Travaux"
    assert hours.closure_on(late_store, SATURDAY) is None
    assert not hours.is_open_at(late_store, at(FRIDAY, 12))
    assert not hours.is_open_at(late_store, at(SATURDAY, 0, 30))
    assert hours.slot_starts(late_store, FRIDAY) == []


def test_closure_of_the_next_day_keeps_the_night_open(late_store):
    StoreClosure.objects.create(store=late_store, starts_on=SATURDAY, ends_on=SATURDAY, message="Inventaire")

    assert hours.is_open_at(late_store, at(SATURDAY, 0, 30))


def test_slot_starts_end_by_the_interval_end(late_store):
    slots = hours.slot_starts(late_store, FRIDAY)

    assert slots[:2] == [at(FRIDAY, 11, 30), at(FRIDAY, 11, 45)]
    assert at(FRIDAY, 14, 15) in slots and at(FRIDAY, 14, 30) not in slots
    assert slots[-1] == at(SATURDAY, 0, 45)
    assert len(slots) == 12 + 28
    assert all(s.tzinfo is not None and s.utcoffset() == datetime.timedelta(hours=1) for s in slots)


def test_slot_starts_round_up_to_the_quarter_hour(store_index):
    store = StorePageFactory(parent=store_index, hours=[(4, "11:40", "12:40")])

    assert hours.slot_starts(store, FRIDAY) == [at(FRIDAY, 11, 45), at(FRIDAY, 12), at(FRIDAY, 12, 15)]


def test_slot_length_is_a_constant():
    assert hours.SLOT_MINUTES == 15


def test_spring_forward_night_is_one_hour_shorter(store_index):
    # Sunday 29 March 2026: 02:00 becomes 03:00 in Paris. Saturday 22:00 – Sunday 04:00.
    saturday = datetime.date(2026, 3, 28)
    store = StorePageFactory(parent=store_index, hours=[(5, "22:00", "04:00")])

    ((start, end),) = hours.opening_intervals(store, saturday)
    assert end.astimezone(UTC) - start.astimezone(UTC) == datetime.timedelta(hours=5)
    slots = hours.slot_starts(store, saturday)
    assert len(slots) == 5 * 4
    assert [s.strftime("%H:%M") for s in slots[7:10]] == ["23:45", "00:00", "00:15"]
    assert "02:00" not in [s.strftime("%H:%M") for s in slots]
    assert slots[-1] == datetime.datetime(2026, 3, 29, 3, 45, tzinfo=PARIS)
    utc = [s.astimezone(UTC) for s in slots]
    assert all(b - a == datetime.timedelta(minutes=15) for a, b in zip(utc, utc[1:], strict=False))


def test_fall_back_night_is_one_hour_longer(store_index):
    # Sunday 25 October 2026: 03:00 becomes 02:00 again. Saturday 22:00 – Sunday 04:00.
    saturday = datetime.date(2026, 10, 24)
    store = StorePageFactory(parent=store_index, hours=[(5, "22:00", "04:00")])

    ((start, end),) = hours.opening_intervals(store, saturday)
    assert end.astimezone(UTC) - start.astimezone(UTC) == datetime.timedelta(hours=7)
    slots = hours.slot_starts(store, saturday)
    assert len(slots) == 7 * 4
    assert [s.strftime("%H:%M") for s in slots].count("02:30") == 2
    utc = [s.astimezone(UTC) for s in slots]
    assert all(b - a == datetime.timedelta(minutes=15) for a, b in zip(utc, utc[1:], strict=False))
    assert hours.is_open_at(store, datetime.datetime(2026, 10, 25, 1, 30, tzinfo=UTC))  # 02:30 CET


def test_opening_inside_the_skipped_hour_starts_after_the_change(store_index):
    sunday = datetime.date(2026, 3, 29)
    store = StorePageFactory(parent=store_index, hours=[(6, "02:30", "04:00")])

    ((start, end),) = hours.opening_intervals(store, sunday)
    assert start == datetime.datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 CEST
    assert hours.slot_starts(store, sunday)[0].strftime("%H:%M") == "03:30"


def test_ordering_settings_default_when_none_saved(late_store):
    settings = hours.ordering_settings(late_store)

    assert settings.pk is None
    assert settings.order_prefix == "VAI"
    assert settings.lead_time_minutes == 20
    assert settings.delivery_minutes == 20
    assert settings.slot_capacity == 6
    assert settings.accepts_orders is True
    assert settings.accepted_payments == ["cash", "card_terminal", "meal_voucher", "cheque"]


def test_ordering_settings_saved_row(late_store):
    saved = StoreOrderingSettings.objects.create(
        store=late_store, order_prefix="ABC", minimum_order=Decimal("15")
    )
    late_store.refresh_from_db()

    assert hours.ordering_settings(late_store) == saved


@pytest.mark.parametrize(
    ("name", "prefix"),
    [
        ("OC Pizza Vaise", "VAI"),
        ("guillotiere", "GUI"),
        ("OC Pizza Guillotière", "GUI"),
        ("croix-rousse", "CRO"),
        ("é", "EXX"),
        ("", "XXX"),
    ],
)
def test_prefix_from_name(name, prefix):
    assert hours.prefix_from_name(name) == prefix


def test_a_closure_over_several_days_covers_each_of_them(late_store):
    StoreClosure.objects.create(
        store=late_store, starts_on=FRIDAY - datetime.timedelta(days=7), ends_on=FRIDAY, message="Congés"
    )

    assert hours.closure_on(late_store, FRIDAY - datetime.timedelta(days=7)).message == "Congés"
    assert hours.closure_on(late_store, FRIDAY - datetime.timedelta(days=8)) is None
    assert hours.slot_starts(late_store, FRIDAY - datetime.timedelta(days=7)) == []
    assert hours.slot_starts(late_store, FRIDAY) == []
    assert hours.slot_starts(late_store, FRIDAY + datetime.timedelta(days=7)) != []


def test_closing_at_midnight_ends_the_next_day(store_index):
    store = StorePageFactory(parent=store_index, hours=[(4, "19:00", "00:00")])

    assert hours.opening_intervals(store, FRIDAY) == [(at(FRIDAY, 19), at(SATURDAY, 0))]
    assert hours.slot_starts(store, FRIDAY)[-1] == at(FRIDAY, 23, 45)
    assert not hours.is_open_at(store, at(SATURDAY, 0))


def test_overlapping_slots_give_each_slot_start_once(store_index):
    store = StorePageFactory(parent=store_index, hours=[(4, "11:00", "12:00"), (4, "11:30", "12:30")])

    assert hours.slot_starts(store, FRIDAY) == [
        at(FRIDAY, 11) + datetime.timedelta(minutes=m) for m in range(0, 90, 15)
    ]


def test_a_day_without_hours_has_no_slot(late_store):
    assert hours.opening_intervals(late_store, FRIDAY + datetime.timedelta(days=3)) == []
    assert hours.slot_starts(late_store, FRIDAY + datetime.timedelta(days=3)) == []
    assert not hours.is_open_at(late_store, at(FRIDAY + datetime.timedelta(days=3), 12))


def test_hours_read_closures_from_a_prefetch(late_store, django_assert_num_queries):
    StoreClosure.objects.create(store=late_store, starts_on=SATURDAY, ends_on=SATURDAY, message="Inventaire")
    store = type(late_store).objects.filter(id=late_store.id).for_listing().get()

    with django_assert_num_queries(0):
        assert hours.closure_on(store, SATURDAY).message == "Inventaire"
        assert hours.closure_on(store, FRIDAY) is None
        assert hours.is_open_at(store, at(SATURDAY, 0, 30))
        assert len(hours.slot_starts(store, FRIDAY)) == 40


def test_ordering_settings_of_a_plain_page_and_default_not_cached(late_store, django_assert_num_queries):
    page = Page.objects.get(id=late_store.id)
    assert hours.ordering_settings(page).order_prefix == "VAI"
    assert [interval[0] for interval in hours.opening_intervals(page, FRIDAY)] == [
        at(FRIDAY, 11, 30),
        at(FRIDAY, 18),
    ]

    default = hours.ordering_settings(late_store)
    with django_assert_num_queries(0):
        assert default.store == late_store
    default.save()  # what the admin's form does for a store without settings

    assert hours.ordering_settings(page) == default
    assert StoreOrderingSettings.objects.get(store=late_store).order_prefix == "VAI"


def test_with_hours_reads_hours_and_closures_as_the_orm_does_in_one_query(
    late_store, store_index, django_assert_num_queries
):
    """`with_hours` reads both in one hand-written query: the same rows, values and order as a
    prefetch, for a store with closures, one without and one without hours at all."""
    StoreClosure.objects.create(
        store=late_store,
        starts_on=SATURDAY + datetime.timedelta(days=7),
        ends_on=SATURDAY + datetime.timedelta(days=8),
        message="b",
    )
    StoreClosure.objects.create(store=late_store, starts_on=FRIDAY, ends_on=SATURDAY, message="Inventaire")
    bare = StorePageFactory(parent=store_index, slug="bare", hours=[])
    for store in (late_store, bare):
        plain = type(store).objects.get(pk=store.pk)
        with django_assert_num_queries(1):
            loaded = hours.with_hours(plain)
        with django_assert_num_queries(0):
            got_hours = [
                (h.pk, h.sort_order, h.store_id, h.weekday, h.opens, h.closes)
                for h in loaded.opening_hours.all()
            ]
            got_closures = [
                (c.pk, c.store_id, c.starts_on, c.ends_on, c.message) for c in loaded.closures.all()
            ]
            assert hours.with_hours(loaded) is loaded

        expected = type(store).objects.prefetch_related("opening_hours", "closures").get(pk=store.pk)
        assert got_hours == [
            (h.pk, h.sort_order, h.store_id, h.weekday, h.opens, h.closes)
            for h in expected.opening_hours.all()
        ]
        assert got_closures == [
            (c.pk, c.store_id, c.starts_on, c.ends_on, c.message) for c in expected.closures.all()
        ]
        assert not hasattr(plain, "_prefetched_objects_cache") or not plain._prefetched_objects_cache
    loaded = hours.with_hours(type(late_store).objects.get(pk=late_store.pk))
    assert [(h.opens, h.closes) for h in loaded.opening_hours.all()] == [
        (datetime.time(11, 30), datetime.time(14, 30)),
        (datetime.time(18), datetime.time(1)),
    ]
    assert [c.message for c in loaded.closures.all()] == ["Inventaire", "b"]


def _fields(instance):
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


def test_a_store_for_an_order_is_read_whole_with_its_settings_and_hours(
    late_store, store_index, django_assert_num_queries
):
    """`read_store_for_order` gives what the ORM gives (every field of the page and of its
    settings, both links cached) with its hours and closures, in two queries; None for a store
    that is not live or does not exist."""
    StoreOrderingSettings.objects.create(
        store=late_store,
        order_prefix="VAI",
        accepted_payments=["cash", "cheque"],
        minimum_order=Decimal("12.50"),
    )
    StoreClosure.objects.create(store=late_store, starts_on=FRIDAY, ends_on=SATURDAY, message="Inventaire")
    no_settings = StorePageFactory(parent=store_index, slug="sans-reglages")
    draft = StorePageFactory(parent=store_index, slug="brouillon", live=False)

    for store in (late_store, no_settings):
        with django_assert_num_queries(2):
            read = hours.read_store_for_order(store.pk)
        expected = type(store).objects.live().select_related("ordering_settings").get(pk=store.pk)
        with django_assert_num_queries(0):
            assert _fields(read) == _fields(expected)
            assert type(read) is type(expected)
            assert hours.with_hours(read) is read
            closures = [(c.starts_on, c.ends_on, c.message) for c in read.closures.all()]
            opening = [(h.weekday, h.opens, h.closes) for h in read.opening_hours.all()]
            if store is late_store:
                assert _fields(read.ordering_settings) == _fields(expected.ordering_settings)
                assert read.ordering_settings.store is read
                assert read.ordering_settings.accepted_payments == ["cash", "cheque"]
            else:
                with pytest.raises(StoreOrderingSettings.DoesNotExist):
                    read.ordering_settings  # noqa: B018
        assert opening == [(h.weekday, h.opens, h.closes) for h in expected.opening_hours.all()]
        assert closures == [(c.starts_on, c.ends_on, c.message) for c in expected.closures.all()]
    assert hours.read_store_for_order(draft.pk) is None
    assert hours.read_store_for_order(999_999) is None


def test_with_hours_never_changes_the_store_it_was_given(late_store):
    """A store holding its hours but not its closures gets a copy holding both: the hours the
    given store holds (read earlier, maybe kept and shared) stay what they were."""
    given = type(late_store).objects.prefetch_related("opening_hours").get(pk=late_store.pk)
    held = given._prefetched_objects_cache["opening_hours"]
    before = list(held)
    late_store.opening_hours.all().delete()

    loaded = hours.with_hours(given)

    assert loaded is not given
    assert list(loaded.opening_hours.all()) == []
    assert given._prefetched_objects_cache == {"opening_hours": held}
    assert list(held) == before and len(before) == 2
