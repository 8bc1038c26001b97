"""Issue 12's whole journey in headless Chromium on the demo chain, four people in four browser
contexts (screenshots kept as `staff-journey-*.png`):

1. the équipière of Bellecour takes a phone order for a new customer at the counter;
2. the pizzaiolo's kitchen board shows it within two seconds, without a reload; he opens its
   recipe card, starts it, undoes the start, starts it again and marks it ready;
3. the équipière gives it to the driver on the delivery board; the driver's phone shows it with
   the route link, he leaves, and marks it delivered with the cash received (change shown);
4. the manager finds it in the orders list, in the day's report and in the ingredient-use report.
"""

import datetime
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db.models import Sum
from django.utils import timezone
from playwright.sync_api import expect

from menu.models import Ingredient, ProductPage
from ordering.models import Order
from stores.models import OpeningHours, StockLevel, StockMovement, StorePage
from stores.services import count_inventory

from .test_journey_browser import load_demo
from .test_refund_journey_browser import log_in, log_in_admin

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("restore_migrated_rows")]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
TABLET = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
APPEARS_WITHIN_MS = 2_000
NBSP = "\u00a0"


def shot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"staff-journey-{name}.png", full_page=True)


def context(chromium, watch_csp, viewport, **options):
    browser_context = chromium.new_context(locale="fr-FR", viewport=viewport, **options)
    watch_csp(browser_context)
    page = browser_context.new_page()
    page.set_default_timeout(15_000)
    return browser_context, page


def net_use(store, ingredient, since):
    """What the kitchen's movements took of `ingredient` since `since` (consumptions minus the
    restorations of an undone start)."""
    taken = StockMovement.objects.filter(
        store=store,
        ingredient=ingredient,
        created_at__gt=since,
        kind__in=[StockMovement.Kind.CONSUMPTION, StockMovement.Kind.RESTORATION],
    ).aggregate(total=Sum("on_hand_change"))["total"]
    return -(taken or 0)


def take_phone_order(page, base_url, store):
    """The counter takes a phone order for a new customer: two Margheritas, delivered, cash."""
    page.goto(f"{base_url}/equipe/")
    page.get_by_role("link", name="Prise de commande").click()
    page.wait_for_url(f"**/equipe/{store.id}/prise-de-commande/")
    page.get_by_label("Numéro de téléphone du client").fill("06 71 23 45 67")
    page.get_by_role("button", name="Rechercher").click()
    expect(page.get_by_text("Aucun client connu à ce numéro")).to_be_visible()
    page.get_by_label("Nom", exact=True).fill("Zoé Fabre")
    page.get_by_label("Téléphone", exact=True).fill("06 71 23 45 67")
    page.get_by_label("Livraison", exact=True).check()
    page.get_by_label("Adresse", exact=True).fill("12 rue Sainte-Hélène")
    page.get_by_label("Code postal").fill(store.delivery_postcode_list[0])
    page.get_by_label("Ville").fill("Lyon")
    page.get_by_role("button", name="Vérifier l’adresse").click()
    expect(page.locator(".taking-located")).to_contain_text("Adresse livrable")
    card = page.locator(f"#produit-{ProductPage.objects.get(title='Margherita').id}")
    card.get_by_label("Quantité").fill("2")
    card.get_by_role("button", name="Ajouter Margherita").click()
    expect(page.get_by_label("Quantité de Margherita")).to_have_value("2")
    page.get_by_label("Espèces").check()
    shot(page, "1-order-taking")
    page.get_by_role("button", name="Enregistrer la commande").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("enregistrée")
    return Order.objects.get(contact_name="Zoé Fabre")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # see stores/tests/test_concurrency.py
