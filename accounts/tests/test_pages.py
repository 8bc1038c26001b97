"""Every account page renders in French and English with no undefined template variable."""

import copy

import pytest
from django.test import Client
from django.urls import reverse

from .factories import AddressFactory, UserFactory

ANONYMOUS = [
    "accounts:login",
    "accounts:signup",
    "accounts:password_reset",
    "account_reset_password_done",
    "account_email_verification_sent",
    "account_reset_password_from_key_done",
    "accounts:deleted",
]
LOGGED_IN = [
    "accounts:account",
    "accounts:address_add",
    "accounts:email",
    "accounts:password_change",
    "accounts:delete",
    "accounts:logout",
]


@pytest.fixture
def strict_templates(settings):
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["OPTIONS"]["string_if_invalid"] = "TEMPLATE-ERROR[%s]"
    settings.TEMPLATES = templates


@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_account_page_renders(db, strict_templates, language):
    user = UserFactory()
    address = AddressFactory(user=user)
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    urls = [reverse(name) for name in ANONYMOUS]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "TEMPLATE-ERROR" not in response.content.decode(), url

    client.force_login(user)
    urls = [reverse(name) for name in LOGGED_IN]
    urls += [
        reverse("accounts:address_edit", args=[address.pk]),
        reverse("accounts:address_delete", args=[address.pk]),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "TEMPLATE-ERROR" not in response.content.decode(), url
        assert 'class="site-header"' in response.content.decode(), url


@pytest.mark.parametrize(
    "name", ["account_request_reauthentication_code", "account_confirm_reauthentication_code"]
)
def test_reauthentication_by_mailed_code_is_not_offered(client, db, mailoutbox, name):
    # Login by code is off; allauth still names these URLs, whose pages were its bare English ones.
    client.force_login(UserFactory())

    assert client.get(reverse(name)).status_code == 404
    assert client.post(reverse(name), {"recipient": "x@example.fr"}).status_code == 404
    assert mailoutbox == []
