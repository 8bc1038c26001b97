"""Every response carries a Content-Security-Policy: strict on the storefront and its error pages,
with Wagtail's few allowances only in the admin, and the storefront's framed by the admin in
previews. Browser proof that nothing breaks under them: test_csp_browser.py and every journey."""

import json

import pytest
from django.conf import settings
from django.http import HttpResponse

from accounts.tests.factories import PASSWORD, UserFactory
from menu.tests.factories import ProductPageFactory
from ocpizza import roles
from ocpizza.csp import ContentSecurityPolicyMiddleware
from stores.tests.factories import StorePageFactory

from .test_settings import PRODUCTION, manage


def policy(response):
    """The Content-Security-Policy header as {directive: [sources]}."""
    directives = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


def wagtail_origin():
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/")


def storefront_policy():
    return {
        "default-src": ["'self'"],
        "script-src": ["'self'", wagtail_origin()],
        "style-src": ["'self'", wagtail_origin()],
        "img-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }


def admin_policy():
    return {
        **storefront_policy(),
        "script-src": ["'self'", "'unsafe-inline'", wagtail_origin()],
        "style-src": ["'self'", "'unsafe-inline'", wagtail_origin()],
        "img-src": ["'self'", "blob:"],
        "frame-ancestors": ["'self'"],
    }


@pytest.fixture
def signed_in(client, db):
    def sign_in(**fields):
        user = UserFactory(**fields)
        client.login(username=user.email, password=PASSWORD)
        return user

    return sign_in


def test_the_home_page_carries_the_storefront_policy(client, home_page):
    response = client.get("/")

    assert response.status_code == 200
    assert policy(response) == storefront_policy()


def test_the_menu_carries_the_storefront_policy(client, menu_page):
    response = client.get(menu_page.url)

    assert response.status_code == 200
    assert policy(response) == storefront_policy()


def test_the_storefront_policy_allows_no_inline_script_or_style(client, menu_page):
    directives = policy(client.get(menu_page.url))

    for directive in ("script-src", "style-src", "default-src"):
        assert "'unsafe-inline'" not in directives[directive]
        assert "'unsafe-eval'" not in directives[directive]


def test_the_admin_carries_the_admin_policy(client, db):
    response = client.get("/admin/login/")

    assert response.status_code == 200
    assert policy(response) == admin_policy()


def test_the_stock_screens_carry_the_admin_policy_and_their_css_as_a_file(client, signed_in, store_index):
    StorePageFactory(parent=store_index, title="OC Pizza Bellecour")
    signed_in(groups=[roles.HEAD_OFFICE])

    response = client.get("/admin/stock/groupe/")

    assert response.status_code == 200
    assert "OC Pizza Bellecour" in response.content.decode()
    assert "css/stock-admin.css" in response.content.decode()
    assert policy(response) == admin_policy()


def test_a_preview_carries_the_storefront_policy_framed_by_the_admin(client, signed_in, menu_page):
    signed_in(is_superuser=True, is_staff=True)
    product = ProductPageFactory(parent=menu_page, title="Regina")

    response = client.get(f"/admin/pages/{product.id}/view_draft/")

    assert response.status_code == 200
    assert "Regina" in response.content.decode()
    assert policy(response) == {**storefront_policy(), "frame-ancestors": ["'self'"]}


def test_a_404_page_carries_the_storefront_policy(client, home_page):
    response = client.get("/cette-page-n-existe-pas/")

    assert response.status_code == 404
    assert "pas au menu" in response.content.decode()
    assert policy(response) == storefront_policy()


def test_a_403_page_carries_the_storefront_policy(client, signed_in, home_page):
    signed_in()

    response = client.get("/sentry-debug/")

    assert response.status_code == 403
    assert "Accès refusé" in response.content.decode()
    assert policy(response) == storefront_policy()


def test_a_500_page_carries_the_storefront_policy(client, signed_in):
    signed_in(is_superuser=True, is_staff=True)
    client.raise_request_exception = False

    response = client.get("/sentry-debug/")

    assert response.status_code == 500
    assert "Le four a surchauffé" in response.content.decode()
    assert policy(response) == storefront_policy()


def test_a_nonce_used_by_a_template_joins_the_storefront_policy(rf):
    middleware = ContentSecurityPolicyMiddleware(lambda request: None)
    request = rf.get("/")
    middleware.process_request(request)
    nonce = str(request.csp_nonce)  # what `{{ request.csp_nonce }}` renders in a template

    response = middleware.process_response(request, HttpResponse())

    assert policy(response)["script-src"] == ["'self'", f"'nonce-{nonce}'", wagtail_origin()]
    assert policy(response)["style-src"] == ["'self'", f"'nonce-{nonce}'", wagtail_origin()]


@pytest.fixture(scope="module")
def policies_with_extras():
    """Both policies as production builds them with every CSP_* variable set."""
    probe = (
        "import json\nfrom django.conf import settings\n"
        "print(json.dumps({name: {k: [str(s) for s in v] if isinstance(v, list) else v "
        "for k, v in getattr(settings, name)['DIRECTIVES'].items()} "
        "for name in ('CONTENT_SECURITY_POLICY', 'CONTENT_SECURITY_POLICY_ADMIN')}))"
    )
    result = manage(
        "shell",
        "-c",
        probe,
        CSP_EXTRA_SCRIPT_SRC="https://sandbox.web.squarecdn.com,https://maps.googleapis.com",
        CSP_EXTRA_CONNECT_SRC="https://pci-connect.squareupsandbox.com",
        CSP_EXTRA_FRAME_SRC="https://sandbox.web.squarecdn.com",
        CSP_EXTRA_IMG_SRC="https://maps.gstatic.com",
        CSP_REPORT_URI="https://sentry.example.invalid/api/1/security/",
        WAGTAILADMIN_BASE_URL="https://oc-pizza.fr",
        **PRODUCTION,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name", ["CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_ADMIN"])
def test_integrations_add_their_origins_through_the_environment(policies_with_extras, name):
    directives = policies_with_extras[name]

    assert directives["script-src"][-2:] == [
        "https://sandbox.web.squarecdn.com",
        "https://maps.googleapis.com",
    ]
    assert directives["connect-src"] == ["'self'", "https://pci-connect.squareupsandbox.com"]
    assert directives["frame-src"] == ["'self'", "https://sandbox.web.squarecdn.com"]
    assert directives["img-src"][-1] == "https://maps.gstatic.com"
    assert "https://oc-pizza.fr" in directives["script-src"]


def test_violation_reports_go_where_the_environment_says(policies_with_extras):
    directives = policies_with_extras["CONTENT_SECURITY_POLICY"]

    assert directives["report-uri"] == "https://sentry.example.invalid/api/1/security/"
