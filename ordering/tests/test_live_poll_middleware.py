"""`ordering.middleware.LivePollMiddleware`: the polls still current are answered before the
stack, with the security headers and the caching headers of the views' answers (no CSP: a 304
carries no document); its paths are the views' paths."""

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from ordering.middleware import POLLS
from stores.models import StoreRole

from .factories import place
from .test_kitchen_board import crew


@pytest.mark.parametrize(
    ("name", "kwargs", "groups"),
    [
        (
            "ordering:order_status_guest",
            {"number": "VAI-1130-007", "secret": "s3Cr-et_x"},
            ("VAI-1130-007", "s3Cr-et_x"),
        ),
        ("staff:kitchen_status", {"store_id": 42}, ("42", "cuisine")),
        ("staff:delivery_status", {"store_id": 42}, ("42", "livraisons")),
    ],
)
def test_the_middleware_knows_the_paths_of_the_polls(name, kwargs, groups):
    match = POLLS.fullmatch(reverse(name, kwargs=kwargs))

    assert match is not None
    assert tuple(value for value in match.groups() if value is not None) == groups


@pytest.mark.parametrize(
    "path",
    [
        "/commandes/VAI-1130-007/etat/",  # the customer's own poll: the session decides
        "/commandes/VAI-1130-007/s3cret/",
        "/equipe/42/cuisine/",
        "/equipe/42/cuisine/tableau/",
        "/equipe/x/cuisine/etat/",
        "/en/equipe/42/cuisine/etat/",
    ],
)
def test_other_paths_go_down_the_stack(path):
    assert POLLS.fullmatch(path) is None


def test_a_board_poll_answered_early_carries_the_sites_headers(client, shop, django_assert_num_queries):
    client.force_login(crew(StoreRole.PIZZAIOLO, shop.store))
    url = reverse("staff:kitchen_status", args=[shop.store.id])
    with time_machine.travel(timezone.now().replace(second=10), tick=False):
        full = client.get(url)
        with django_assert_num_queries(0):
            early = client.get(url, HTTP_IF_NONE_MATCH=full["ETag"])

    assert early.status_code == 304 and early["ETag"] == full["ETag"]
    for header in ("Cache-Control", "Expires", "X-Content-Type-Options", "Referrer-Policy"):
        assert early[header] == full[header], header
    assert "Content-Security-Policy" in full and "Content-Security-Policy" not in early  # no document


def test_a_tracking_poll_answered_early_carries_the_sites_headers(client, shop, django_assert_num_queries):
    order = place(shop)
    url = reverse("ordering:order_status_guest", kwargs={"number": order.number, "secret": order.secret})
    full = client.get(url)

    with django_assert_num_queries(0):
        early = client.get(url, HTTP_IF_NONE_MATCH=full["ETag"])

    assert early.status_code == 304 and early["ETag"] == full["ETag"]
    for header in ("Cache-Control", "X-Content-Type-Options", "Referrer-Policy"):
        assert early[header] == full[header], header
    assert "Content-Security-Policy" in full and "Content-Security-Policy" not in early  # no document


def test_a_head_request_is_left_to_the_views(client, shop):
    client.force_login(crew(StoreRole.PIZZAIOLO, shop.store))
    url = reverse("staff:kitchen_status", args=[shop.store.id])
    etag = client.get(url)["ETag"]

    assert client.head(url, HTTP_IF_NONE_MATCH=etag).status_code == 405  # the view takes GET only


def test_a_poll_for_a_host_the_site_does_not_serve_is_refused_as_any_request(client, shop):
    order = place(shop)
    url = reverse("ordering:order_status_guest", kwargs={"number": order.number, "secret": order.secret})
    etag = client.get(url)["ETag"]

    refused = client.get(url, HTTP_IF_NONE_MATCH=etag, HTTP_HOST="evil.example")

    assert refused.status_code == 400
