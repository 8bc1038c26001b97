"""Validation of the ordering settings and closures, by the model and by the database."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from stores.models import StoreClosure, StoreOrderingSettings


def settings_for(store, **values):
    return StoreOrderingSettings(store=store, **{"order_prefix": "VAI", **values})


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"order_prefix": "vai"}, "order_prefix"),
        ({"order_prefix": "V4I"}, "order_prefix"),
        ({"order_prefix": "VA"}, "order_prefix"),
        ({"minimum_order": Decimal("-0.01")}, "minimum_order"),
        ({"delivery_fee": Decimal("1.234")}, "delivery_fee"),
        ({"free_delivery_from": Decimal("-5")}, "free_delivery_from"),
        ({"slot_capacity": 0}, "slot_capacity"),
        ({"lead_time_minutes": 241}, "lead_time_minutes"),
        ({"delivery_minutes": 241}, "delivery_minutes"),
        ({"accepted_payments": ["cash", "card_online"]}, "accepted_payments"),
        ({"accepted_payments": "cash"}, "accepted_payments"),
    ],
)
def test_invalid_settings_fail_validation(vaise, values, field):
    with pytest.raises(ValidationError) as error:
        settings_for(vaise, **values).full_clean()

    assert list(error.value.message_dict) == [field]


def test_valid_settings_pass(vaise):
    settings_for(
        vaise, lead_time_minutes=0, delivery_minutes=240, slot_capacity=1, accepted_payments=[]
    ).full_clean()


@pytest.mark.parametrize(
    "values",
    [
        {"order_prefix": "va1"},
        {"minimum_order": Decimal("-1")},
        {"delivery_fee": Decimal("-1")},
        {"free_delivery_from": Decimal("-1")},
        {"slot_capacity": 0},
        {"lead_time_minutes": 300},
    ],
)
def test_the_database_refuses_what_validation_refuses(vaise, values):
    with pytest.raises(IntegrityError), transaction.atomic():
        settings_for(vaise, **values).save()


def test_the_prefix_is_unique(vaise, bellecour):
    settings_for(vaise).save()

    with pytest.raises(ValidationError) as error:
        settings_for(bellecour).full_clean()
    assert list(error.value.message_dict) == ["order_prefix"]
    with pytest.raises(IntegrityError), transaction.atomic():
        settings_for(bellecour).save()


def test_delivery_fee_is_waived_from_the_threshold(vaise):
    settings = settings_for(vaise, delivery_fee=Decimal("2.50"), free_delivery_from=Decimal("30.00"))

    assert settings.delivery_fee_for(Decimal("29.99")) == Decimal("2.50")
    assert settings.delivery_fee_for(Decimal("30.00")) == Decimal("0.00")
    settings.free_delivery_from = None
    assert settings.delivery_fee_for(Decimal("1000")) == Decimal("2.50")


def test_accepted_payment_labels_are_french_in_the_usual_order(vaise):
    settings = settings_for(vaise, accepted_payments=["cheque", "cash"])

    assert [str(label) for label in settings.accepted_payment_labels()] == ["Espèces", "Chèque"]


def test_a_closure_must_end_on_or_after_its_start(vaise):
    one_day = StoreClosure(
        store=vaise,
        starts_on=datetime.date(2026, 12, 25),
        ends_on=datetime.date(2026, 12, 25),
        message="Noël",
    )
    one_day.full_clean()
    backwards = StoreClosure(
        store=vaise,
        starts_on=datetime.date(2026, 12, 25),
        ends_on=datetime.date(2026, 12, 24),
        message="Noël",
    )

    with pytest.raises(ValidationError) as error:
        backwards.full_clean()
    assert error.value.message_dict == {"ends_on": ["La fin doit être le même jour que le début ou après."]}
    with pytest.raises(IntegrityError), transaction.atomic():
        backwards.save()
