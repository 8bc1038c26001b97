"""The checkout when a service it uses fails (issue #13 item 5): the order is still placed.

Google's geocoding failing falls back on the offline geocoder; the mail server down costs the
customer nothing (the e-mail is a task run after commit, whose failure is logged). The other
faults are proven elsewhere: see docs/reliability.md.
"""

import logging
import socket
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import override_settings

from ocpizza.tests.test_cache import closed_port, fail_soft_caches
from ordering.models import Order
from stores.tests.google_stub import GEOCODE_PATH

from .conftest import size_of
from .test_checkout import checkout_post, fill_cart
from .test_checkout_addresses import CENTRE_69009, delivery, google_stub


@pytest.fixture
def filled(client, vaise, margherita, extra_cheese):
    fill_cart(client, vaise, (size_of(margherita, "Grande"), 2, [extra_cheese]))
    return client


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, {"error": "internal"}),
        (200, {"results": [], "status": "OVER_QUERY_LIMIT"}),
        (200, {"results": [], "status": "REQUEST_DENIED", "error_message": "denied"}),
    ],
    ids=["http-500", "over-query-limit", "request-denied"],
)
def test_with_google_failing_a_delivery_is_placed_at_the_offline_geocoders_place(
    filled, settings, status, body
):
    with google_stub(settings) as stub:
        stub.answer(GEOCODE_PATH, body, status=status)
        response, _data = checkout_post(filled, **delivery())

    order = Order.objects.get()
    assert response.status_code == 302 and response["Location"] == order.get_absolute_url()
    assert stub.requests_to(GEOCODE_PATH)  # asked (a 500 is retried by Google's client), then fallen back
    assert (order.fulfilment, order.postcode) == ("delivery", "69009")
    assert (order.latitude, order.longitude) == CENTRE_69009


# Redis down (the pages themselves: ocpizza/tests/test_cache.py) ---------------------------------


def test_with_redis_down_a_customer_fills_a_cart_and_orders(client, vaise, margherita, extra_cheese):
    with override_settings(CACHES=fail_soft_caches(f"redis://127.0.0.1:{closed_port()}/0")):
        menu = client.get("/carte/pizzeria/vaise/", HTTP_ACCEPT_LANGUAGE="fr")
        fill_cart(client, vaise, (size_of(margherita, "Grande"), 2, [extra_cheese]))
        response, _data = checkout_post(client, **delivery())

    order = Order.objects.get()
    assert menu.status_code == 200 and "Margherita" in menu.content.decode()
    assert response.status_code == 302 and response["Location"] == order.get_absolute_url()
    assert (order.fulfilment, order.delivery_fee, order.total) == (
        "delivery",
        Decimal("2.50"),
        Decimal("35.50"),
    )


# The mail server down ----------------------------------------------------------------------------


def dead_port():
    """A loopback port nobody listens on: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_down(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = dead_port()
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 2


@pytest.mark.usefixtures("restore_migrated_rows")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_with_the_mail_server_down_the_order_is_placed_and_the_failed_mail_logged(filled, smtp_down, caplog):
    # Transactional: the confirmation is enqueued by the request's own commit, as in production;
    # the tests' tasks backend runs it there and then.
    with caplog.at_level(logging.ERROR, logger="django_tasks"):
        response, _data = checkout_post(filled)

    order = Order.objects.get()
    assert response.status_code == 302 and response["Location"] == order.get_absolute_url()
    assert filled.get(response["Location"]).status_code == 200
    assert mail.outbox == []
    failures = [r for r in caplog.records if r.name == "django_tasks" and r.levelno == logging.ERROR]
    assert [r.getMessage().split(" path=")[1] for r in failures] == [
        "ordering.tasks.send_order_email state=FAILED"
    ]
    assert isinstance(failures[0].exc_info[1], ConnectionRefusedError)


@pytest.mark.usefixtures("restore_migrated_rows")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # the worker closes the connection
def test_in_production_the_mail_is_queued_and_a_failed_send_stays_recorded(
    filled, smtp_down, queue_tasks_in_database, caplog, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    queue_tasks_in_database()
    with (
        caplog.at_level(logging.ERROR, logger="django_tasks"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response, _data = checkout_post(filled)

    order = Order.objects.get()
    assert response.status_code == 302 and response["Location"] == order.get_absolute_url()
    queued = DBTaskResult.objects.get()
    assert (queued.task_path, queued.args_kwargs["args"], queued.status) == (
        "ordering.tasks.send_placed_order_confirmation",
        [order.idempotency_key],
        "READY",
    )

    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0")

    queued.refresh_from_db()
    assert queued.status == "FAILED"
    assert queued.exception_class_path == "builtins.ConnectionRefusedError"
    assert [r.getMessage().split(" path=")[1] for r in caplog.records if r.levelno == logging.ERROR] == [
        "ordering.tasks.send_placed_order_confirmation state=FAILED"
    ]
    order.refresh_from_db()
    assert order.status == "received"
