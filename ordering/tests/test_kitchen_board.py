"""The kitchen board (/equipe/<store>/cuisine/): who opens it, what it shows, its taps, its poll."""

import datetime
import re

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.utils import timezone

from accounts.tests.factories import UserFactory
from ocpizza import roles
from ordering import services
from ordering.boards import kitchen_board
from ordering.models import Order, OrderEvent
from stores.models import StockLevel, StockMovement, StoreRole
from stores.tests.factories import StoreMembershipFactory, StorePageFactory, stock

from .factories import NOW, configure, line, new_key, place, place_committed

ROLE_GROUP = {
    StoreRole.MANAGER: roles.STORE_MANAGERS,
    StoreRole.STAFF: roles.STORE_STAFF,
    StoreRole.PIZZAIOLO: roles.PIZZAIOLOS,
    StoreRole.DRIVER: roles.DRIVERS,
}
MINUTE = datetime.timedelta(minutes=1)
OK = "cnon:card-nonce-ok"  # a Square sandbox card the simulator accepts


def crew(role, *stores):
    user = UserFactory(groups=[ROLE_GROUP[role]])
    for store in stores:
        StoreMembershipFactory(user=user, store=store, role=role)
    return user


@pytest.fixture
def other(shop, store_index):
    """A second store (Bellecour) selling the same menu, with its own stock."""
    bellecour = StorePageFactory(parent=store_index, slug="bellecour", title="OC Pizza Bellecour")
    configure(bellecour)
    stock(bellecour, {shop.cheese: 5000, shop.dough: 10000, shop.basil: 500})
    return bellecour


@pytest.fixture
def pizzaiolo(shop):
    return crew(StoreRole.PIZZAIOLO, shop.store)


def board_url(store):
    return f"/equipe/{store.id}/cuisine/"


def action_url(store, order):
    return f"/equipe/{store.id}/cuisine/commande/{order.id}/"


def status_url(store):
    return f"/equipe/{store.id}/cuisine/etat/"


def tickets(html):
    """The order numbers of the board, column by column."""
    columns = re.findall(r'<section class="kitchen-column kitchen-column-(\w+)"(.*?)</section>', html, re.S)
    return {status: re.findall(r'class="ticket-number">([^<]+)<', body) for status, body in columns}


def messages_of(response):
    """The messages the request added (those of earlier requests not shown yet come first)."""
    return [str(m) for m in get_messages(response.wsgi_request)][-1:]


def written(order):
    return (
        Order.objects.values_list("status", "version").get(pk=order.pk),
        OrderEvent.objects.filter(order=order).count(),
        StockMovement.objects.count(),
        sorted(StockLevel.objects.values_list("id", "on_hand", "reserved")),
    )


# Who opens it --------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [StoreRole.MANAGER, StoreRole.STAFF, StoreRole.PIZZAIOLO])
def test_the_kitchen_roles_of_the_store_open_its_board(client, shop, other, role):
    client.force_login(crew(role, shop.store))

    assert client.get(board_url(shop.store)).status_code == 200
    response = client.get(board_url(other))
    assert response.status_code == 403
    assert "Vous n’avez pas accès à cet écran pour ce point de vente." in response.content.decode()


def test_head_office_opens_every_store_s_board(client, shop, other):
    client.force_login(UserFactory(groups=[roles.HEAD_OFFICE]))

    assert client.get(board_url(shop.store)).status_code == 200
    assert client.get(board_url(other)).status_code == 200


@pytest.mark.parametrize("groups", [[roles.DRIVERS], [roles.MARKETING], []])
def test_drivers_marketing_and_customers_get_403(client, shop, groups):
    user = UserFactory(groups=groups)
    if groups == [roles.DRIVERS]:
        StoreMembershipFactory(user=user, store=shop.store, role=StoreRole.DRIVER)
    client.force_login(user)
    order = place(shop)
    line_id = order.lines.get().id

    for url in (
        board_url(shop.store),
        f"/equipe/{shop.store.id}/cuisine/tableau/",
        status_url(shop.store),
        f"/equipe/{shop.store.id}/cuisine/ligne/{line_id}/recette/",
    ):
        assert client.get(url).status_code == 403, url
    before = written(order)
    assert client.post(action_url(shop.store, order), {"action": "start_preparing"}).status_code == 403
    assert written(order) == before


