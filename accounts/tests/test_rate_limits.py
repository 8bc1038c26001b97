"""Password reset and sign-up are rate-limited per address and per e-mail."""

import logging
import re

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.test import override_settings
from django.urls import reverse

from .factories import PASSWORD, UserFactory

User = get_user_model()
RESET = reverse("accounts:password_reset")
ADMIN_RESET = "/admin/password_reset/"
SIGNUP = reverse("accounts:signup")
SENT = "/compte/email/confirmation-envoyee/"
EMAIL = reverse("accounts:email")
EMAIL_CHANGE_MESSAGE = (
    "Trop de demandes de changement d’adresse e-mail depuis votre connexion ou pour ce compte. "
    "Réessayez dans une heure."
)
RESET_MESSAGE = (
    "Trop de demandes de réinitialisation depuis votre connexion ou pour cette adresse e-mail. "
    "Réessayez dans une heure."
)
SIGNUP_MESSAGE = (
    "Trop de créations de compte depuis votre connexion ou pour cette adresse e-mail. "
    "Réessayez dans une heure."
)
# What the settings build for a redis:// CACHE_URL (ocpizza/cache.py), with nothing listening.
DEAD_REDIS = {
    "default": {
        "BACKEND": "ocpizza.cache.FailSoftRedisCache",
        "LOCATION": "redis://127.0.0.1:9/0",  # nothing listens on the discard port
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}


def request_reset(client, email, ip="203.0.113.7", url=RESET):
    return client.post(url, {"email": email}, HTTP_X_REAL_IP=ip, HTTP_ACCEPT_LANGUAGE="fr")


def without_csrf_token(response):
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


def sign_up(client, email, ip="203.0.113.7"):
    data = {
        "email": email,
        "first_name": "Jeanne",
        "last_name": "Durand",
        "password1": "une-pizza-bien-cuite",
        "password2": "une-pizza-bien-cuite",
    }
    response = client.post(SIGNUP, data, HTTP_X_REAL_IP=ip, HTTP_ACCEPT_LANGUAGE="fr")
    client.logout()
    return response


def test_the_sixth_reset_request_from_one_address_gets_the_message(client, db, mailoutbox):
    UserFactory(email="oubli@example.fr")
    for n in range(5):
        assert request_reset(client, f"inconnu{n}@example.fr").status_code == 302

    response = request_reset(client, "oubli@example.fr")

    assert response.status_code == 429
    assert RESET_MESSAGE in response.content.decode()
    assert mailoutbox == []


def test_the_sixth_reset_request_for_one_email_gets_the_message_from_any_address(client, db, mailoutbox):
    UserFactory(email="oubli@example.fr")
    for n in range(5):
        request_reset(client, "oubli@example.fr", ip=f"198.51.100.{n}")

    response = request_reset(client, "OUBLI@example.fr", ip="192.0.2.1")

    assert response.status_code == 429
    assert RESET_MESSAGE in response.content.decode()
    assert len(mailoutbox) == 5


def test_the_reset_limit_answers_alike_for_an_email_without_an_account(client, db):
    UserFactory(email="oubli@example.fr")
    for n in range(5):
        request_reset(client, "oubli@example.fr", ip=f"198.51.100.{n}")
        request_reset(client, "personne@example.fr", ip=f"198.51.100.{n}")

    known = request_reset(client, "oubli@example.fr", ip="192.0.2.1")
    unknown = request_reset(client, "personne@example.fr", ip="192.0.2.2")

    assert (known.status_code, unknown.status_code) == (429, 429)
    assert without_csrf_token(known).replace("oubli@", "personne@") == without_csrf_token(unknown)


def test_the_admin_password_reset_is_limited_too(client, db, mailoutbox):
    UserFactory(email="chef@oc-pizza.fr", is_staff=True, is_superuser=True)
    for _ in range(5):
        assert request_reset(client, "chef@oc-pizza.fr", url=ADMIN_RESET).status_code == 302

    response = request_reset(client, "chef@oc-pizza.fr", url=ADMIN_RESET)

    assert response.status_code == 429
    assert RESET_MESSAGE in response.content.decode()
    assert len(mailoutbox) == 5


def test_the_sixth_sign_up_from_one_address_gets_the_message(client, db):
    for n in range(5):
        assert sign_up(client, f"client{n}@example.fr").status_code == 302

    response = sign_up(client, "client5@example.fr")

    html = response.content.decode()
    assert response.status_code == 429
    assert SIGNUP_MESSAGE in html
    assert 'value="Jeanne"' in html
    assert not User.objects.filter(email="client5@example.fr").exists()


def test_mail_bombing_one_email_through_sign_up_is_limited_from_any_address(client, db, mailoutbox):
    UserFactory(email="pris@example.fr")
    for n in range(5):  # each answered as for a new address (no enumeration)
        assert sign_up(client, "pris@example.fr", ip=f"198.51.100.{n}")["Location"] == SENT

    response = sign_up(client, "pris@example.fr", ip="192.0.2.1")

    html = response.content.decode()
    assert response.status_code == 429
    assert SIGNUP_MESSAGE in html
    assert len(mailoutbox) == 5


def test_the_sign_up_limit_answers_alike_for_a_known_email(client, db):
    UserFactory(email="pris@example.fr")
    for n in range(5):
        sign_up(client, "pris@example.fr", ip=f"198.51.100.{n}")
        sign_up(client, "libre@example.fr", ip=f"198.51.100.{n}")

    known = sign_up(client, "pris@example.fr", ip="192.0.2.1")
    unknown = sign_up(client, "libre@example.fr", ip="192.0.2.2")

    assert (known.status_code, unknown.status_code) == (429, 429)
    assert without_csrf_token(known).replace("pris@", "libre@") == without_csrf_token(unknown)


def test_the_sixth_email_change_of_an_account_gets_the_message(client, db, mailoutbox):
    user = UserFactory(email="camille@example.fr")
    client.force_login(user)
    for n in range(5):
        response = client.post(
            EMAIL, {"action_add": "", "email": f"nouvelle{n}@example.fr"}, HTTP_X_REAL_IP=f"198.51.100.{n}"
        )
        assert response.status_code == 302

    response = client.post(
        EMAIL,
        {"action_add": "", "email": "encore@example.fr"},
        HTTP_X_REAL_IP="192.0.2.1",
        HTTP_ACCEPT_LANGUAGE="fr",
    )

    assert response.status_code == 429
    assert EMAIL_CHANGE_MESSAGE in response.content.decode()
    assert len(mailoutbox) == 5
    assert not EmailAddress.objects.filter(email="encore@example.fr").exists()


def test_a_successful_sign_up_below_the_limit_is_not_disturbed(client, db):
    for n in range(4):
        sign_up(client, f"client{n}@example.fr")

    response = sign_up(client, "client4@example.fr")

    assert response.status_code == 302
    assert User.objects.filter(email="client4@example.fr").exists()


@override_settings(CACHES=DEAD_REDIS)
def test_with_the_cache_down_a_reset_is_allowed_and_a_warning_logged(client, db, mailoutbox, caplog):
    UserFactory(email="oubli@example.fr")

    with caplog.at_level(logging.WARNING, logger="accounts.security"):
        responses = [request_reset(client, "oubli@example.fr") for _ in range(6)]

    assert [r.status_code for r in responses] == [302] * 6
    assert len(mailoutbox) == 6
    assert "Rate limit not applied: the cache is unavailable" in caplog.text


@override_settings(CACHES=DEAD_REDIS)
def test_with_the_cache_down_sign_up_and_login_still_work(client, db, mailoutbox):
    UserFactory(email="camille@example.fr")

    signed_up = sign_up(client, "jeanne@example.fr")
    logged_in = client.post(reverse("accounts:login"), {"login": "camille@example.fr", "password": PASSWORD})

    assert signed_up.status_code == 302 and signed_up["Location"] == SENT
    assert [m.to for m in mailoutbox] == [["jeanne@example.fr"]]
    assert logged_in.status_code == 302 and logged_in["Location"] == reverse("accounts:account")
