"""Issue 12's delivery board in headless Chromium on the demo chain (screenshots kept), two
browser contexts: the équipière of Bellecour gives a ready order to the driver on the board; the
driver's phone view shows it with the route link (opened: Google Maps is answered by a local
stand-in, nothing leaves the machine), the driver leaves — the board follows without a reload —
taps « Livrée » and records the cash: the change is shown, the order leaves the board.
"""

import datetime
import io
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command
from django.utils import timezone

from menu.models import ProductPage
from ordering import services
from ordering.models import Order
from ordering.pricing import CartLine
from stores.models import StorePage

from .test_refund_journey_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("restore_migrated_rows")]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
NBSP = "\u00a0"
TABLET = {"width": 1024, "height": 900}
PHONE = {"width": 390, "height": 844}
# A Wednesday lunchtime, when Bellecour is open: the order is placed then (so it shows late).
PLACED = timezone.make_aware(datetime.datetime(2026, 11, 25, 12, 0))


def french(amount):
    """« 24,00 € » as the pages write it."""
    return f"{amount:.2f}".replace(".", ",") + f"{NBSP}€"


def shot(page, name):
    """Keep a screenshot of the step; the page must fit the screen's width (no sideways scroll)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    overflow = page.evaluate(
        """() => [...document.querySelectorAll("body *")]
          .filter((el) => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
          .slice(0, 5).map((el) => `${el.tagName.toLowerCase()}.${el.className}`)"""
    )
    assert not overflow, f"{name}: wider than the screen: {overflow}"
    page.screenshot(path=SCREENSHOTS / f"delivery-{name}.png", full_page=True)


def ready_phone_order(store, key="browser-delivery-0001", street="8 rue Mercière"):
    """A phone order at Bellecour, delivered to the Presqu'île, cash on delivery, ready."""
    margherita = ProductPage.objects.get(title="Margherita")
    size = margherita.sizes.order_by("sort_order").first()
    order = services.place_order(
        store=store,
        lines=[CartLine(size_id=size.id, quantity=2, extra_ids=())],
        fulfilment="delivery",
        contact=services.Contact(name="Camille Martin", phone="06 12 34 56 78"),
        address=services.Address(
            street_address=street, postcode="69002", city="Lyon", details="Interphone Martin"
        ),
        payment_method="cash",
        source=Order.Source.PHONE,
        idempotency_key=key,
        now=PLACED,
    )
    services.start_preparing(order, now=PLACED)
    return services.mark_ready(order, now=PLACED)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # see stores/tests/test_concurrency.py
def test_the_counter_assigns_the_driver_follows_the_route_and_records_the_cash(
    live_server, chromium, watch_csp, csp_violations, settings
):
    settings.GOOGLEAPIKEY = ""
    call_command("load_demo_data", "--i-know-this-is-production", stdout=io.StringIO())
    bellecour = StorePage.objects.get(slug="bellecour")
    order = ready_phone_order(bellecour)
    board_url = f"{live_server.url}/equipe/{bellecour.id}/livraisons/"

    counter_context = chromium.new_context(locale="fr-FR", viewport=TABLET)
    phone_context = chromium.new_context(locale="fr-FR", viewport=PHONE, has_touch=True, is_mobile=True)
    maps_requests = []

    def google_maps(route):
        maps_requests.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<p>Google Maps</p>")

    for context in (counter_context, phone_context):
        watch_csp(context)
        context.route("https://www.google.com/**", google_maps)
    counter, phone = counter_context.new_page(), phone_context.new_page()
    for page in (counter, phone):
        page.set_default_timeout(15_000)

    # The équipière opens the board: the order is ready, late, with what to collect.
    log_in(counter, live_server.url, "equipier@oc-pizza.fr")
    counter.goto(board_url)
    card = counter.locator(f'#to-assign ~ .delivery-cards [data-order="{order.number}"]')
    assert "8 rue Mercière, 69002 Lyon" in card.inner_text()
    assert f"À encaisser : {french(order.total)} (Espèces)" in card.inner_text()
    assert "En retard de" in card.inner_text()
    card.locator("select[name=driver]").select_option(label="Lucas Livreur")
    shot(counter, "1-board-ready")
    card.get_by_role("button", name="Confier").click()
    counter.wait_for_url(board_url)
    assert (
        f"Commande {order.number} confiée à Lucas Livreur." in counter.locator(".staff-messages").inner_text()
    )
    driver_card = counter.locator(f'.delivery-driver [data-order="{order.number}"]')
    driver_card.wait_for()

    # The driver's phone: their order, the route from the store and back, the per-order link.
    log_in(phone, live_server.url, "livreur@oc-pizza.fr")
    phone.goto(f"{board_url}moi/")
    stop = phone.locator(f'.delivery-stops [data-order="{order.number}"]')
    assert "8 rue Mercière, 69002 Lyon" in stop.inner_text()
    assert "Interphone Martin" in stop.inner_text()
    assert stop.locator('a[href="tel:0612345678"]').count() == 1
    route_link = phone.get_by_role("link", name="Ouvrir l’itinéraire dans Google Maps")
    href = route_link.get_attribute("href")
    query = parse_qs(urlsplit(href).query)
    assert (query["origin"], query["destination"]) == (["45.755040,4.830760"], ["45.755040,4.830760"])
    assert query["waypoints"] == ["8 rue Mercière, 69002 Lyon"]
    shot(phone, "2-phone-round")
    with phone_context.expect_page() as opened:
        route_link.click()
    opened.value.wait_for_load_state()
    assert maps_requests == [href]
    opened.value.close()

    # The driver leaves; the board follows without a reload.
    phone.get_by_role("button", name="Je pars avec ces commandes").click()
    assert "part en livraison" in phone.locator(".staff-messages").inner_text()
    counter.locator(f'.delivery-driver .delivery-card.out[data-order="{order.number}"]').wait_for()
    shot(counter, "3-board-out")

    # Delivered: cash, 50 € received, the change computed by the server.
    stop = phone.locator(f'.delivery-stops [data-order="{order.number}"]')
    assert stop.locator("select[name=payment_method]").input_value() == "cash"
    assert stop.locator("input[name=amount_received]").input_value() == str(order.total).replace(".", ",")
    stop.locator("input[name=amount_received]").fill("50")
    # Meanwhile the counter gives him the next order: his page follows, and keeps what he typed.
    following = ready_phone_order(bellecour, key="browser-delivery-0002", street="3 rue Mercière")
    services.assign_driver(following, driver=services.store_drivers(bellecour).get())
    phone.locator(f'#waiting ~ .delivery-cards [data-order="{following.number}"]').wait_for()
    assert stop.locator("input[name=amount_received]").input_value() == "50"
    stop.get_by_role("button", name="Livrée").click()
    message = phone.locator(".staff-messages").inner_text()
    assert message == (
        f"Commande {order.number} livrée. Reçu 50,00{NBSP}€ (espèces). "
        f"Monnaie à rendre : {french(Decimal('50.00') - order.total)}."
    )
    # His next round is the order waiting for him.
    assert phone.locator(f'.delivery-stops [data-order="{following.number}"]').count() == 1
    shot(phone, "4-phone-delivered")

    # The board drops it by itself.
    counter.locator(f'[data-order="{order.number}"]').wait_for(state="detached")
    shot(counter, "5-board-after")
    order.refresh_from_db()
    assert order.status == Order.Status.DELIVERED
    assert order.payments.get().change_given == Decimal("50.00") - order.total

    counter_context.close()
    phone_context.close()
    assert csp_violations == []