def test_a_visitor_is_sent_to_the_login_page(client, shop):
    response = client.get(board_url(shop.store))

    assert response.status_code == 302
    assert response["Location"] == f"/compte/connexion/?next=/equipe/{shop.store.id}/cuisine/"
    assert client.get(status_url(shop.store)).status_code == 403


def test_an_unknown_store_is_404(client, pizzaiolo):
    client.force_login(pizzaiolo)

    assert client.get("/equipe/999999/cuisine/").status_code == 404
    assert client.get("/equipe/999999/cuisine/etat/").status_code == 404


def test_staff_home_lists_the_kitchen_of_the_pizzaiolo_s_store_only(client, shop, other, pizzaiolo):
    client.force_login(pizzaiolo)

    html = client.get("/equipe/").content.decode()

    assert re.findall(r'href="(/equipe/[^"]+)"', html) == [board_url(shop.store)]
    assert "OC Pizza Vaise" in html
    assert "OC Pizza Bellecour" not in html


# What it shows ------------------------------------------------------------------------------------


def test_the_board_shows_the_store_s_orders_by_status_oldest_promised_first(client, shop, other, pizzaiolo):
    later = place(shop)
    first = place(shop)
    Order.objects.filter(pk=later.pk).update(promised_at=first.promised_at + 10 * MINUTE)
    preparing = place(shop, fulfilment="delivery")
    services.start_preparing(preparing)
    ready = place(shop)
    services.start_preparing(ready)
    services.mark_ready(ready)
    done = place(shop)
    services.start_preparing(done)
    services.mark_ready(done)
    services.mark_collected(done, payment_method="cash", amount_received=done.total)
    cancelled = place(shop)
    services.cancel_order(cancelled)
    unpaid = place(shop, payment_method="card_online")
    elsewhere = place(make_shop_at(other, shop))
    assert unpaid.status == Order.Status.PENDING_PAYMENT and elsewhere.store_id == other.id
    client.force_login(pizzaiolo)

    html = client.get(board_url(shop.store)).content.decode()

    assert tickets(html) == {
        "received": [first.number, later.number],
        "preparing": [preparing.number],
        "ready": [ready.number],
    }


def make_shop_at(store, shop):
    """`shop` with another store: its orders are placed there (same menu)."""
    from dataclasses import replace

    return replace(shop, store=store)


def test_a_ticket_shows_lines_extras_channel_fulfilment_time_and_the_customer_s_note(client, shop, pizzaiolo):
    order = place(
        shop,
        [line(shop.large, 2, shop.extra, shop.no_basil), line(shop.beer_size, 1)],
        fulfilment="delivery",
        source="phone",
    )
    client.force_login(pizzaiolo)

    html = client.get(board_url(shop.store)).content.decode()

    ticket = re.search(rf'<li class="kitchen-ticket[^"]*" id="commande-{order.id}".*?</form>', html, re.S)[0]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", ticket))
    promised = timezone.localtime(order.promised_at).strftime("%H:%M")
    assert f"{order.number}" in text
    assert promised in text
    assert "Livraison · Téléphone · Camille Martin" in text
    assert "2 × Margherita Grande + Supplément mozzarella − Sans basilic" in text
    assert "1 × Bière blonde 33 cl" in text
    assert "Note du client : 2e étage" in text
    line_ids = list(order.lines.values_list("id", flat=True))
    for line_id in line_ids:
        assert f'href="/equipe/{shop.store.id}/cuisine/ligne/{line_id}/recette/"' in ticket
    assert 'value="start_preparing"' in ticket


def test_late_and_soon_flags_follow_the_promised_time(shop):
    late = place(shop)
    soon = place(shop)
    later = place(shop)
    ready = place(shop)
    services.start_preparing(ready)
    services.mark_ready(ready)
    now = late.promised_at + MINUTE
    Order.objects.filter(pk=soon.pk).update(promised_at=now + 10 * MINUTE)
    Order.objects.filter(pk=later.pk).update(promised_at=now + 11 * MINUTE)
    Order.objects.filter(pk=ready.pk).update(promised_at=now - 30 * MINUTE)

    flags = {
        ticket.order.number: (ticket.late, ticket.soon)
        for column in kitchen_board(shop.store, now=now)
        for ticket in column.tickets
    }

    assert flags == {
        late.number: (True, False),
        soon.number: (False, True),
        later.number: (False, False),
        ready.number: (False, False),  # the kitchen's part is done
    }


