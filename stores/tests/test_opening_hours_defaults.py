"""The default opening hours never trip Django's check of fixed time defaults (fields.W161).

That check warns when a TimeField's default is a fixed time within ten seconds of the clock, so a
plain `default=time(14, 30)` made `check --deploy --fail-level WARNING` (CI) fail at 14:30 sharp.
"""

import datetime

import pytest
from django.utils import timezone

from stores.models import OpeningHours


@pytest.mark.parametrize("field_name", ["opens", "closes"])
def test_the_default_hours_pass_the_system_checks_even_at_that_very_time(field_name, time_machine):
    field = OpeningHours._meta.get_field(field_name)
    default = field.get_default()
    # Django compares the default with the clock in UTC.
    time_machine.move_to(
        datetime.datetime.combine(timezone.now().date(), default, tzinfo=datetime.UTC), tick=False
    )

    assert [message.id for message in field.check()] == []
    assert (
        OpeningHours._meta.get_field("opens").get_default(),
        OpeningHours._meta.get_field("closes").get_default(),
    ) == (
        datetime.time(11, 30),
        datetime.time(14, 30),
    )