def test_a_phone_order_goes_from_the_counter_to_the_kitchen_the_driver_and_the_manager(
    live_server, chromium, watch_csp, csp_violations, settings
):
    settings.GOOGLEAPIKEY = ""
    load_demo()
    bellecour = StorePage.objects.get(slug="bellecour").specific
    for weekday in range(7):  # a slot is offered whatever the day and hour the test runs
        OpeningHours.objects.get_or_create(
            store=bellecour, weekday=weekday, opens=datetime.time(11), closes=datetime.time(23, 30)
        )
    mozzarella = Ingredient.objects.get(name="Mozzarella")
    # The manager counts the mozzarella before service (100 g short of the books): the opening
    # count of the ingredient-use report.
    shelf = StockLevel.objects.get(store=bellecour, ingredient=mozzarella).on_hand
    count_inventory(store=bellecour, counts=[(mozzarella, shelf - 100)], user=None)
    opened_at = timezone.now()

    counter_context, counter = context(chromium, watch_csp, TABLET)
    kitchen_context, kitchen = context(chromium, watch_csp, TABLET)
    phone_context, phone = context(chromium, watch_csp, PHONE, has_touch=True, is_mobile=True)
    manager_context, manager = context(chromium, watch_csp, TABLET)
    maps = []
    phone_context.route(
        "https://www.google.com/**",
        lambda route: (maps.append(route.request.url), route.fulfill(status=200, body="<p>Maps</p>")),
    )

    # The kitchen board is open before the phone rings.
    log_in(kitchen, live_server.url, "pizzaiolo@oc-pizza.fr")
    kitchen.goto(f"{live_server.url}/equipe/{bellecour.id}/cuisine/")
    kitchen.evaluate("() => { window.samePage = true; }")

    # 1. The counter takes the phone order.
    log_in(counter, live_server.url, "equipier@oc-pizza.fr")
    order = take_phone_order(counter, live_server.url, bellecour)
    assert (order.source, order.customer_id, order.contact_name) == (Order.Source.PHONE, None, "Zoé Fabre")

    # 2. The kitchen sees it within two seconds, reads the recipe, starts, undoes, starts, ready.
    ticket = kitchen.locator(f'[data-ticket="{order.id}"]')
    expect(ticket).to_be_visible(timeout=APPEARS_WITHIN_MS)
    assert kitchen.evaluate("() => window.samePage") is True
    shot(kitchen, "2-kitchen-new")
    ticket.get_by_role("link", name="Margherita").click()
    expect(kitchen.get_by_role("heading", name="Préparation")).to_be_visible()
    expect(kitchen.locator("main")).to_contain_text("Mozzarella")
    shot(kitchen, "3-recipe-card")
    kitchen.get_by_role("link", name="← Retour à la cuisine").first.click()
    received = kitchen.locator(".kitchen-column-received")
    preparing = kitchen.locator(".kitchen-column-preparing")
    ready = kitchen.locator(".kitchen-column-ready")
    received.locator(f'[data-ticket="{order.id}"]').get_by_role("button", name="Commencer").click()
    preparing.locator(f'[data-ticket="{order.id}"]').get_by_role(
        "button", name="Annuler : remettre en attente"
    ).click()
    expect(received.locator(f'[data-ticket="{order.id}"]')).to_be_visible()
    assert net_use(bellecour, mozzarella, opened_at) == 0  # the undone start gave it back
    received.locator(f'[data-ticket="{order.id}"]').get_by_role("button", name="Commencer").click()
    preparing.locator(f'[data-ticket="{order.id}"]').get_by_role("button", name="Prête").click()
    expect(ready.locator(f'[data-ticket="{order.id}"]')).to_be_visible()
    shot(kitchen, "4-kitchen-ready")
    used = net_use(bellecour, mozzarella, opened_at)
    assert used > 0

    # 3. The counter gives it to Lucas; his phone shows the round; he leaves and is paid in cash.
    counter.goto(f"{live_server.url}/equipe/{bellecour.id}/livraisons/")
    card = counter.locator(f'#to-assign ~ .delivery-cards [data-order="{order.number}"]')
    card.locator("select[name=driver]").select_option(label="Lucas Livreur")
    card.get_by_role("button", name="Confier").click()
    expect(counter.locator(".staff-messages")).to_contain_text(
        f"Commande {order.number} confiée à Lucas Livreur."
    )
    shot(counter, "5-delivery-board")
    log_in(phone, live_server.url, "livreur@oc-pizza.fr")
    phone.goto(f"{live_server.url}/equipe/{bellecour.id}/livraisons/moi/")
    route_link = phone.get_by_role("link", name="Ouvrir l’itinéraire dans Google Maps")
    href = route_link.get_attribute("href")
    query = parse_qs(urlsplit(href).query)
    store_point = f"{bellecour.latitude:.6f},{bellecour.longitude:.6f}"
    assert (query["origin"], query["destination"]) == ([store_point], [store_point])
    assert query["waypoints"] == [order.full_address]
    with phone_context.expect_page() as opened:
        route_link.click()
    opened.value.wait_for_load_state()
    opened.value.close()
    assert maps == [href]
    phone.get_by_role("button", name="Je pars avec ces commandes").click()
    stop = phone.locator(f'.delivery-stops [data-order="{order.number}"]')
    stop.locator("input[name=amount_received]").fill("50")
    stop.get_by_role("button", name="Livrée").click()
    change = f"{50 - order.total:.2f}".replace(".", ",")
    expect(phone.locator(".staff-messages")).to_contain_text(f"Monnaie à rendre : {change}{NBSP}€.")
    shot(phone, "6-driver-delivered")
    order.refresh_from_db()
    assert order.status == Order.Status.DELIVERED
    # The manager counts again after service: the closing count.
    shelf = StockLevel.objects.get(store=bellecour, ingredient=mozzarella).on_hand
    count_inventory(store=bellecour, counts=[(mozzarella, shelf - 30)], user=None)

    # 4. The manager finds it in the orders, the day's report and the ingredient-use report.
    log_in_admin(manager, live_server.url, "responsable@oc-pizza.fr")
    manager.goto(f"{live_server.url}/admin/commandes/?q={order.number}")
    rows = manager.locator("table.listing tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(order.number)
    expect(rows.first).to_contain_text("Zoé Fabre")
    shot(manager, "7-manager-orders")

    today = timezone.localdate()
    manager.goto(f"{live_server.url}/admin/rapports/?period=day&date={today:%Y-%m-%d}&store={bellecour.id}")
    counted = Order.objects.filter(store=bellecour, created_at__date=today).exclude(
        status__in=[Order.Status.CANCELLED, Order.Status.PENDING_PAYMENT]
    )
    figures = manager.locator("[data-report-figures] tbody tr").first.locator("td")
    expect(figures.first).to_have_text(str(counted.count()))
    expect(manager.locator("[data-report-shares]")).to_contain_text("Téléphone")
    shot(manager, "8-manager-report")

    manager.goto(f"{live_server.url}/admin/stock/{bellecour.id}/ecarts/?date_from={today}&date_to={today}")
    cheese = manager.locator('tbody tr[data-ingredient="Mozzarella"]')
    expect(cheese.locator("td").nth(5)).to_have_text(str(used))  # expected use: this order, once
    expect(cheese.locator("[data-gap]")).to_have_text(re.compile(r"[+-]\d+"))
    shot(manager, "9-manager-ingredient-use")

    for browser_context in (counter_context, kitchen_context, phone_context, manager_context):
        browser_context.close()
    assert csp_violations == []
