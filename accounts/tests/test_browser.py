"""The pages of login protection in a real Chromium, under the Content-Security-Policy.

`browser_page` fails a test whose pages report any CSP violation (root conftest.py): these pages
are new since the policy was written, so each is shown once in the browser.
"""

import re

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from wagtail.documents import get_document_model
from wagtail.models import Collection, CollectionViewRestriction

from .factories import PASSWORD, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("restore_migrated_rows"),
]
ATTACKER = "203.0.113.7"  # the browser itself comes from 127.0.0.1, which stays unlocked


def lock_account(email):
    client = Client()
    for _ in range(5):
        client.post("/compte/connexion/", {"login": email, "password": "wrong"}, HTTP_X_REAL_IP=ATTACKER)


def log_in(page, url, email):
    page.goto(url)
    # Wagtail's admin login names the field "username", the storefront's (django-allauth) "login".
    page.fill("input[name=username]" if "/admin/" in url else "input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def test_a_locked_out_customer_sees_when_to_retry(live_server, browser_page, home_page):
    customer = UserFactory(email="camille@example.fr")
    lock_account(customer.email)

    log_in(browser_page, f"{live_server.url}/compte/connexion/", customer.email)

    message = browser_page.locator(".lockout-message")
    assert "la connexion est bloquée : réessayez dans 15 minutes" in message.inner_text()


def test_a_locked_out_editor_sees_the_admin_lockout_page(live_server, browser_page, home_page):
    editor = UserFactory(email="chef@oc-pizza.fr", is_staff=True, is_superuser=True)
    lock_account(editor.email)

    log_in(browser_page, f"{live_server.url}/admin/login/", editor.email)

    assert "réessayez dans 15 minutes" in browser_page.locator(".lockout-message").inner_text()


def test_a_superuser_unlocks_an_account_from_the_login_attempts_screen(live_server, browser_page, home_page):
    customer = UserFactory(email="camille@example.fr")
    superuser = UserFactory(email="chef@oc-pizza.fr", is_staff=True, is_superuser=True)
    lock_account(customer.email)
    page = browser_page
    log_in(page, f"{live_server.url}/admin/login/", superuser.email)
    page.wait_for_url("**/admin/")

    page.goto(f"{live_server.url}/admin/tentatives-de-connexion/")
    page.locator("table.login-lockouts tr", has_text="camille@example.fr").get_by_role(
        "button", name="Débloquer"
    ).click()

    assert "Le compte camille@example.fr est débloqué." in page.locator(".messages").inner_text()
    assert "Aucun compte ni aucune adresse n’est bloqué." in page.locator("table.login-lockouts").inner_text()


def test_a_visitor_signs_up_confirms_the_email_and_is_logged_in(
    live_server, browser_page, home_page, mailoutbox
):
    page = browser_page
    page.goto(f"{live_server.url}/compte/inscription/")
    page.fill("input[name=email]", "jeanne@example.fr")
    page.fill("input[name=first_name]", "Jeanne")
    page.fill("input[name=last_name]", "Durand")
    page.fill("input[name=phone]", "06 12 34 56 78")
    page.fill("input[name=password1]", "une-pizza-bien-cuite")
    page.fill("input[name=password2]", "une-pizza-bien-cuite")
    page.get_by_role("button", name="Créer mon compte").click()

    page.wait_for_url("**/compte/email/confirmation-envoyee/")
    assert "Suivez le lien qu’il contient" in page.locator("main").inner_text()
    assert [mail.to for mail in mailoutbox] == [["jeanne@example.fr"]]
    path = re.search(r"https?://[^/\s]+(/compte/email/confirmer/\S+)", mailoutbox[0].body).group(1)

    page.goto(f"{live_server.url}{path}")
    assert "Confirmez-vous que jeanne@example.fr est bien votre adresse e-mail ?" in page.content()
    page.get_by_role("button", name="Confirmer").click()

    page.wait_for_url(f"{live_server.url}/compte/")
    assert page.locator("h1").inner_text() == "Mon compte"
    assert "Connecté avec l’adresse jeanne@example.fr." in page.locator("main").inner_text()
    assert page.locator("input[name=phone]").input_value() == "06 12 34 56 78"


def test_a_visitor_past_the_sign_up_limit_reads_the_message(live_server, browser_page, home_page, settings):
    settings.SIGNUP_LIMIT_PER_HOUR = 0
    page = browser_page
    page.goto(f"{live_server.url}/compte/inscription/")
    page.fill("input[name=email]", "jeanne@example.fr")
    page.fill("input[name=first_name]", "Jeanne")
    page.fill("input[name=last_name]", "Durand")
    page.fill("input[name=password1]", "une-pizza-bien-cuite")
    page.fill("input[name=password2]", "une-pizza-bien-cuite")

    with page.expect_response(lambda response: response.request.method == "POST") as answer:
        page.get_by_role("button", name="Créer mon compte").click()

    assert answer.value.status == 429
    assert "Trop de créations de compte" in page.content()


def test_a_visitor_past_the_password_reset_limit_reads_the_message(
    live_server, browser_page, home_page, settings
):
    settings.PASSWORD_RESET_LIMIT_PER_HOUR = 0
    page = browser_page
    page.goto(f"{live_server.url}/compte/mot-de-passe/oublie/")
    page.fill("input[name=email]", "jeanne@example.fr")

    with page.expect_response(lambda response: response.request.method == "POST") as answer:
        page.get_by_role("button", name="Envoyer le lien").click()

    assert answer.value.status == 429
    assert "Trop de demandes de réinitialisation" in page.content()


def test_a_password_protected_document_asks_for_its_password(
    live_server, browser_page, home_page, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    root = Collection.get_first_root_node()
    private = root.add_child(name="Fiches internes")
    CollectionViewRestriction.objects.create(
        collection=private, restriction_type=CollectionViewRestriction.PASSWORD, password="four-a-bois"
    )
    document = get_document_model().objects.create(
        title="Planning", file=ContentFile(b"%PDF-1.4 planning", name="planning.pdf"), collection=private
    )

    browser_page.goto(f"{live_server.url}{document.url}")

    assert browser_page.locator("form input[name=password]").count() == 1
