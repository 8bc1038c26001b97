"""A store manager reviews orders in headless Chromium (screenshots kept): the dashboard shows
today's orders and a late one, the list finds a phone order by channel and phone number typed
another way, the CSV export downloads what the list shows, and « Réinitialiser » clears it all."""

import csv
import datetime
import io

import pytest
from django.utils import timezone

from ordering.models import Order
from ordering.services import Contact

from .factories import line, place
from .test_journey_browser import SCREENSHOTS

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("restore_migrated_rows")]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def moved_to_now(order, *, promised_in):
    now = timezone.now()
    Order.objects.filter(pk=order.pk).update(created_at=now, promised_at=now + promised_in)
    return order


def fits_the_phone(page):
    """What of our content passes a phone's width, the page left at that width (the tables
    scroll in their boxes; Wagtail's header is Wagtail's)."""
    page.set_viewport_size(PHONE)
    page.reload()
    clipped = page.evaluate(
        """() => [...document.querySelectorAll("main *")]
          .filter((el) => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
          .filter((el) => !el.closest(".stock-group, .listing, header"))
          .slice(0, 5).map((el) => `${el.tagName.toLowerCase()}.${el.className}`)"""
    )
    return clipped


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # see stores/tests/test_concurrency.py
def test_a_manager_finds_a_phone_order_exports_it_and_sees_a_late_order(live_server, browser_page, shop):
    from accounts.tests.factories import PASSWORD, UserFactory
    from ocpizza import roles
    from stores.models import StoreMembership, StoreRole

    manager = UserFactory(email="romain@oc-pizza.fr", groups=[roles.STORE_MANAGERS])
    StoreMembership.objects.create(user=manager, store=shop.store, role=StoreRole.MANAGER)
    place(shop, contact=Contact(name="Camille Martin", phone="06 12 34 56 78", email="camille@example.fr"))
    phoned = place(
        shop,
        [line(shop.small), line(shop.beer_size)],
        source="phone",
        payment_method="card_terminal",
        contact=Contact(name="Paul Durand", phone="+33 7 01 02 03 04"),
    )
    late = moved_to_now(
        place(shop, source="counter", contact=Contact(name="Lina Haddad", phone="04 78 00 11 22")),
        promised_in=-datetime.timedelta(minutes=25),
    )
    page = browser_page
    page.set_viewport_size(DESKTOP)

    # The dashboard: today's orders of the store, and the late one, linked to its detail.
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", manager.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/")
    today = page.locator(f'#todays-orders-content tr[data-store="{shop.store.id}"]')
    assert today.locator("[data-total]").inner_text() == "1"
    page.screenshot(path=_shot("01-dashboard"), full_page=True)
    page.locator(f'[data-late-order="{late.number}"]').get_by_role("link", name=late.number).click()
    page.wait_for_url(f"**/admin/commandes/{late.number}/")
    assert page.locator("dd[data-source]").inner_text() == "Comptoir"
    assert page.locator(".order-timeline [data-to=received]").count() == 1

    # The list: the phone orders, searched by the number typed without spaces nor prefix.
    page.goto(f"{live_server.url}/admin/commandes/")
    assert page.locator("tr[data-order]").count() == 3
    page.select_option("select[name=source]", label="Téléphone")
    page.get_by_label("Recherche").fill("0701020304")
    page.get_by_role("button", name="Filtrer").click()
    page.wait_for_url("**/admin/commandes/?*")
    rows = page.locator("tr[data-order]")
    assert rows.count() == 1
    assert rows.first.get_attribute("data-order") == phoned.number
    page.screenshot(path=_shot("02-list-filtered"), full_page=True)
    assert fits_the_phone(page) == []
    page.screenshot(path=_shot("03-list-filtered-phone"), full_page=True)
    page.set_viewport_size(DESKTOP)

    # The export: what the list shows, for a French spreadsheet.
    with page.expect_download() as download:
        page.get_by_role("link", name="Exporter en CSV").click()
    assert download.value.suggested_filename.startswith("commandes-")
    body = download.value.path().read_text(encoding="utf-8")
    assert body.startswith("\ufeff")
    exported = list(csv.reader(io.StringIO(body.removeprefix("\ufeff")), delimiter=";"))
    assert [row[0] for row in exported[1:]] == [phoned.number]
    assert exported[1][3] == "Téléphone"
    assert exported[1][6] == "'+33 7 01 02 03 04"
    assert exported[1][18] == "13,00"

    # « Réinitialiser »: every order again, no filter left.
    page.get_by_role("link", name="Réinitialiser").click()
    page.wait_for_url(f"{live_server.url}/admin/commandes/")
    assert page.locator("tr[data-order]").count() == 3
    assert page.get_by_label("Recherche").input_value() == ""


def _shot(name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"review-{name}.png"
