"""The delivery board (/equipe/<store>/livraisons/) and the drivers' phone view: who opens them,
what they show, the actions (assign, send out, delivered, collected) and the live poll."""

import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from accounts.tests.factories import UserFactory
from ocpizza import roles
from ordering.access import DELIVERY_BOARD, screen_stores
from ordering.boards import delivery_board_etag, delivery_board_poll
from ordering.models import Order, OrderEvent, Payment
from ordering.services import assign_driver, cancel_order, send_out
from stores.models import StoreRole
from stores.tests.factories import StorePageFactory

from .delivery_helpers import crew, ready

Status = Order.Status


@pytest.fixture
def store(shop):
    return shop.store


@pytest.fixture
def bellecour(store_index):
    return StorePageFactory(parent=store_index, title="OC Pizza Bellecour", slug="bellecour")


@pytest.fixture
def driver(store):
    return crew(StoreRole.DRIVER, store, first_name="Lucas", last_name="Livreur")


@pytest.fixture
def manager(store):
    return crew(StoreRole.MANAGER, store, first_name="Romain", last_name="Responsable")


def logged(client, user):
    client.force_login(user)
    return client


def board_url(store):
    return reverse("staff:delivery", args=[store.id])


def text(response):
    return re.sub(r"[ \t\r\n]+", " ", response.content.decode())  # no-break spaces kept


def written(order):
    order.refresh_from_db()
    return (order.status, order.version, order.driver_id, order.events.count(), order.payments.count())


def user_for(role, store, other):
    """A user of each kind the contract lists, working in `store` (or in `other`: "elsewhere")."""
    if role == "head_office":
        return UserFactory(groups=[roles.HEAD_OFFICE])
    if role == "marketing":
        return UserFactory(groups=[roles.MARKETING])
    if role == "customer":
        return UserFactory()
    if role == "manager_elsewhere":
        return crew(StoreRole.MANAGER, other)
    if role == "driver_elsewhere":
        return crew(StoreRole.DRIVER, other)
    return crew(StoreRole(role), store)


ROLES = [
    ("manager", 200),
    ("staff", 200),
    ("driver", 200),
    ("head_office", 200),
    ("pizzaiolo", 403),
    ("marketing", 403),
    ("customer", 403),
    ("manager_elsewhere", 403),
    ("driver_elsewhere", 403),
]


# Who opens the board -----------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "status"), ROLES)
def test_the_board_opens_for_the_store_s_crew_and_head_office_only(client, store, bellecour, role, status):
    response = logged(client, user_for(role, store, bellecour)).get(board_url(store))

    assert response.status_code == status
    if status == 403:
        assert "Vous n’avez pas accès à cet écran pour ce point de vente." in text(response)
    else:
        assert "<h1>Livraisons</h1>" in text(response)


@pytest.mark.parametrize(("role", "status"), ROLES)
def test_the_poll_answers_as_the_board_does(client, store, bellecour, role, status):
    user = user_for(role, store, bellecour)

    response = logged(client, user).get(reverse("staff:delivery_status", args=[store.id]))

    assert response.status_code == status
    allowed = delivery_board_poll(user, store.id)[1]
    assert allowed == screen_stores(user, DELIVERY_BOARD).filter(id=store.id).exists() == (status == 200)


def test_a_visitor_is_sent_to_the_login_page(client, store):
    response = client.get(board_url(store))

    assert response.status_code == 302
    assert response["Location"] == f"/compte/connexion/?next=/equipe/{store.id}/livraisons/"


def test_an_unknown_store_is_404(client, store, manager):
    assert logged(client, manager).get(reverse("staff:delivery", args=[987654])).status_code == 404
    assert client.get(reverse("staff:delivery_status", args=[987654])).status_code == 404


def test_the_board_appears_in_the_staff_home(client, store, driver):
    response = logged(client, driver).get("/equipe/")

    assert f'href="/equipe/{store.id}/livraisons/"' in text(response)


# What the board shows ----------------------------------------------------------------------------