def test_the_board_page_shows_the_late_warning(client, shop, pizzaiolo):
    order = place(shop)  # promised on 25 November 2026: long past
    client.force_login(pizzaiolo)

    html = client.get(board_url(shop.store)).content.decode()

    assert f'<li class="kitchen-ticket is-late" id="commande-{order.id}"' in html
    assert "En retard" in html


def test_the_board_reads_a_bounded_number_of_queries_whatever_the_orders(
    client, shop, pizzaiolo, django_assert_max_num_queries
):
    client.force_login(pizzaiolo)
    stock(shop.store, {shop.beer_stock: 100, shop.cheese: 20000, shop.dough: 20000, shop.basil: 500})
    for _ in range(3):
        services.start_preparing(place(shop, [line(shop.large, 1, shop.extra), line(shop.beer_size, 2)]))
    with django_assert_max_num_queries(20) as few:
        client.get(board_url(shop.store))
    for _ in range(25):
        place(shop, [line(shop.large, 1, shop.extra), line(shop.beer_size, 2)])

    with django_assert_max_num_queries(len(few)):
        response = client.get(board_url(shop.store))

    assert sum(len(numbers) for numbers in tickets(response.content.decode()).values()) == 28


# Its taps ---------------------------------------------------------------------------------------


def test_one_tap_per_transition_then_undo(client, shop, pizzaiolo):
    order = place(shop)
    client.force_login(pizzaiolo)

    response = client.post(action_url(shop.store, order), {"action": "start_preparing"})
    assert response.status_code == 302
    assert response["Location"] == f"{board_url(shop.store)}#commande-{order.id}"
    assert messages_of(response) == [f"Commande {order.number} en préparation."]
    order.refresh_from_db()
    assert order.status == "preparing"
    html = client.get(board_url(shop.store)).content.decode()
    assert 'value="undo_start_preparing"' in html
    assert "Annuler : remettre en attente" in html

    response = client.post(action_url(shop.store, order), {"action": "undo_start_preparing"})
    assert messages_of(response) == [
        f"Commande {order.number} remise en attente : ses ingrédients sont de nouveau réservés."
    ]
    order.refresh_from_db()
    assert order.status == "received"
    event = order.events.order_by("-id").first()
    assert (event.from_status, event.to_status, event.user) == ("preparing", "received", pizzaiolo)

    client.post(action_url(shop.store, order), {"action": "start_preparing"})
    response = client.post(action_url(shop.store, order), {"action": "mark_ready"})
    assert messages_of(response) == [f"Commande {order.number} prête."]
    response = client.post(action_url(shop.store, order), {"action": "undo_mark_ready"})
    assert messages_of(response) == [f"Commande {order.number} remise en préparation."]
    order.refresh_from_db()
    assert order.status == "preparing"


def test_the_undo_button_disappears_after_the_delay(shop):
    order = place(shop)
    services.start_preparing(order, now=NOW)

    def undo(now):
        return [t.undo for column in kitchen_board(shop.store, now=now) for t in column.tickets]

    assert undo(NOW + MINUTE) == ["undo_start_preparing"]
    assert undo(NOW + 3 * MINUTE) == [None]


def test_a_transition_on_another_store_s_order_is_refused_and_writes_nothing(client, shop, other, pizzaiolo):
    order = place(make_shop_at(other, shop))
    client.force_login(pizzaiolo)
    before = written(order)

    # Through the pizzaiolo's own store's URL …
    response = client.post(action_url(shop.store, order), {"action": "start_preparing"})
    assert response.status_code == 403
    assert "Cette commande n’est pas une commande de ce point de vente." in response.content.decode()
    # … and through the other store's.
    assert client.post(action_url(other, order), {"action": "start_preparing"}).status_code == 403
    assert written(order) == before


@pytest.mark.parametrize(
    ("prepare", "action", "message"),
    [
        ("delivered", "start_preparing", "ne peut pas passer en préparation : elle est livrée."),
        ("delivered", "undo_mark_ready", "ne peut pas revenir en préparation : elle est livrée."),
        ("cancelled", "start_preparing", "ne peut pas passer en préparation : elle est annulée."),
        ("cancelled", "mark_ready", "ne peut pas être prête : elle est annulée."),
        ("received", "mark_ready", "ne peut pas être prête : elle est reçue."),
        ("received", "undo_start_preparing", "ne peut pas revenir en attente : elle est reçue."),
    ],
)
def test_an_illegal_transition_is_refused_with_a_clear_message_and_writes_nothing(
    client, shop, pizzaiolo, prepare, action, message
):
    order = place(shop, fulfilment="delivery")
    if prepare == "delivered":
        for step in ("start_preparing", "mark_ready", "send_out"):
            getattr(services, step)(order)
        services.mark_delivered(order, payment_method="cash", amount_received=order.total)
    elif prepare == "cancelled":
        services.cancel_order(order)
    client.force_login(pizzaiolo)
    before = written(order)

    response = client.post(action_url(shop.store, order), {"action": action})

    assert response.status_code == 302
    assert messages_of(response) == [f"La commande {order.number} {message}"]
    assert written(order) == before


