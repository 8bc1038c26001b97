"""The sales reports in headless Chromium on the demo chain (screenshots kept): the manager of
Bellecour and Croix-Rousse reads their two stores side by side, the charts are images named by
their title, the page fits a phone, the CSV downloads; head office sees every store."""

import datetime

import pytest
from django.utils import timezone

from menu.models import ProductPage
from ordering.models import Order
from ordering.pricing import CartLine
from ordering.reports import PARIS
from ordering.services import Contact, mark_ready, place_order, start_preparing
from stores.models import OpeningHours, StorePage

from .test_journey_browser import SCREENSHOTS, load_demo
from .test_refund_journey_browser import DESKTOP, PHONE, log_in_admin

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("restore_migrated_rows")]


def shot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"reports-{name}.png", full_page=True)


def fits_the_phone(page):
    """Our content fits the phone's width, but in the tables' scroll boxes."""
    page.set_viewport_size(PHONE)
    page.reload()
    clipped = page.evaluate(
        """() => [...document.querySelectorAll("main *")]
          .filter((el) => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
          .filter((el) => !el.closest(".stock-group, header"))
          .slice(0, 5).map((el) => `${el.tagName.toLowerCase()}.${el.className}`)"""
    )
    return clipped


def place_at_noon(store, size, quantity, key, now):
    return place_order(
        store=store,
        lines=[CartLine(size_id=size.id, quantity=quantity)],
        fulfilment="pickup",
        contact=Contact(name="Camille Martin", phone="06 12 34 56 78", email="camille@example.fr"),
        payment_method="cash",
        idempotency_key=key,
        now=now,
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # see stores/tests/test_concurrency.py
def test_a_manager_reads_the_report_of_their_stores_and_head_office_of_all(live_server, chromium, watch_csp):
    load_demo()
    today = timezone.localdate(timezone.now(), PARIS)
    noon = datetime.datetime.combine(today, datetime.time(12), tzinfo=PARIS)
    bellecour = StorePage.objects.get(slug="bellecour")
    for weekday in range(7):
        OpeningHours.objects.get_or_create(
            store=bellecour, weekday=weekday, opens=datetime.time(11), closes=datetime.time(23, 30)
        )
    margherita = ProductPage.objects.get(slug="margherita").sizes.order_by("sort_order").first()
    first = place_at_noon(bellecour, margherita, 2, "reports-browser-1", noon)
    place_at_noon(bellecour, margherita, 1, "reports-browser-2", noon + datetime.timedelta(minutes=40))
    place_at_noon(StorePage.objects.get(slug="vaise"), margherita, 3, "reports-browser-3", noon)
    start_preparing(first, now=noon + datetime.timedelta(minutes=2))
    mark_ready(first, now=noon + datetime.timedelta(minutes=14))

    context = chromium.new_context(locale="fr-FR", viewport=DESKTOP, accept_downloads=True)
    watch_csp(context)
    page = context.new_page()
    page.set_default_timeout(15_000)
    log_in_admin(page, live_server.url, "responsable@oc-pizza.fr")
    page.get_by_role("link", name="Rapports").first.click()
    page.wait_for_url("**/admin/rapports/")

    headers = page.locator("[data-report-figures] thead th").all_inner_texts()
    assert headers == ["Indicateur", "OC Pizza Bellecour", "OC Pizza Croix-Rousse", "Total"]
    orders = page.locator("[data-report-figures] tbody tr").first.locator("td").all_inner_texts()
    # Bellecour: the two orders above and the demo's kitchen orders, placed today too.
    demo = Order.objects.filter(store=bellecour, idempotency_key__startswith="demo-kitchen-").count()
    assert orders == [str(2 + demo), "0", str(2 + demo)]
    assert "Vaise" not in page.locator("main").inner_text()
    assert page.get_by_role("img", name="Chiffre d'affaires TTC par heure").is_visible()
    assert page.get_by_role("img", name="Chiffre d'affaires TTC par point de vente").is_visible()
    shot(page, "01-manager-day")

    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger en CSV").click()
    assert download.value.suggested_filename == f"rapport-day-{today:%Y-%m-%d}.csv"

    page.get_by_label("Période", exact=True).select_option("month")
    page.get_by_role("button", name="Afficher", exact=True).click()
    page.wait_for_url("**/admin/rapports/?*period=month*")
    assert page.locator("[data-report-period]").inner_text().endswith(str(today.year))
    shot(page, "02-manager-month")
    last_month = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    assert page.get_by_role("link", name="Période précédente").get_attribute("href") == (
        f"/admin/rapports/?period=month&date={last_month}"
    )
    chart = page.get_by_role("img", name="Chiffre d'affaires TTC par jour")
    chart.scroll_into_view_if_needed()
    shot(page, "02b-manager-month-chart")
    assert fits_the_phone(page) == []
    shot(page, "03-manager-month-phone")

    head_office = chromium.new_context(locale="fr-FR", viewport=DESKTOP)
    watch_csp(head_office)
    page = head_office.new_page()
    page.set_default_timeout(15_000)
    log_in_admin(page, live_server.url, "siege@oc-pizza.fr")
    page.goto(f"{live_server.url}/admin/rapports/?period=week&date={today:%Y-%m-%d}")
    headers = page.locator("[data-report-figures] thead th").all_inner_texts()
    assert headers[0] == "Indicateur" and headers[-1] == "Total"
    assert len(headers) == 2 + StorePage.objects.count()
    assert page.locator("[data-report-figures] tbody tr").first.locator("td").last.inner_text() == str(
        3 + demo
    )
    shot(page, "04-head-office-week")
    context.close()
    head_office.close()
