"""The ordering settings and closures screens of the Wagtail admin: who may edit which store."""

import datetime
from decimal import Decimal

import pytest

from accounts.tests.factories import UserFactory
from ocpizza import roles
from stores.models import StoreClosure, StoreOrderingSettings, StoreRole

from .factories import StoreMembershipFactory, StorePageFactory

SETTINGS = {
    "accepts_orders": "on",
    "order_prefix": "BEL",
    "minimum_order": "15.00",
    "delivery_fee": "2.50",
    "free_delivery_from": "30.00",
    "lead_time_minutes": "20",
    "delivery_minutes": "25",
    "slot_capacity": "6",
    "accepted_payments": ["cash", "meal_voucher"],
    "online_payment": "on",
}


def settings_data(**changes):
    return {**SETTINGS, **changes}


def closure_data(starts="2099-12-24", ends="2099-12-26", message="Fermé pour Noël"):
    return {"starts_on": starts, "ends_on": ends, "message": message}


@pytest.fixture
def closure(vaise):
    return StoreClosure.objects.create(
        store=vaise,
        starts_on=datetime.date(2026, 12, 24),
        ends_on=datetime.date(2026, 12, 26),
        message="Fermé pour Noël",
    )


def test_a_manager_saves_the_settings_of_their_store(client, manager, bellecour):
    client.force_login(manager)

    response = client.post(f"/admin/reglages-commande/{bellecour.id}/", settings_data())

    assert response.status_code == 302
    assert response["Location"] == f"/admin/reglages-commande/{bellecour.id}/"
    saved = StoreOrderingSettings.objects.get(store=bellecour)
    assert saved.order_prefix == "BEL"  # derived from the slug: a manager does not choose it
    assert saved.minimum_order == Decimal("15.00")
    assert saved.delivery_fee == Decimal("2.50")
    assert saved.free_delivery_from == Decimal("30.00")
    assert saved.delivery_minutes == 25
    assert saved.accepted_payments == ["cash", "meal_voucher"]
    assert saved.online_payment is True


def test_a_manager_cannot_change_the_prefix_head_office_can(client, manager, head_office, bellecour):
    client.force_login(manager)
    client.post(f"/admin/reglages-commande/{bellecour.id}/", settings_data(order_prefix="ZZZ"))
    assert StoreOrderingSettings.objects.get(store=bellecour).order_prefix == "BEL"  # from the slug

    client.force_login(head_office)
    response = client.post(f"/admin/reglages-commande/{bellecour.id}/", settings_data(order_prefix="zzz"))
    assert response.status_code == 302
    assert StoreOrderingSettings.objects.get(store=bellecour).order_prefix == "ZZZ"


def test_the_form_shows_the_payments_as_french_checkboxes(client, manager, bellecour):
    client.force_login(manager)

    response = client.get(f"/admin/reglages-commande/{bellecour.id}/", HTTP_ACCEPT_LANGUAGE="fr")

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('type="checkbox" name="accepted_payments"') == 4
    for label in ["Espèces", "Carte bancaire (terminal)", "Titres-restaurant", "Chèque"]:
        assert label in html
    assert 'name="order_prefix"' in html and "disabled" in html.split('name="order_prefix"')[1].split(">")[0]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"minimum_order": "-1.00"}, "minimum_order"),
        ({"delivery_fee": "2.505"}, "delivery_fee"),
        ({"free_delivery_from": "-0.01"}, "free_delivery_from"),
        ({"slot_capacity": "0"}, "slot_capacity"),
        ({"lead_time_minutes": "241"}, "lead_time_minutes"),
        ({"lead_time_minutes": "-1"}, "lead_time_minutes"),
        ({"delivery_minutes": "999"}, "delivery_minutes"),
        ({"accepted_payments": ["cash", "bitcoin"]}, "accepted_payments"),
        ({"order_prefix": "V1I"}, "order_prefix"),
        ({"order_prefix": "VA"}, "order_prefix"),
        ({"order_prefix": "VAIS"}, "order_prefix"),
    ],
)
def test_invalid_settings_are_refused_and_nothing_saved(client, head_office, bellecour, changes, field):
    client.force_login(head_office)

    response = client.post(f"/admin/reglages-commande/{bellecour.id}/", settings_data(**changes))

    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not StoreOrderingSettings.objects.exists()


