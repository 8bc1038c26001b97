"""What the browser journey on the demo chain (ordering/tests/test_journey_browser.py) found, pinned down."""

import datetime
import json

from django.utils import timezone

from stores.tests.factories import StorePageFactory, stock

from .conftest import ordering_settings, size_of

JSON = {"HTTP_ACCEPT": "application/json"}


def add(client, store, size, **extra):
    return client.post("/panier/ajouter/", {"store": store.id, "size": size.id, "quantity": 1}, **extra)


def test_a_product_sold_out_at_the_carts_store_can_still_be_added_from_its_page_at_another_store(
    client, vaise, bellecour, margherita, marinara
):
    # Bellecour has no mozzarella: its margherita is sold out, Vaise's is not.
    add(client, bellecour, size_of(marinara))

    html = client.get(margherita.url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    # The sizes stay selectable: the customer may choose another store in the same form.
    for size in margherita.sizes.all():
        assert f'<option value="{size.id}">' in html
    assert "Épuisé pour le moment chez OC Pizza Bellecour : choisissez une autre pizzeria." in html
    refused = add(client, bellecour, size_of(margherita), HTTP_ACCEPT_LANGUAGE="fr", **JSON)
    assert refused.status_code == 409
    assert json.loads(refused.content)["message"] == "Plus assez de mozzarella pour Margherita (Moyenne)."
    added = add(client, vaise, size_of(margherita), HTTP_ACCEPT_LANGUAGE="fr", **JSON)
    assert added.status_code == 200 and json.loads(added.content)["ok"] is True


def test_a_store_closed_now_offers_its_slots_and_not_as_soon_as_possible(
    client, store_index, margherita, dough, cheese
):
    # Open tomorrow only: closed now, whatever the time the test runs at.
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    store = StorePageFactory(
        parent=store_index,
        title="OC Pizza Vaise",
        slug="vaise",
        hours=[(tomorrow.weekday(), "11:00", "14:00")],
    )
    ordering_settings(store)
    stock(store, {dough: 10_000, cheese: 10_000})
    add(client, store, size_of(margherita))

    response = client.get("/panier/commander/", HTTP_ACCEPT_LANGUAGE="fr")

    when = response.context["form"]["when"]
    choices = [value for value, _label in when.field.choices]
    first_slot = timezone.make_aware(datetime.datetime.combine(tomorrow, datetime.time(11, 0)))
    assert "asap" not in choices
    assert choices[0] == when.initial == first_slot.isoformat()
    assert (
        "La pizzeria est fermée en ce moment : choisissez un créneau pour plus tard."
        in response.content.decode()
    )
