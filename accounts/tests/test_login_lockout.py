"""Login lockout (django-axes) on the customer login and the Wagtail admin login."""

import datetime as dt
import logging

import pytest
import time_machine
from axes.models import AccessAttempt, AccessFailureLog
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from .factories import PASSWORD, UserFactory

CUSTOMER_LOGIN = reverse("accounts:login")
ADMIN_LOGIN = "/admin/login/"
ATTACKER = "203.0.113.7"


def attempt(client, url, email, password, ip=ATTACKER):
    # Wagtail's login form names the e-mail field "username", django-allauth's "login".
    field = "username" if url == ADMIN_LOGIN else "login"
    return client.post(
        url, {field: email, "password": password}, HTTP_X_REAL_IP=ip, HTTP_ACCEPT_LANGUAGE="fr"
    )


def fail(client, url, email, times, ip=ATTACKER):
    for _ in range(times):
        attempt(client, url, email, "wrong-password", ip=ip)


def has_session(client):
    return "_auth_user_id" in client.session


@pytest.fixture
def customer(db):
    return UserFactory(email="camille@example.fr")


@pytest.fixture
def superuser(db):
    return UserFactory(email="chef@oc-pizza.fr", is_staff=True, is_superuser=True)


def test_twelve_wrong_passwords_then_the_right_one_do_not_open_a_customer_session(client, customer):
    fail(client, CUSTOMER_LOGIN, customer.email, 12)

    response = attempt(client, CUSTOMER_LOGIN, customer.email, PASSWORD)

    assert response.status_code == 429
    assert not has_session(client)
    assert client.get(reverse("accounts:account"))["Location"].startswith(CUSTOMER_LOGIN)


def test_twelve_wrong_passwords_then_the_right_one_do_not_open_an_admin_session(client, superuser):
    fail(client, ADMIN_LOGIN, superuser.email, 12)

    response = attempt(client, ADMIN_LOGIN, superuser.email, PASSWORD)

    assert response.status_code == 429
    assert not has_session(client)
    assert client.get("/admin/")["Location"].startswith(ADMIN_LOGIN)


@time_machine.travel(dt.datetime(2026, 3, 2, 19, 40, tzinfo=dt.UTC), tick=False)
def test_the_customer_lockout_page_says_in_french_when_to_retry(client, customer):
    fail(client, CUSTOMER_LOGIN, customer.email, 5)

    response = attempt(client, CUSTOMER_LOGIN, customer.email, PASSWORD)

    html = response.content.decode()
    assert response.status_code == 429
    assert response["Retry-After"] == "900"
    assert "Connexion temporairement bloquée" in html
    # 19:40 UTC is 20:40 in Paris in March; the cool-off is 15 minutes.
    assert "réessayez dans 15 minutes, à partir de 20:55." in html
    assert 'class="site-header"' in html  # the storefront's own page, not a bare text


@time_machine.travel(dt.datetime(2026, 3, 2, 19, 40, tzinfo=dt.UTC), tick=False)
def test_the_admin_lockout_page_says_in_french_when_to_retry(client, superuser):
    fail(client, ADMIN_LOGIN, superuser.email, 5)

    response = attempt(client, ADMIN_LOGIN, superuser.email, PASSWORD)

    html = response.content.decode()
    assert response.status_code == 429
    assert "réessayez dans 15 minutes, à partir de 20:55." in html
    assert "Un administrateur peut débloquer le compte plus tôt." in html


def test_four_failures_then_the_right_password_logs_in(client, customer):
    fail(client, CUSTOMER_LOGIN, customer.email, 4)

    response = attempt(client, CUSTOMER_LOGIN, customer.email, PASSWORD)

    assert response.status_code == 302
    assert has_session(client)


def test_the_fifth_failure_already_shows_the_lockout_page(client, customer):
    fail(client, CUSTOMER_LOGIN, customer.email, 4)

    response = attempt(client, CUSTOMER_LOGIN, customer.email, "wrong-password")

    assert response.status_code == 429
    assert "Connexion temporairement bloquée" in response.content.decode()


def test_a_locked_address_cannot_log_into_another_account(client, customer, superuser):
    fail(client, CUSTOMER_LOGIN, customer.email, 5)

    response = attempt(client, ADMIN_LOGIN, superuser.email, PASSWORD)

    assert response.status_code == 429
    assert not has_session(client)


def test_an_account_is_locked_even_when_each_guess_comes_from_a_new_address(client, customer):
    for n in range(5):
        attempt(client, CUSTOMER_LOGIN, customer.email, "wrong-password", ip=f"198.51.100.{n}")

    response = attempt(client, CUSTOMER_LOGIN, customer.email, PASSWORD, ip="192.0.2.1")

    assert response.status_code == 429
    assert not has_session(client)


def test_changing_the_case_of_the_email_does_not_escape_the_account_lock(client, customer):
    variants = [
        "Camille@example.fr",
        "CAMILLE@EXAMPLE.FR",
        "camille@Example.fr",
        " camille@example.fr",
        "cAmille@example.fr",
    ]
    for n, email in enumerate(variants):
        attempt(client, CUSTOMER_LOGIN, email, "wrong-password", ip=f"198.51.100.{n}")

    response = attempt(client, CUSTOMER_LOGIN, "camille@example.fr", PASSWORD, ip="192.0.2.1")

    assert response.status_code == 429
    assert list(AccessAttempt.objects.values_list("username", flat=True).distinct()) == ["camille@example.fr"]