def test_an_unknown_action_or_a_get_changes_nothing(client, shop, pizzaiolo):
    order = place(shop)
    client.force_login(pizzaiolo)
    before = written(order)

    response = client.post(action_url(shop.store, order), {"action": "delete"})
    assert messages_of(response) == ["Action inconnue : rien n’a été changé."]
    assert client.get(action_url(shop.store, order)).status_code == 405
    assert written(order) == before


def test_the_customer_s_tracking_follows_an_undo(client, shop, pizzaiolo):
    order = place(shop)
    services.start_preparing(order)
    tracking = f"/commandes/{order.number}/{order.secret}/etat/"
    started = client.get(tracking)
    assert started.json()["status"] == "preparing"

    services.undo_start_preparing(order)

    response = client.get(tracking, HTTP_IF_NONE_MATCH=started["ETag"])
    assert response.status_code == 200
    assert response.json()["status"] == "received"


# Its poll ---------------------------------------------------------------------------------------


def test_the_status_answers_304_in_three_queries_until_the_board_changes(
    client, shop, pizzaiolo, django_assert_max_num_queries
):
    order = place(shop)
    client.force_login(pizzaiolo)
    first = client.get(status_url(shop.store))
    assert first.status_code == 200
    etag = first["ETag"]

    with django_assert_max_num_queries(3):
        unchanged = client.get(status_url(shop.store), HTTP_IF_NONE_MATCH=etag)
    assert unchanged.status_code == 304

    services.start_preparing(order)
    changed = client.get(status_url(shop.store), HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag

    new = client.get(status_url(shop.store), HTTP_IF_NONE_MATCH=changed["ETag"])
    assert new.status_code == 304
    place_committed(shop)
    assert client.get(status_url(shop.store), HTTP_IF_NONE_MATCH=changed["ETag"]).status_code == 200


def test_an_order_leaving_while_another_arrives_still_changes_the_etag(client, shop, pizzaiolo):
    ready = place(shop)
    services.start_preparing(ready)
    services.mark_ready(ready)
    client.force_login(pizzaiolo)
    etag = client.get(status_url(shop.store))["ETag"]

    services.mark_collected(ready, payment_method="cash", amount_received=ready.total)
    place(shop)

    assert client.get(status_url(shop.store), HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_a_card_order_paid_enters_the_board_and_changes_the_etag(client, shop, pizzaiolo):
    unpaid = place(shop, payment_method="card_online")
    client.force_login(pizzaiolo)
    etag = client.get(status_url(shop.store))["ETag"]
    assert tickets(client.get(board_url(shop.store)).content.decode())["received"] == []

    services.pay_order(unpaid, source_token=OK, idempotency_key=new_key(), now=NOW)

    assert Order.objects.get(pk=unpaid.pk).status == "received"
    assert client.get(status_url(shop.store), HTTP_IF_NONE_MATCH=etag).status_code == 200
    assert tickets(client.get(board_url(shop.store)).content.decode())["received"] == [unpaid.number]


def test_the_status_refuses_another_store_s_pizzaiolo(client, shop, other):
    client.force_login(crew(StoreRole.PIZZAIOLO, other))

    assert client.get(status_url(shop.store)).status_code == 403
    assert client.get(status_url(other)).status_code == 200


def test_the_fragment_holds_the_live_board_with_its_etag(client, shop, pizzaiolo):
    order = place(shop)
    client.force_login(pizzaiolo)
    # The ETag names the minute: both requests in the same one, whenever the test runs.
    with time_machine.travel(timezone.now().replace(second=10), tick=False):
        etag = client.get(status_url(shop.store))["ETag"]

        html = client.get(f"/equipe/{shop.store.id}/cuisine/tableau/").content.decode()

    assert html.lstrip().startswith('<div class="kitchen-board" data-live="kitchen"')
    assert f'data-etag="{etag.replace(chr(34), "&quot;")}"' in html
    assert order.number in html
