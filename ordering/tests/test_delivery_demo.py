"""The delivery board on the demo chain (`make run`): its driver, addresses the offline geocoder
places, and the pages drawn with strict templates."""

import copy
import datetime
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from menu.models import ProductPage
from ordering import services
from ordering.models import Order
from ordering.pricing import CartLine
from stores.geo import OfflineGeocoder
from stores.models import StorePage

PLACED = timezone.make_aware(datetime.datetime(2026, 11, 25, 12, 0))  # a Wednesday lunchtime


@pytest.fixture
def demo(db):
    call_command("load_demo_data", "--i-know-this-is-production", stdout=io.StringIO())


@pytest.fixture
def strict_templates(settings):
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["OPTIONS"]["string_if_invalid"] = "TEMPLATE-ERROR[%s]"
    settings.TEMPLATES = templates


def test_the_demo_driver_drives_for_bellecour_and_every_delivered_address_is_placed_offline(demo):
    bellecour = StorePage.objects.get(slug="bellecour")

    assert [user.email for user in services.store_drivers(bellecour)] == ["livreur@oc-pizza.fr"]
    geocoder = OfflineGeocoder()
    for store in StorePage.objects.all():
        for postcode in store.delivery_postcode_list:
            place = geocoder.geocode(f"8 rue Mercière, {postcode} {store.city}")
            assert place.postcode == postcode


def test_the_demo_board_and_phone_view_draw_every_variable(demo, client, settings, strict_templates):
    settings.GOOGLEAPIKEY = ""
    bellecour = StorePage.objects.get(slug="bellecour")
    size = ProductPage.objects.get(title="Margherita").sizes.order_by("sort_order").first()
    orders = []
    for n, fulfilment in enumerate(["delivery", "delivery", "pickup"]):
        order = services.place_order(
            store=bellecour,
            lines=[CartLine(size_id=size.id, quantity=2, extra_ids=())],
            fulfilment=fulfilment,
            contact=services.Contact(name="Camille Martin", phone="06 12 34 56 78"),
            address=services.Address(street_address=f"{n + 1} rue Mercière", postcode="69002", city="Lyon")
            if fulfilment == "delivery"
            else None,
            payment_method="cash",
            source=Order.Source.PHONE,
            idempotency_key=f"demo-delivery-{n:04d}",
            now=PLACED,
        )
        services.start_preparing(order, now=PLACED)
        orders.append(services.mark_ready(order, now=PLACED))
    driver = services.store_drivers(bellecour).get()
    services.assign_driver(orders[0], driver=driver)
    services.assign_driver(orders[1], driver=driver)
    services.send_out(orders[1])

    for email, urls in [
        ("equipier@oc-pizza.fr", ["", "tableau/", f"livreur/{driver.id}/"]),
        ("livreur@oc-pizza.fr", ["", "tableau/", f"livreur/{driver.id}/", f"livreur/{driver.id}/suivi/"]),
    ]:
        client.logout()
        client.post("/compte/connexion/", {"login": email, "password": "pizza-demo-2026"})
        for url in urls:
            response = client.get(f"/equipe/{bellecour.id}/livraisons/{url}")
            assert response.status_code == 200, (email, url)
            assert "TEMPLATE-ERROR" not in response.content.decode(), (email, url)