def test_the_board_shows_ready_orders_oldest_promise_first_with_a_late_warning(
    client, shop, store, manager, driver
):
    delivery = ready(shop)
    pickup = ready(shop, fulfilment="pickup")
    out = ready(shop, street="3 rue Marietton")
    assign_driver(out, driver=driver)
    send_out(out)

    page = text(logged(client, manager).get(board_url(store)))

    assert page.index(delivery.number) < page.index(out.number)
    assert "12 rue de Bourgogne, 69009 Lyon" in page
    assert "2e étage, code 1234" in page
    assert 'href="tel:0612345678"' in page
    assert re.search(r"En retard de \d+ h \d\d<", page)  # promised on the 25th of November 2026 at noon
    assert "À encaisser : 20,50\u00a0€ (Espèces)" in page
    assert "À encaisser : 18,00\u00a0€ (Espèces)" in page  # the pickup
    assert f'action="/equipe/{store.id}/livraisons/commande/{pickup.id}/retiree/"' in page
    assert f'action="/equipe/{store.id}/livraisons/commande/{out.id}/livree/"' in page
    assert f'<option value="{driver.id}">Lucas Livreur</option>' in page


def test_the_board_costs_the_same_queries_with_many_orders(client, shop, store, manager, driver):
    browser = logged(client, manager)
    ready(shop)
    with CaptureQueriesContext(connection) as few:
        assert browser.get(board_url(store)).status_code == 200
    for n in range(4):
        order = ready(shop, street=f"{n} rue Marietton")
        if n % 2:
            assign_driver(order, driver=driver)
        if n == 3:
            send_out(order)
    ready(shop, fulfilment="pickup")
    crew(StoreRole.DRIVER, store)

    with CaptureQueriesContext(connection) as many:
        assert browser.get(board_url(store)).status_code == 200

    assert len(many) == len(few)
    assert len(many) <= 20


# Assigning ---------------------------------------------------------------------------------------


def test_the_counter_gives_an_order_to_a_driver(client, shop, store, manager, driver):
    order = ready(shop)

    response = logged(client, manager).post(
        reverse("staff:delivery_assign", args=[store.id, order.id]), {"driver": driver.id}, follow=True
    )

    assert response.redirect_chain == [(board_url(store), 302)]
    assert f"Commande {order.number} confiée à Lucas Livreur." in text(response)
    order.refresh_from_db()
    assert order.driver == driver


def test_giving_an_order_to_someone_who_is_not_a_driver_is_refused(client, shop, store, manager):
    order = ready(shop)
    cook = crew(StoreRole.PIZZAIOLO, store, first_name="Paolo", last_name="Pizzaiolo")
    was = written(order)

    response = logged(client, manager).post(
        reverse("staff:delivery_assign", args=[store.id, order.id]), {"driver": cook.id}, follow=True
    )

    assert "Paolo Pizzaiolo n&#x27;est pas livreur de OC Pizza Vaise." in text(response)
    assert written(order) == was


def test_an_order_of_another_store_is_403(client, shop, store, bellecour, driver):
    order = ready(shop)
    elsewhere = crew(StoreRole.MANAGER, bellecour)
    was = written(order)

    response = logged(client, elsewhere).post(
        reverse("staff:delivery_assign", args=[bellecour.id, order.id]), {"driver": driver.id}
    )

    assert response.status_code == 403
    assert "Cette commande n’est pas une commande de ce point de vente." in text(response)
    assert written(order) == was


def test_a_driver_takes_an_order_for_themselves_only(client, shop, store, driver):
    order = ready(shop)
    colleague = crew(StoreRole.DRIVER, store)
    browser = logged(client, driver)
    was = written(order)

    refused = browser.post(
        reverse("staff:delivery_assign", args=[store.id, order.id]), {"driver": colleague.id}
    )
    assert refused.status_code == 403
    assert written(order) == was

    browser.post(reverse("staff:delivery_assign", args=[store.id, order.id]), {"driver": driver.id})
    order.refresh_from_db()
    assert order.driver == driver