def test_a_prefix_taken_by_another_store_is_refused(client, head_office, bellecour, vaise):
    StoreOrderingSettings.objects.create(store=vaise, order_prefix="VAI")
    client.force_login(head_office)

    response = client.post(f"/admin/reglages-commande/{bellecour.id}/", settings_data(order_prefix="vai"))

    assert response.status_code == 400
    assert response.context["form"].errors["order_prefix"] == [
        "Ce préfixe est déjà celui d'un autre point de vente."
    ]


def test_unknown_payment_codes_are_refused_by_the_model(bellecour):
    settings = StoreOrderingSettings(store=bellecour, order_prefix="BEL", accepted_payments=["cash", "iou"])

    with pytest.raises(Exception, match="Moyen de paiement inconnu"):
        settings.full_clean()


@pytest.mark.parametrize(
    "url",
    [
        "/admin/reglages-commande/{vaise}/",
        "/admin/reglages-commande/{vaise}/fermetures/ajouter/",
        "/admin/reglages-commande/{vaise}/fermetures/{closure}/",
        "/admin/reglages-commande/{vaise}/fermetures/{closure}/supprimer/",
    ],
)
def test_a_manager_gets_403_on_another_store(client, manager, vaise, closure, url):
    client.force_login(manager)
    url = url.format(vaise=vaise.id, closure=closure.id)

    assert client.get(url).status_code == 403
    assert client.post(url, {**settings_data(order_prefix="VAI"), **closure_data()}).status_code == 403
    assert not StoreOrderingSettings.objects.exists()
    assert StoreClosure.objects.get() == closure
    assert StoreClosure.objects.get().message == "Fermé pour Noël"


@pytest.mark.parametrize(
    "url",
    [
        "/admin/reglages-commande/",
        "/admin/reglages-commande/{vaise}/",
        "/admin/reglages-commande/{vaise}/fermetures/ajouter/",
        "/admin/reglages-commande/{vaise}/fermetures/{closure}/",
        "/admin/reglages-commande/{vaise}/fermetures/{closure}/supprimer/",
    ],
)
@pytest.mark.parametrize("who", ["marketing", "store_staff"])
def test_marketing_and_staff_get_403_everywhere(client, marketing, vaise, closure, url, who):
    user = marketing
    if who == "store_staff":
        user = UserFactory(groups=[roles.STORE_STAFF, roles.STORE_MANAGERS])
        StoreMembershipFactory(user=user, store=vaise, role=StoreRole.STAFF)  # not a manager there
    client.force_login(user)

    assert client.get(url.format(vaise=vaise.id, closure=closure.id)).status_code == 403


def test_unknown_store_or_another_stores_closure_is_404(client, head_office, bellecour, closure):
    client.force_login(head_office)

    assert client.get("/admin/reglages-commande/999999/").status_code == 404
    assert client.get(f"/admin/reglages-commande/{bellecour.id}/fermetures/{closure.id}/").status_code == 404
    assert (
        client.post(f"/admin/reglages-commande/{bellecour.id}/fermetures/{closure.id}/supprimer/").status_code
        == 404
    )
    assert StoreClosure.objects.filter(id=closure.id).exists()


