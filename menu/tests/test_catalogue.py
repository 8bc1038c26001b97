"""menu/catalogue.py: values kept per content generation, and only then."""

import datetime

import time_machine
from django.utils import timezone

from menu import catalogue


class Request:
    pass


def test_kept_values_belong_to_one_generation():
    built = []

    def build(value):
        def make():
            built.append(value)
            return value

        return make

    first, second, none = Request(), Request(), Request()
    catalogue.set_generation(first, "g1")
    catalogue.set_generation(second, "g2")
    catalogue.set_generation(none, None)

    assert catalogue.kept(first, "k", build("a")) == "a"
    assert catalogue.kept(first, "k", build("b")) == "a"  # kept
    assert catalogue.kept(second, "k", build("c")) == "c"  # a new generation reads again
    assert catalogue.kept(first, "k", build("d")) == "d"  # the old one's values were dropped
    assert catalogue.kept(none, "k", build("e")) == "e"
    assert catalogue.kept(none, "k", build("f")) == "f"  # no generation: never kept
    assert catalogue.kept(None, "k", build("g")) == "g"  # no request: never kept
    assert built == ["a", "c", "d", "e", "f", "g"]


def test_a_none_is_kept_only_when_asked():
    request = Request()
    catalogue.set_generation(request, "g1")
    found = iter([None, "page"])

    assert catalogue.kept(request, "child", lambda: next(found), keep_none=False) is None
    assert catalogue.kept(request, "child", lambda: next(found), keep_none=False) == "page"
    assert catalogue.kept(request, "child", lambda: "other", keep_none=False) == "page"


def test_the_values_kept_are_bounded(monkeypatch):
    monkeypatch.setattr(catalogue, "MAX_KEPT", 2)
    request = Request()
    catalogue.set_generation(request, "g1")
    for key in ("a", "b", "c"):
        catalogue.kept(request, key, lambda key=key: key.upper())

    assert catalogue.kept(request, "a", lambda: "new a") == "A"
    assert catalogue.kept(request, "c", lambda: "new c") == "new c"  # past the bound: not kept


def test_kept_values_end_with_their_minute():
    request = Request()
    catalogue.set_generation(request, "g1")
    minute = timezone.now().replace(second=0, microsecond=0)

    with time_machine.travel(minute + datetime.timedelta(seconds=5), tick=False):
        assert catalogue.kept(request, "k", lambda: "read at :05") == "read at :05"
    with time_machine.travel(minute + datetime.timedelta(seconds=59), tick=False):
        assert catalogue.kept(request, "k", lambda: "read at :59") == "read at :05"
    with time_machine.travel(minute + datetime.timedelta(seconds=61), tick=False):
        # An edit whose token was never written (Redis refused it) is read within a minute.
        assert catalogue.kept(request, "k", lambda: "read the next minute") == "read the next minute"