def test_a_driver_does_not_hand_over_pickups(client, shop, store, driver):
    order = ready(shop, fulfilment="pickup")
    was = written(order)

    response = logged(client, driver).post(
        reverse("staff:delivery_collect", args=[store.id, order.id]),
        {"payment_method": "cash", "amount_received": "20"},
    )

    assert response.status_code == 403
    assert written(order) == was


# Sending out, delivering, collecting -------------------------------------------------------------


def test_the_driver_leaves_with_their_round(client, shop, store, driver):
    first, second = ready(shop), ready(shop, street="3 rue Marietton")
    for order in (first, second):
        assign_driver(order, driver=driver)

    response = logged(client, driver).post(
        reverse("staff:delivery_send_out", args=[store.id, driver.id]),
        {"order": [first.id, second.id], "back": "driver"},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == reverse("staff:delivery_driver", args=[store.id, driver.id])
    assert f"Lucas Livreur part en livraison : {first.number}, {second.number}." in text(response)
    assert set(Order.objects.values_list("status", flat=True)) == {Status.OUT_FOR_DELIVERY}


def test_the_driver_delivers_and_records_the_cash_with_the_change(client, shop, store, driver):
    order = ready(shop)
    assign_driver(order, driver=driver)
    send_out(order)

    response = logged(client, driver).post(
        reverse("staff:delivery_deliver", args=[store.id, order.id]),
        {"payment_method": "cash", "amount_received": "50", "back": "driver"},
        follow=True,
    )

    assert (
        f"Commande {order.number} livrée. Reçu 50,00\u00a0€ (espèces). Monnaie à rendre : 29,50\u00a0€."
        in text(response)
    )
    order.refresh_from_db()
    assert order.status == Status.DELIVERED
    assert Payment.objects.get().change_given.to_eng_string() == "29.50"


def test_delivering_an_unpaid_order_without_its_payment_is_refused(client, shop, store, driver):
    order = ready(shop)
    assign_driver(order, driver=driver)
    send_out(order)
    was = written(order)

    response = logged(client, driver).post(
        reverse("staff:delivery_deliver", args=[store.id, order.id]), {"back": "driver"}, follow=True
    )

    assert (
        f"La commande {order.number} n&#x27;est pas payée : encaissez 20,50\u00a0€ (moyen de paiement et "
        "montant reçu) avant de la marquer livrée." in text(response)
    )
    assert written(order) == was


def test_a_driver_cannot_deliver_another_driver_s_order(client, shop, store, driver):
    colleague = crew(StoreRole.DRIVER, store)
    order = ready(shop)
    assign_driver(order, driver=colleague)
    send_out(order)
    was = written(order)

    response = logged(client, driver).post(
        reverse("staff:delivery_deliver", args=[store.id, order.id]),
        {"payment_method": "cash", "amount_received": "50"},
    )

    assert response.status_code == 403
    assert "Cette commande est confiée à un autre livreur." in text(response)
    assert written(order) == was


def test_a_delivered_order_is_not_delivered_again(client, shop, store, manager, driver):
    order = ready(shop)
    assign_driver(order, driver=driver)
    send_out(order)
    browser = logged(client, manager)
    url = reverse("staff:delivery_deliver", args=[store.id, order.id])
    browser.post(url, {"payment_method": "card_terminal", "amount_received": "20.50"})
    was = written(order)

    response = browser.post(url, {"payment_method": "card_terminal", "amount_received": "20.50"}, follow=True)

    assert f"La commande {order.number} ne peut pas être livrée : elle est livrée." in text(response)
    assert written(order) == was


def test_a_cancelled_order_is_not_sent_out(client, shop, store, driver):
    order = ready(shop)
    assign_driver(order, driver=driver)
    cancel_order(order, reason="Client injoignable")
    was = written(order)

    response = logged(client, driver).post(
        reverse("staff:delivery_send_out", args=[store.id, driver.id]), {"order": [order.id]}, follow=True
    )

    assert f"La commande {order.number} ne peut pas partir en livraison : elle est annulée." in text(response)
    assert written(order) == was


def test_a_pickup_order_is_not_sent_out(client, shop, store, manager, driver):
    order = ready(shop, fulfilment="pickup")
    was = written(order)

    response = logged(client, manager).post(
        reverse("staff:delivery_send_out", args=[store.id, driver.id]), {"order": [order.id]}, follow=True
    )

    assert f"La commande {order.number} est à emporter : elle ne part pas en livraison." in text(response)
    assert written(order) == was


def test_the_counter_hands_over_a_pickup_with_its_payment(client, shop, store):
    counter = crew(StoreRole.STAFF, store)
    order = ready(shop, fulfilment="pickup")

    response = logged(client, counter).post(
        reverse("staff:delivery_collect", args=[store.id, order.id]),
        {"payment_method": "cash", "amount_received": "20"},
        follow=True,
    )

    assert (
        f"Commande {order.number} retirée. Reçu 20,00\u00a0€ (espèces). Monnaie à rendre : 2,00\u00a0€."
        in text(response)
    )
    order.refresh_from_db()
    assert order.status == Status.COLLECTED


# The driver's phone view -------------------------------------------------------------------------


def test_the_driver_sees_their_orders_with_the_route(client, shop, store, driver, settings):
    settings.GOOGLEAPIKEY = ""
    mine = ready(shop)
    theirs = ready(shop, street="3 rue Marietton")
    assign_driver(mine, driver=driver)
    assign_driver(theirs, driver=crew(StoreRole.DRIVER, store))
    browser = logged(client, driver)

    response = browser.get(reverse("staff:delivery_mine", args=[store.id]), follow=True)

    page = text(response)
    assert response.redirect_chain == [(reverse("staff:delivery_driver", args=[store.id, driver.id]), 302)]
    assert mine.number in page and theirs.number not in page
    assert "12 rue de Bourgogne, 69009 Lyon" in page
    assert 'href="tel:0612345678"' in page
    assert "À encaisser : 20,50\u00a0€ (Espèces)" in page
    assert "2e étage, code 1234" in page
    assert (
        'href="https://www.google.com/maps/dir/?api=1&amp;origin=45.760000%2C4.835000&amp;'
        'destination=45.760000%2C4.835000&amp;waypoints=12+rue+de+Bourgogne%2C+69009+Lyon&amp;travelmode=driving"'
    ) in page
    assert (
        'href="https://www.google.com/maps/dir/?api=1&amp;destination=12+rue+de+Bourgogne%2C+69009+Lyon'
        '&amp;travelmode=driving"'
    ) in page
    assert "Je pars avec ces commandes" in page


def test_a_driver_cannot_open_another_driver_s_view(client, store, driver):
    colleague = crew(StoreRole.DRIVER, store)

    response = logged(client, driver).get(reverse("staff:delivery_driver", args=[store.id, colleague.id]))

    assert response.status_code == 403
    assert "Vous ne voyez que vos propres livraisons." in text(response)
    fragment = client.get(reverse("staff:delivery_driver_fragment", args=[store.id, colleague.id]))
    assert fragment.status_code == 403


def test_the_manager_opens_a_driver_s_view(client, shop, store, manager, driver):
    response = logged(client, manager).get(reverse("staff:delivery_driver", args=[store.id, driver.id]))

    assert response.status_code == 200
    assert "Livraisons de Lucas Livreur" in text(response)


def test_moi_refuses_someone_who_is_not_a_driver_here(client, store, manager):
    response = logged(client, manager).get(reverse("staff:delivery_mine", args=[store.id]))

    assert response.status_code == 403
    assert "Vous n’êtes pas livreur de ce point de vente" in text(response)


def test_a_driver_of_another_store_opens_nothing_here(client, shop, store, bellecour, driver):
    elsewhere = crew(StoreRole.DRIVER, bellecour)

    response = logged(client, elsewhere).get(reverse("staff:delivery_driver", args=[store.id, driver.id]))

    assert response.status_code == 403


def test_the_phone_view_costs_the_same_queries_with_more_orders(client, shop, store, driver, settings):
    settings.GOOGLEAPIKEY = ""
    browser = logged(client, driver)
    url = reverse("staff:delivery_driver", args=[store.id, driver.id])
    assign_driver(ready(shop), driver=driver)
    with CaptureQueriesContext(connection) as few:
        browser.get(url)
    for n in range(3):
        assign_driver(ready(shop, street=f"{n} rue Marietton"), driver=driver)

    with CaptureQueriesContext(connection) as many:
        browser.get(url)

    assert len(many) == len(few)


# The live poll -----------------------------------------------------------------------------------


def test_the_poll_answers_304_in_at_most_3_queries_while_nothing_changed(
    client, shop, store, driver, django_assert_max_num_queries
):
    order = ready(shop)
    browser = logged(client, driver)
    url = reverse("staff:delivery_status", args=[store.id])
    first = browser.get(url)
    etag = first["ETag"]
    assert first.status_code == 200

    with django_assert_max_num_queries(3):
        unchanged = browser.get(url, headers={"If-None-Match": etag})

    assert unchanged.status_code == 304
    assign_driver(order, driver=driver)
    changed = browser.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert changed.json() == {"etag": changed["ETag"]}


def test_the_etag_changes_when_an_order_leaves_the_board_and_another_enters(shop, store, driver):
    """The case a count and a sum over the board's own orders would miss: one order leaves and
    one of the same version enters between two polls."""
    leaving = ready(shop)
    assign_driver(leaving, driver=driver)
    send_out(leaving)
    before = delivery_board_etag(store)

    from ordering.services import mark_delivered

    mark_delivered(leaving, payment_method="cash", amount_received="20.50")
    ready(shop, street="3 rue Marietton")

    assert delivery_board_etag(store) != before
    assert OrderEvent.objects.filter(order=leaving).count() == 7


def test_the_fragment_holds_the_live_element(client, shop, store, manager):
    ready(shop)

    with time_machine.travel(timezone.now().replace(second=10), tick=False):  # the ETag names the minute
        response = logged(client, manager).get(reverse("staff:delivery_fragment", args=[store.id]))
        poll = client.get(reverse("staff:delivery_status", args=[store.id]))

    page = text(response)
    assert 'data-live="delivery-board"' in page
    assert f'data-etag="{escape(poll["ETag"])}"' in page


def test_the_drivers_view_and_its_poll_hold_the_same_etag(client, shop, store, driver):
    order = ready(shop)
    assign_driver(order, driver=driver)

    with time_machine.travel(timezone.now().replace(second=10), tick=False):
        page = text(logged(client, driver).get(reverse("staff:delivery_driver", args=[store.id, driver.id])))
        etag = re.search(r'data-etag="([^"]+)"', page).group(1).replace("&quot;", '"')
        unchanged = client.get(reverse("staff:delivery_status", args=[store.id]), HTTP_IF_NONE_MATCH=etag)

    assert order.number in page
    assert unchanged.status_code == 304 and unchanged["ETag"] == etag


@pytest.mark.parametrize("amount", ["1e30", "12345678901", "NaN"])
def test_an_absurd_cash_amount_is_refused_with_a_message_and_nothing_written(
    client, shop, store, driver, amount
):
    order = ready(shop)
    assign_driver(order, driver=driver)
    send_out(order)
    was = written(order)

    response = logged(client, driver).post(
        reverse("staff:delivery_deliver", args=[store.id, order.id]),
        {"payment_method": "cash", "amount_received": amount, "back": "driver"},
        follow=True,
    )

    assert response.status_code == 200
    assert "Indiquez le montant reçu." in text(response)
    assert written(order) == was


@pytest.mark.parametrize("field", ["driver", "order"])
def test_an_id_in_unicode_digits_is_refused_not_a_crash(client, shop, store, manager, driver, field):
    order = ready(shop)
    assign_driver(order, driver=driver)
    if field == "driver":
        url, data = reverse("staff:delivery_assign", args=[store.id, order.id]), {"driver": "²"}
        message = "Choisissez un livreur de ce point de vente."
    else:
        url, data = reverse("staff:delivery_send_out", args=[store.id, driver.id]), {"order": "²"}
        message = "Aucune commande prête pour ce livreur : rechargez la page."
    was = written(order)

    response = logged(client, manager).post(url, data, follow=True)

    assert response.status_code == 200
    assert message in text(response)
    assert written(order) == was
