"""The demo chain as `make run` builds it: complete, idempotent, and every page answers."""

import copy
import io
import os
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext
from wagtail.models import Page

from home.models import HomePage, Promotion
from menu.models import Category, ProductPage
from ocpizza.management.commands.load_demo_data import DEMO_USERS, PASSWORD
from stores.models import StoreMembership, StorePage

# The tests run with DEBUG off, as production does: they load the demo the way an operator must.
PRODUCTION_FLAG = "--i-know-this-is-production"


@pytest.fixture
def demo(db):
    call_command("load_demo_data", PRODUCTION_FLAG, stdout=io.StringIO())


def test_demo_builds_a_believable_chain(demo):
    assert StorePage.objects.live().count() == 5
    assert set(StorePage.objects.values_list("city", flat=True)) == {"Lyon"}
    assert ProductPage.objects.live().filter(category=Category.PIZZA).count() >= 12
    assert ProductPage.objects.live().filter(category=Category.DRINK).exists()
    assert ProductPage.objects.live().filter(category=Category.DESSERT).exists()
    assert all(p.sizes.count() >= 1 for p in ProductPage.objects.all())
    assert Promotion.objects.current().count() == 2  # the free dessert and the BIENVENUE code
    assert all(store.opening_hours.exists() for store in StorePage.objects.all())


def test_demo_command_prints_the_accounts(db):
    out = io.StringIO()

    call_command("load_demo_data", PRODUCTION_FLAG, stdout=out)

    assert PASSWORD in out.getvalue()
    assert all(email in out.getvalue() for email, *_ in DEMO_USERS)


def test_demo_refuses_to_load_with_debug_off_and_creates_nothing(db):
    with pytest.raises(CommandError) as refusal:
        call_command("load_demo_data", stdout=io.StringIO())

    assert PRODUCTION_FLAG in str(refusal.value)
    assert not get_user_model().objects.exists()
    assert not HomePage.objects.exists()


def test_demo_refusal_tells_the_operator_on_stderr_and_exits_non_zero(tmp_path):
    # A scratch database: should the refusal ever break, nothing real is written.
    environment = {**os.environ, "DEBUG": "false", "DATABASE_URL": f"sqlite:///{tmp_path / 'scratch.db'}"}
    result = subprocess.run(
        [sys.executable, "manage.py", "load_demo_data"],
        cwd=django_settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 1
    assert result.stdout == ""
    assert "DEBUG est désactivé" in result.stderr
    assert f"admin@oc-pizza.fr ({PASSWORD})" in result.stderr
    assert PRODUCTION_FLAG in result.stderr


def test_demo_loads_with_debug_on_without_the_flag(db, settings):
    settings.DEBUG = True

    call_command("load_demo_data", stdout=io.StringIO())

    assert get_user_model().objects.filter(email="admin@oc-pizza.fr", is_superuser=True).exists()


def test_every_demo_account_logs_in_with_the_documented_password(demo, client):
    for email, *_ in DEMO_USERS:
        assert client.login(username=email, password=PASSWORD), email
    manager = get_user_model().objects.get(email="responsable@oc-pizza.fr")
    assert StoreMembership.objects.filter(user=manager, role="manager").count() == 2


def test_loading_the_demo_twice_adds_nothing(demo):
    counts = (Page.objects.count(), get_user_model().objects.count(), StoreMembership.objects.count())

    call_command("load_demo_data", PRODUCTION_FLAG, stdout=io.StringIO())

    assert (Page.objects.count(), get_user_model().objects.count(), StoreMembership.objects.count()) == counts


@pytest.fixture
def strict_templates(settings):
    """Make an undefined template variable visible in the page instead of silently empty."""
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["OPTIONS"]["string_if_invalid"] = "TEMPLATE-ERROR[%s]"
    settings.TEMPLATES = templates


@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_page_of_the_demo_site_answers_200(demo, client, language, strict_templates):
    home = HomePage.objects.get()
    pages = [home, *Page.objects.descendant_of(home).live().specific()]
    assert len(pages) > 20

    for page in pages:
        response = client.get(page.url, HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200, page.url
        assert response["Content-Language"] == language
        assert "TEMPLATE-ERROR" not in response.content.decode(), page.url
    for url in ["/sitemap.xml", "/robots.txt", "/compte/connexion/", "/compte/inscription/", "/panier/"]:
        response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200, url
        assert "TEMPLATE-ERROR" not in response.content.decode(), url


def test_interface_is_french_by_default_and_english_on_request(demo, client):
    french = client.get("/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    english = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    no_preference = client.get("/").content.decode()

    assert "Nos pizzerias" in french and 'lang="fr"' in french
    assert "Our pizzerias" in english and 'lang="en"' in english
    assert 'lang="fr"' in no_preference


def test_home_page_queries_do_not_grow_with_the_number_of_products(
    demo, client, django_assert_max_num_queries
):
    client.get("/")
    reset_queries()  # the demo's thousands of queries fill the debug log, whose length is capped
    with CaptureQueriesContext(connection) as before:
        client.get("/")
    baseline = len(before)
    assert baseline <= 40
    menu = ProductPage.objects.first().get_parent()
    for index in range(20):
        menu.add_child(instance=ProductPage(title=f"Pizza en plus {index}", category=Category.PIZZA))
    home = HomePage.objects.get()
    featured = next(block for block in home.body if block.block_type == "featured_products")
    featured.value["products"] = list(ProductPage.objects.live().order_by("-id")[:12])
    home.save_revision().publish()
    client.get("/")
    reset_queries()

    with django_assert_max_num_queries(baseline):
        response = client.get("/")

    assert response.content.decode().count('class="card product-card') == 12


def test_unknown_url_gets_the_branded_404(demo, client):
    response = client.get("/pas-au-menu/", HTTP_ACCEPT_LANGUAGE="fr")

    assert response.status_code == 404
    assert "cette page n’est pas au menu" in response.content.decode()
