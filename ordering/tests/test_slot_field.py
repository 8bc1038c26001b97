"""The checkout's « Heure » field: any offered slot's key is accepted, nothing else, and the
labels (a few hundred formatted dates) are shown on the page."""

import datetime
import sys
from zoneinfo import ZoneInfo

from django.utils import translation

from ordering.forms import ASAP, ChangeSlotForm, CheckoutForm, SlotSelect, slot_labels
from ordering.slots import Slot

PARIS = ZoneInfo("Europe/Paris")


def slots():
    start = datetime.datetime(2026, 11, 30, 19, 0, tzinfo=PARIS)
    return [
        Slot(
            start=start + datetime.timedelta(minutes=15 * n),
            promised_at=start + datetime.timedelta(minutes=15 * n + 20),
            remaining=3,
        )
        for n in range(3)
    ]


def checkout_form(when, **kwargs):
    return CheckoutForm(
        {
            "name": "Ada",
            "phone": "06 12 34 56 78",
            "email": "ada@example.com",
            "fulfilment": "pickup",
            "when": when,
            "payment_method": "cash",
            "idempotency_key": "k" * 20,
        },
        slots=slots(),
        payment_methods=["cash"],
        **kwargs,
    )


def test_an_offered_slot_is_chosen_by_its_key():
    form = checkout_form(slots()[1].start.isoformat())

    assert form.is_valid(), form.errors
    assert form.slot == slots()[1].start


def test_as_soon_as_possible_is_accepted_only_while_offered():
    assert checkout_form(ASAP).is_valid()
    with translation.override("fr"):
        refused = checkout_form(ASAP, offer_asap=False)
        assert not refused.is_valid()
        assert refused.errors["when"] == ["Sélectionnez un choix valide. asap n’en fait pas partie."]


def test_a_time_that_is_no_offered_slot_is_refused():
    with translation.override("fr"):
        form = checkout_form("2026-11-30T19:05:00+01:00")

        assert not form.is_valid()
        assert form.errors["when"] == [
            "Sélectionnez un choix valide. 2026-11-30T19:05:00+01:00 n’en fait pas partie."
        ]


def test_the_field_shows_every_slot_with_its_label():
    with translation.override("fr"):
        html = str(checkout_form("")["when"])

    assert '<option value="asap">Dès que possible</option>' in html
    assert (
        '<option value="2026-11-30T19:15:00+01:00">lundi 30 novembre, 19:15 (prêt vers 19:35)</option>'
        in html
    )
    assert html.count("<option") == 4


def test_changing_an_orders_slot_takes_the_same_keys():
    form = ChangeSlotForm({"when": slots()[2].start.isoformat()}, slots=slots())
    with translation.override("fr"):
        refused = ChangeSlotForm({"when": "demain"}, slots=slots())
        assert not refused.is_valid()
        assert refused.errors["when"] == ["Sélectionnez un choix valide. demain n’en fait pas partie."]

    assert form.is_valid()
    assert form.cleaned_data["when"] == slots()[2].start.isoformat()


def calls_of(function, action):
    """How many times `function` ran during `action()` (the interpreter's profiling hook, which
    observes without replacing anything)."""
    calls = []

    def observe(frame, event, _arg):
        if event == "call" and frame.f_code is function.__code__:
            calls.append(frame)

    sys.setprofile(observe)
    try:
        action()
    finally:
        sys.setprofile(None)
    return len(calls)


def test_the_labels_are_worked_out_once_when_the_field_is_shown_and_never_when_only_checked():
    shown = checkout_form("")
    checked = checkout_form(slots()[0].start.isoformat())

    assert calls_of(slot_labels, lambda: str(shown["when"])) == 1
    assert calls_of(slot_labels, checked.is_valid) == 0


def test_the_hour_the_clocks_go_back_shows_which_02_15_is_which():
    """Paris goes from 03:00 CEST back to 02:00 CET on 2026-10-25: both 02:15 are offered, and a
    customer can tell them apart."""
    utc = datetime.UTC
    twice = [
        Slot(start=moment.astimezone(PARIS), promised_at=moment.astimezone(PARIS), remaining=1)
        for moment in (datetime.datetime(2026, 10, 25, hour, 15, tzinfo=utc) for hour in (0, 1))
    ]
    before = Slot(
        start=datetime.datetime(2026, 10, 25, 1, 30, tzinfo=PARIS),
        promised_at=datetime.datetime(2026, 10, 25, 1, 50, tzinfo=PARIS),
        remaining=1,
    )

    with translation.override("fr"):
        labels = slot_labels([before, *twice])

    assert labels == [
        "dimanche 25 octobre, 01:30 (prêt vers 01:50)",
        "dimanche 25 octobre, 02:15 (UTC+2) (prêt vers 02:15 (UTC+2))",
        "dimanche 25 octobre, 02:15 (UTC+1) (prêt vers 02:15 (UTC+1))",
    ]


def parsed(html):
    """Each tag with its attributes (in any order) and each text, whitespace aside."""
    from html.parser import HTMLParser

    parts = []

    class Parser(HTMLParser):
        def handle_starttag(self, tag, attrs):
            parts.append((tag, sorted(attrs, key=lambda pair: pair[0])))

        def handle_endtag(self, tag):
            parts.append(("/", tag))

        def handle_data(self, data):
            if data.strip():
                parts.append(("text", data.strip()))

    Parser().feed(html)
    return parts


def test_the_field_draws_what_django_s_select_draws_for_a_valid_or_refused_choice():
    """The few hundred options are drawn in Python (SlotSelect), not through Django's option
    templates: the same HTML, whitespace aside (chosen option, escaping, the error's attributes)."""
    from django import forms

    for when in (slots()[2].start.isoformat(), "2020-01-01T12:00:00+01:00"):
        with translation.override("fr"):
            form = checkout_form(when, asap_label='Dès que possible : prête vers 19:20 <"&">')
            form.is_valid()
            assert isinstance(form.fields["when"].widget, SlotSelect)
            drawn = str(form["when"])
            form.fields["when"].widget = forms.Select(choices=form.fields["when"].widget.choices)
            django_s = str(form["when"])
        assert parsed(drawn) == parsed(django_s)
        assert drawn.count("<option") == 4
        assert "&lt;&quot;&amp;&quot;&gt;" in drawn


def test_a_label_kept_in_french_is_not_shown_in_english():
    with translation.override("fr"):
        french = slot_labels(slots()[:1])
    with translation.override("en"):
        english = slot_labels(slots()[:1])

    assert french == ["lundi 30 novembre, 19:00 (prêt vers 19:20)"]
    assert english == ["Monday 30 November, 19:00 (ready around 19:20)"]
