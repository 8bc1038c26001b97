"""menu/catalogue.py: values kept per content generation, and only then."""

import datetime
import threading

import pytest
import time_machine
from django.db import connection, transaction
from django.utils import timezone

from menu import catalogue
from menu.models import ContentToken
from menu.tests.factories import ProductPageFactory


class Request:
    pass


@time_machine.travel(datetime.datetime(2026, 12, 1, 12, 0, 5, tzinfo=datetime.UTC), tick=False)
def test_kept_values_belong_to_one_generation():
    built = []

    def build(value):
        def make():
            built.append(value)
            return value

        return make

    first, second, third, none = Request(), Request(), Request(), Request()
    catalogue.set_generation(first, "g1")
    catalogue.set_generation(second, "g2")
    catalogue.set_generation(third, "g3")
    catalogue.set_generation(none, None)

    assert catalogue.kept(first, "k", build("a")) == "a"
    assert catalogue.kept(first, "k", build("b")) == "a"  # kept
    assert catalogue.kept(second, "k", build("c")) == "c"  # a new generation reads again
    # Two generations are kept at once (the pages' and the orders'): the first's values stay.
    assert catalogue.kept(first, "k", build("d")) == "a"
    assert catalogue.kept(third, "k", build("e")) == "e"  # a third drops the least recently used
    assert catalogue.kept(first, "k", build("f")) == "a"
    assert catalogue.kept(second, "k", build("g")) == "g"  # dropped: read again
    assert catalogue.kept(third, "k", build("h")) == "h"  # dropped in turn (the first was used)
    assert catalogue.kept(none, "k", build("i")) == "i"
    assert catalogue.kept(none, "k", build("j")) == "j"  # no generation: never kept
    assert catalogue.kept(None, "k", build("l")) == "l"  # no request: never kept
    assert built == ["a", "c", "e", "g", "h", "i", "j", "l"]


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


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # see stores/tests/test_concurrency.py
def test_the_database_token_is_replaced_by_each_committed_change_only():
    ContentToken.objects.all().delete()
    assert catalogue.database_token() is None  # no change recorded yet: nothing kept for orders
    request = Request()
    catalogue.use_database_token(request)
    assert not catalogue.keeps(request)

    with transaction.atomic():
        catalogue.new_database_token()
    first = catalogue.database_token()
    catalogue.use_database_token(request)

    assert len(first) == 32
    assert catalogue.keeps(request)
    with pytest.raises(RuntimeError), transaction.atomic():
        catalogue.new_database_token()
        assert catalogue.database_token() != first  # this transaction sees its own change
        raise RuntimeError("rolled back")
    assert catalogue.database_token() == first  # rolled back: the token it replaced stays
    catalogue.new_database_token()
    assert catalogue.database_token() not in (None, first)


def test_a_saved_price_is_a_new_database_token(menu_page):
    product = ProductPageFactory(parent=menu_page)
    before = catalogue.database_token()
    size = product.sizes.first()
    size.price += 1
    size.save()

    assert catalogue.database_token() not in (None, before)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite writes one transaction at a time")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # see stores/tests/test_concurrency.py
def test_two_writers_changing_content_at_once_never_wait_for_each_other():
    """Each writer (a thread of a process) has its own row: an editor's open transaction does not
    hold up another's change, and the token read meanwhile is the committed one."""
    catalogue.new_database_token()
    before = catalogue.database_token()
    rows_before = ContentToken.objects.count()  # this writer's, and any a reused database kept
    other_done = threading.Event()
    errors = []

    def other_writer():
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '2s'")  # a wait fails, never hangs
                catalogue.new_database_token()
            other_done.set()
        except Exception as error:  # reported to the test's thread
            errors.append(error)
        finally:
            connection.close()

    with transaction.atomic():
        catalogue.new_database_token()  # this writer's row, held until this block commits
        thread = threading.Thread(target=other_writer)
        thread.start()
        thread.join(timeout=10)
        assert errors == []
        assert other_done.is_set()  # committed while this transaction was still open
    after_other = ContentToken.objects.count()

    assert after_other == rows_before + 1  # the other writer's own row
    assert catalogue.database_token() not in (before, None)