def test_a_success_on_the_attackers_own_account_does_not_reset_the_count(client, customer):
    own = UserFactory(email="attaquant@example.fr")
    fail(client, CUSTOMER_LOGIN, customer.email, 4)
    assert attempt(client, CUSTOMER_LOGIN, own.email, PASSWORD).status_code == 302
    client.post(reverse("accounts:logout"))

    response = attempt(client, CUSTOMER_LOGIN, customer.email, "wrong-password")

    assert response.status_code == 429


def test_the_lock_ends_by_itself_after_the_cool_off(client, customer):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        fail(client, CUSTOMER_LOGIN, customer.email, 5)

    with time_machine.travel(start + dt.timedelta(minutes=16), tick=False):
        response = attempt(client, CUSTOMER_LOGIN, customer.email, PASSWORD)

    assert response.status_code == 302
    assert has_session(client)


def test_the_x_real_ip_header_is_ignored_when_not_behind_the_proxy(client, customer):
    other = UserFactory(email="autre@example.fr")
    with override_settings(BEHIND_REVERSE_PROXY=False):
        for n in range(5):  # a client claiming a new address each time
            attempt(client, CUSTOMER_LOGIN, other.email, "wrong-password", ip=f"198.51.100.{n}")

        response = attempt(client, CUSTOMER_LOGIN, customer.email, PASSWORD, ip="192.0.2.1")

    assert response.status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"127.0.0.1"}


def test_each_failure_is_recorded_and_the_lockout_is_logged(client, customer, caplog):
    with caplog.at_level(logging.WARNING, logger="accounts.security"):
        fail(client, CUSTOMER_LOGIN, customer.email, 5)

    assert AccessFailureLog.objects.filter(username=customer.email, ip_address=ATTACKER).count() == 5
    assert AccessFailureLog.objects.filter(locked_out=True).count() == 1
    lockouts = [r.getMessage() for r in caplog.records if r.name == "accounts.security"]
    assert len(lockouts) == 1
    assert lockouts[0].startswith(f"Login locked out: account={customer.email} address={ATTACKER} path=")


def test_axes_reset_username_unlocks_the_account(client, customer):
    for n in range(5):
        attempt(client, CUSTOMER_LOGIN, customer.email, "wrong-password", ip=f"198.51.100.{n}")

    call_command("axes_reset_username", customer.email)

    assert attempt(client, CUSTOMER_LOGIN, customer.email, PASSWORD, ip="192.0.2.1").status_code == 302
    assert has_session(client)


def test_axes_reset_ip_unlocks_the_address(client, superuser):
    for n in range(5):  # one guess at each of five accounts: only the address is locked
        attempt(client, CUSTOMER_LOGIN, f"cible{n}@example.fr", "wrong-password")
    assert attempt(client, ADMIN_LOGIN, superuser.email, PASSWORD).status_code == 429

    call_command("axes_reset_ip", ATTACKER)

    assert attempt(client, ADMIN_LOGIN, superuser.email, PASSWORD).status_code == 302
    assert has_session(client)


def test_axes_reset_unlocks_everyone(client, customer):
    fail(client, CUSTOMER_LOGIN, customer.email, 5)

    call_command("axes_reset")

    assert attempt(client, CUSTOMER_LOGIN, customer.email, PASSWORD).status_code == 302


# A signed-in session (a borrowed phone, a stolen cookie) must not guess the password unboundedly
# on the pages that ask for it again: those checks count against the same lockout as the login.
PASSWORD_CHANGE = reverse("accounts:password_change")
DELETE = reverse("accounts:delete")
NEW_PASSWORD = "une-pizza-bien-cuite"


def change_password(client, old):
    return client.post(
        PASSWORD_CHANGE,
        {"oldpassword": old, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        HTTP_X_REAL_IP=ATTACKER,
        HTTP_ACCEPT_LANGUAGE="fr",
    )


def test_guessing_the_current_password_on_the_password_change_page_locks(client, customer):
    client.force_login(customer)
    for n in range(4):
        assert change_password(client, f"guess-{n}").status_code == 200

    assert change_password(client, "guess-4").status_code == 429
    response = change_password(client, PASSWORD)

    assert response.status_code == 429
    assert "Connexion temporairement bloquée" in response.content.decode()
    customer.refresh_from_db()
    assert customer.check_password(PASSWORD)


def test_four_wrong_passwords_then_the_right_one_still_delete_the_account(client, customer):
    client.force_login(customer)
    for n in range(4):
        response = client.post(DELETE, {"password": f"guess-{n}"}, HTTP_X_REAL_IP=ATTACKER)
        assert response.status_code == 200

    response = client.post(DELETE, {"password": PASSWORD}, HTTP_X_REAL_IP=ATTACKER)

    assert response.status_code == 302
    assert not type(customer).objects.filter(pk=customer.pk).exists()


def test_five_wrong_passwords_on_the_deletion_page_lock_and_delete_nothing(client, customer):
    client.force_login(customer)
    for n in range(5):
        client.post(DELETE, {"password": f"guess-{n}"}, HTTP_X_REAL_IP=ATTACKER)

    response = client.post(DELETE, {"password": PASSWORD}, HTTP_X_REAL_IP=ATTACKER)

    assert response.status_code == 429
    assert type(customer).objects.filter(pk=customer.pk).exists()
