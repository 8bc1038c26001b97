"""Head office's fields of a store go live only from head office, whatever the path.

Marketing cannot see a store's delivery postcodes or its payment location (Square). These tests
take every path by which a revision becomes live or a page is made from another (revert, copy,
scheduled publishing, workflow approval) through the real admin views (see `menu.head_office`).
"""

from decimal import Decimal

import pytest

from accounts.tests.factories import UserFactory
from menu.tests.page_admin import (
    EDIT_FORM,
    approve,
    browser_form_data,
    copy_page,
    declared,
    edit_url,
    editor,
    gated_in_editor,
    go_live_in,
    revert_url,
    run_publish_scheduled,
    submit_editor,
)
from ocpizza import roles
from stores.models import DeliveryBand, StorePage

from .factories import StorePageFactory

MODERATORS = "Moderators"  # Wagtail's default workflow: its group approves
OLD = {"delivery_postcodes": "69002", "payment_location_id": "LOC-OLD"}
LIVE = {"delivery_postcodes": "69002, 69005", "payment_location_id": "LOC-LIVE"}


def head_office_values(store):
    return dict(
        StorePage.objects.filter(pk=store.pk).values("delivery_postcodes", "payment_location_id").get()
    )


@pytest.fixture
def head_office_user(db):
    return UserFactory(groups=[roles.HEAD_OFFICE])


@pytest.fixture
def store(store_index, head_office_user):
    """A store whose first published revision (`store.old_revision`) holds OLD, and live LIVE."""
    store = StorePageFactory(parent=store_index, title="OC Pizza Bellecour", slug="bellecour", **OLD)
    old_revision = store.save_revision(user=head_office_user)
    old_revision.publish(user=head_office_user)
    store = StorePage.objects.get(pk=store.pk)
    store.delivery_postcodes, store.payment_location_id = LIVE.values()
    store.save_revision(user=head_office_user).publish(user=head_office_user)
    assert head_office_values(store) == LIVE
    store.old_revision = old_revision
    return store


# Revert


def test_marketing_publishing_an_old_revision_keeps_the_live_delivery_and_payment(client, store):
    submit_editor(
        editor(client, roles.MARKETING), revert_url(store, store.old_revision), "publish", intro="Retour"
    )

    assert StorePage.objects.get(pk=store.pk).intro == "Retour"
    assert head_office_values(store) == LIVE


def test_marketing_draft_of_an_old_revision_does_not_bring_its_payment_back_when_head_office_publishes(
    client, store
):
    submit_editor(editor(client, roles.MARKETING), revert_url(store, store.old_revision), None)
    client.logout()

    submit_editor(editor(client, roles.HEAD_OFFICE), edit_url(store), "publish")

    assert head_office_values(store) == LIVE


# Copy


@pytest.mark.parametrize("publish", [True, False], ids=["published copy", "draft copy"])
def test_marketing_copy_publishes_the_live_payment_not_a_head_office_draft(
    client, store, head_office_user, publish
):
    draft = StorePage.objects.get(pk=store.pk)
    draft.payment_location_id = "LOC-DRAFT"
    draft.save_revision(user=head_office_user)
    marketing = editor(client, roles.MARKETING)
    copy = copy_page(marketing, store, title="OC Pizza Bellecour 2", slug="bellecour-2", publish=publish)

    submit_editor(marketing, edit_url(copy), "publish", intro="La copie")

    assert StorePage.objects.get(pk=copy.pk).intro == "La copie"
    assert head_office_values(copy) == LIVE


# Scheduled publishing


def test_old_revision_scheduled_by_marketing_goes_live_without_its_old_payment_location(client, store):
    submit_editor(
        editor(client, roles.MARKETING),
        revert_url(store, store.old_revision),
        "publish",
        intro="Programmée",
        go_live_at=go_live_in(days=1),
    )

    run_publish_scheduled(days_later=2)

    assert StorePage.objects.get(pk=store.pk).intro == "Programmée"
    assert head_office_values(store) == LIVE


def test_payment_location_changed_after_marketing_scheduled_an_edit_stays_when_the_edit_goes_live(
    client, store
):
    submit_editor(
        editor(client, roles.MARKETING),
        edit_url(store),
        "publish",
        intro="Programmée",
        go_live_at=go_live_in(days=1),
    )
    # Meanwhile the store's Square location changes outside the page editor (a data correction).
    StorePage.objects.filter(pk=store.pk).update(payment_location_id="LOC-NEW")

    run_publish_scheduled(days_later=2)

    assert StorePage.objects.get(pk=store.pk).intro == "Programmée"
    assert head_office_values(store) == {**LIVE, "payment_location_id": "LOC-NEW"}


def test_head_office_scheduled_payment_change_goes_live(client, store):
    submit_editor(
        editor(client, roles.HEAD_OFFICE),
        edit_url(store),
        "publish",
        go_live_at=go_live_in(days=1),
        delivery_postcodes="69002, 69005, 69007",
        payment_location_id="LOC-NEXT",
    )
    assert head_office_values(store) == LIVE  # not yet

    run_publish_scheduled(days_later=2)

    assert head_office_values(store) == {
        "delivery_postcodes": "69002, 69005, 69007",
        "payment_location_id": "LOC-NEXT",
    }


