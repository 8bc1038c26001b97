"""Head office's fields of a store go live only from head office, whatever the path.

Marketing cannot see a store's delivery postcodes or its payment location (Square). These tests
take every path by which a revision becomes live or a page is made from another (revert, copy,
scheduled publishing, workflow approval) through the real admin views (see `menu.head_office`).
"""

import pytest

from accounts.tests.factories import UserFactory
from menu.tests.page_admin import (
    approve,
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
from stores.models import StorePage

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