def test_anonymous_is_sent_to_the_login(client, vaise):
    response = client.get(f"/admin/reglages-commande/{vaise.id}/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_manager_listing_shows_only_their_stores(client, manager, bellecour, vaise, head_office):
    other = UserFactory(groups=[roles.STORE_MANAGERS])
    StoreMembershipFactory(user=other, store=bellecour, role=StoreRole.MANAGER)
    StoreMembershipFactory(user=other, store=vaise, role=StoreRole.STAFF)
    client.force_login(other)

    response = client.get("/admin/reglages-commande/")  # one store managed: straight to it

    assert response.status_code == 302
    assert response["Location"] == f"/admin/reglages-commande/{bellecour.id}/"

    StoreMembershipFactory(user=manager, store=vaise, role=StoreRole.MANAGER)
    client.force_login(manager)
    html = client.get("/admin/reglages-commande/").content.decode()
    assert "OC Pizza Bellecour" in html and "OC Pizza Vaise" in html


def test_head_office_lists_every_store_in_bounded_queries(
    client, head_office, store_index, django_assert_max_num_queries
):
    stores = [StorePageFactory(parent=store_index, title=f"OC Pizza {n}") for n in range(6)]
    for store, prefix in zip(stores[:3], ["AAA", "BBB", "CCC"], strict=True):
        StoreOrderingSettings.objects.create(store=store, order_prefix=prefix)
        StoreClosure.objects.create(
            store=store,
            starts_on=datetime.date(2099, 1, 1),
            ends_on=datetime.date(2099, 1, 2),
            message="Travaux",
        )
    client.force_login(head_office)
    client.get("/admin/reglages-commande/")

    with django_assert_max_num_queries(20):
        response = client.get("/admin/reglages-commande/")

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("data-store=") == 6
    assert html.count("01/01/2099 – 02/01/2099") == 3


def test_marketing_does_not_see_the_menu_item_managers_do(client, marketing, manager):
    client.force_login(marketing)
    assert "/admin/reglages-commande/" not in client.get("/admin/").content.decode()

    client.force_login(manager)
    assert "/admin/reglages-commande/" in client.get("/admin/").content.decode()


def test_a_manager_adds_edits_and_deletes_a_closure(client, manager, bellecour):
    client.force_login(manager)
    base = f"/admin/reglages-commande/{bellecour.id}"

    added = client.post(f"{base}/fermetures/ajouter/", closure_data())
    closure = StoreClosure.objects.get()
    edited = client.post(
        f"{base}/fermetures/{closure.id}/", closure_data(ends="2099-12-27", message="Congés")
    )
    closure.refresh_from_db()
    page = client.get(f"{base}/").content.decode()
    deleted = client.post(f"{base}/fermetures/{closure.id}/supprimer/")

    assert (added.status_code, edited.status_code, deleted.status_code) == (302, 302, 302)
    assert closure.store == bellecour
    assert (closure.starts_on, closure.ends_on, closure.message) == (
        datetime.date(2099, 12, 24),
        datetime.date(2099, 12, 27),
        "Congés",
    )
    assert not StoreClosure.objects.exists()
    assert "Congés" in page


def test_a_closure_ending_before_it_starts_is_refused(client, head_office, bellecour):
    client.force_login(head_office)

    response = client.post(
        f"/admin/reglages-commande/{bellecour.id}/fermetures/ajouter/",
        closure_data(starts="2026-12-26", ends="2026-12-24"),
    )

    assert response.status_code == 400
    assert response.context["form"].errors["ends_on"] == [
        "La fin doit être le même jour que le début ou après."
    ]
    assert not StoreClosure.objects.exists()


def test_a_manager_saves_settings_when_the_derived_prefix_is_another_stores(
    client, manager, bellecour, store_index
):
    """The slug "bellecour" derives "BEL", which Belleville saved: the manager, who cannot change the
    prefix, is offered a free one and saves."""
    belleville = StorePageFactory(parent=store_index, title="OC Pizza Belleville", slug="belleville")
    StoreOrderingSettings.objects.create(store=belleville, order_prefix="BEL")
    client.force_login(manager)

    form = client.get(f"/admin/reglages-commande/{bellecour.id}/").content.decode()
    response = client.post(f"/admin/reglages-commande/{bellecour.id}/", settings_data())

    assert 'value="BEE"' in form
    assert response.status_code == 302
    assert StoreOrderingSettings.objects.get(store=bellecour).order_prefix == "BEE"
