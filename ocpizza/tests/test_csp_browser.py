"""The Content-Security-Policy in a real Chromium: it blocks what it should on the storefront, and
Wagtail's admin (editor, chooser, upload, preview, checks, draft, userbar) works under its own.

`browser_page` fails any test whose pages report a violation (see the root conftest.py), so every
browser journey of the project also proves its pages run under the policy.
"""

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from accounts.tests.factories import PASSWORD, UserFactory
from menu.tests.factories import ProductPageFactory
from ocpizza import roles

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("restore_migrated_rows"),
]


def png(colour):
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buffer, "PNG")
    return {"name": "regina.png", "mimeType": "image/png", "buffer": buffer.getvalue()}


def test_the_storefront_refuses_a_script_injected_into_the_page(
    live_server, browser_page, csp_violations, menu_page
):
    page = browser_page
    page.goto(f"{live_server.url}{menu_page.url}")

    with pytest.raises(Exception, match="Content Security Policy"):
        page.add_script_tag(content="document.body.dataset.injected = 'yes';")

    assert page.evaluate("document.body.dataset.injected") is None
    # Chromium reports the violation twice, its own "Refused to …" console line and the page's
    # `securitypolicyviolation` event, in no fixed order: wait for both before forgetting them,
    # or the late one would fail the test at teardown.
    for _attempt in range(50):
        if all(any(marker in v for v in csp_violations) for marker in ("Refused to", "violation:")):
            break
        page.wait_for_timeout(100)
    assert any("script-src" in violation for violation in csp_violations)
    csp_violations.clear()  # provoked on purpose: the fixture must not fail this test


def test_head_office_edits_previews_and_drafts_a_product_under_the_admin_policy(
    live_server, browser_page, menu_page, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    settings.WAGTAILADMIN_BASE_URL = live_server.url  # where the userbar fetches its script
    product = ProductPageFactory(parent=menu_page, title="Regina", summary="Tomate, jambon, champignons.")
    editor = UserFactory(email="siege@oc-pizza.fr", groups=[roles.HEAD_OFFICE])
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 900})  # room for the preview panel

    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", editor.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/")
    page.goto(f"{live_server.url}/admin/pages/{product.id}/edit/")

    # The image chooser: a modal whose upload tab sends a new photo and picks it.
    page.get_by_role("button", name="Choisir une image").click()
    modal = page.locator(".modal-content")
    modal.get_by_role("tab", name="Transférer").click()
    modal.locator("input[type=file]").set_input_files(png("red"))
    expect(modal.get_by_label("Titre")).to_have_value("regina")  # filled in by Wagtail's script
    modal.locator("form button[type=submit]").first.click()
    modal.wait_for(state="detached")
    assert page.locator("#id_photo-title").inner_text().strip() == "regina"

    # The live preview, in a frame of the admin, then the content checks that run inside it.
    page.locator('[data-side-panel-toggle="preview"]').click()
    preview = page.frame_locator("iframe.w-preview__iframe").last
    assert preview.locator("h1").inner_text() == "Regina"
    page.locator('[data-side-panel-toggle="checks"]').click()
    expect(page.locator("[data-content-word-count]")).to_have_text(
        re.compile(r"^\d+$")
    )  # counted in the preview

    page.get_by_role("button", name="Enregistrer le brouillon").click()
    page.wait_for_url(f"**/admin/pages/{product.id}/edit/")
    product.refresh_from_db()
    assert product.has_unpublished_changes
    assert product.get_latest_revision_as_object().photo.title == "regina"

    # On the storefront, the editor's userbar opens and runs its checks under the strict policy.
    page.goto(f"{live_server.url}{product.url}")
    page.locator("wagtail-userbar button.w-userbar-trigger").click()
    page.locator("wagtail-userbar").get_by_role("menuitem", name="Vérifications").click()
    page.locator("wagtail-userbar").get_by_text("Problèmes trouvés").first.wait_for()