# Workflow approval


def test_old_revision_submitted_by_marketing_and_approved_by_head_office_keeps_the_live_payment(
    client, store
):
    submit_editor(
        editor(client, roles.MARKETING), revert_url(store, store.old_revision), "submit", intro="Soumise"
    )
    client.logout()

    approve(editor(client, roles.HEAD_OFFICE, MODERATORS), store)

    assert StorePage.objects.get(pk=store.pk).intro == "Soumise"
    assert head_office_values(store) == LIVE


def test_every_field_the_editor_hides_from_marketing_is_kept_live():
    assert gated_in_editor(StorePage) == declared(StorePage.head_office_fields)


def test_head_office_payment_change_approved_by_a_moderator_without_the_permission_goes_live(client, store):
    submit_editor(
        editor(client, roles.HEAD_OFFICE), edit_url(store), "submit", payment_location_id="LOC-NEXT"
    )
    client.logout()

    approve(editor(client, MODERATORS), store)

    assert head_office_values(store) == {**LIVE, "payment_location_id": "LOC-NEXT"}


def test_payment_changed_while_marketing_edit_awaits_approval_stays_when_its_author_was_deleted(
    client, store
):
    submit_editor(editor(client, roles.MARKETING), edit_url(store), "submit", intro="Soumise")
    client.logout()
    # The marketing author leaves (the revision keeps no user); head office moves the payments.
    StorePage.objects.get(pk=store.pk).latest_revision.user.delete()
    StorePage.objects.filter(pk=store.pk).update(payment_location_id="LOC-NEXT")

    approve(editor(client, roles.HEAD_OFFICE, MODERATORS), store)

    assert StorePage.objects.get(pk=store.pk).intro == "Soumise"
    assert head_office_values(store) == {**LIVE, "payment_location_id": "LOC-NEXT"}


# The delivery area: radius and distance bands


def bands_of(store):
    return list(
        DeliveryBand.objects.filter(store=store)
        .order_by("up_to_km")
        .values_list("up_to_km", "delivery_fee", "minimum_order")
    )


def band_rows(*rows):
    """The editor's formset fields for new bands (up_to_km, fee, minimum)."""
    data = {"delivery_bands-TOTAL_FORMS": str(len(rows))}
    for index, (up_to_km, fee, minimum) in enumerate(rows):
        data.update(
            {
                f"delivery_bands-{index}-up_to_km": up_to_km,
                f"delivery_bands-{index}-delivery_fee": fee,
                f"delivery_bands-{index}-minimum_order": minimum,
                f"delivery_bands-{index}-ORDER": str(index + 1),
                f"delivery_bands-{index}-id": "",
                f"delivery_bands-{index}-DELETE": "",
            }
        )
    return data


def test_head_office_sets_a_radius_and_fee_bands_in_the_editor(client, store):
    submit_editor(
        editor(client, roles.HEAD_OFFICE),
        edit_url(store),
        "publish",
        delivery_radius_km="6",
        **band_rows(("3", "0", ""), ("6", "2.50", "20")),
    )

    assert StorePage.objects.get(pk=store.pk).delivery_radius_km == Decimal("6.00")
    assert bands_of(store) == [
        (Decimal("3.00"), Decimal("0.00"), None),
        (Decimal("6.00"), Decimal("2.50"), Decimal("20.00")),
    ]


@pytest.mark.parametrize(
    ("radius", "rows", "message"),
    [
        (
            "5",
            [("3", "0", ""), ("6", "2.50", "")],
            "Une tranche de livraison va au-delà du rayon de livraison.",
        ),
        ("", [("3", "0", ""), ("3.00", "2.50", "")], "Corrigez les données en double"),
    ],
    ids=["band beyond the radius", "two bands at one distance"],
)
def test_the_editor_refuses_bands_that_make_no_sense(client, store, radius, rows, message):
    client = editor(client, roles.HEAD_OFFICE)
    data = browser_form_data(client.get(edit_url(store)).content.decode(), EDIT_FORM)
    data.update({"delivery_radius_km": radius, **band_rows(*rows), "action-publish": "publish"})

    response = client.post(edit_url(store), data)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert bands_of(store) == []


def test_marketing_sees_neither_radius_nor_bands_and_publishing_keeps_them(client, store, head_office_user):
    live = StorePage.objects.get(pk=store.pk)
    live.delivery_radius_km = Decimal("4")
    live.delivery_bands = [DeliveryBand(up_to_km=Decimal("4"), delivery_fee=Decimal("1.50"))]
    live.save_revision(user=head_office_user).publish(user=head_office_user)
    marketing = editor(client, roles.MARKETING)
    form = marketing.get(edit_url(store)).content.decode()
    assert 'name="delivery_radius_km"' not in form and "delivery_bands-TOTAL_FORMS" not in form

    # The old revision (before the radius and bands) published by marketing changes neither.
    submit_editor(marketing, revert_url(store, store.old_revision), "publish", intro="Retour")

    saved = StorePage.objects.get(pk=store.pk)
    assert (saved.intro, saved.delivery_radius_km) == ("Retour", Decimal("4.00"))
    assert bands_of(store) == [(Decimal("4.00"), Decimal("1.50"), None)]
