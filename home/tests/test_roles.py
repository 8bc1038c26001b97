"""Marketing edits pages, images and promotions, and sees nothing operational."""

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.test import RequestFactory
from django.urls import reverse
from wagtail.admin.menu import admin_menu
from wagtail.test.utils.form_data import inline_formset, nested_form_data

from accounts.tests.factories import PASSWORD, UserFactory
from ocpizza import roles
from stores.models import StorePage
from stores.tests.factories import StorePageFactory

# What marketing may find in the admin menu. Anything operational (stock, orders, staff, users)
# added later must be permission-gated so that this list still holds.
MARKETING_MENU = {
    "explorer",
    "images",
    "documents",
    "promotions",
    "ingredients",
    "settings",
    "help",
    "reports",
}


@pytest.fixture
def marketing_user(db):
    return UserFactory(groups=[roles.MARKETING])


@pytest.fixture
def marketing_client(client, marketing_user):
    client.login(username=marketing_user.email, password=PASSWORD)
    return client


def menu_names(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    names = set()
    for item in admin_menu.menu_items_for_request(request):
        names.add(item.name)
    return names


def test_marketing_menu_has_no_operational_entry(marketing_user, home_page):
    names = menu_names(marketing_user)

    assert names <= MARKETING_MENU, names - MARKETING_MENU
    assert {"explorer", "images", "promotions"} <= names


def test_head_office_sees_staff_assignments(home_page):
    head_office = UserFactory(groups=[roles.HEAD_OFFICE])

    assert "affectations" in menu_names(head_office)


OPERATIONAL_ADMIN_PAGES = [
    "wagtailusers_users:index",
    "wagtailusers_groups:index",
    "wagtailsnippets_stores_storemembership:list",
    "wagtailsnippets_stores_storemembership:add",
]

# Wagtail's answer to a logged-in editor on one of its screens they may not use: no 403 but a
# redirect to the dashboard, which shows this message (our own screens, like the stock, say 403).
WAGTAIL_REFUSAL = "Désolé, vous n&#x27;avez pas les autorisations pour accéder à cette zone."


def refusal_messages(response):
    return [message.message.strip() for message in get_messages(response.wsgi_request)]


@pytest.mark.parametrize("url_name", OPERATIONAL_ADMIN_PAGES)
def test_marketing_is_sent_back_to_the_dashboard_from_operational_admin_pages(
    marketing_client, home_page, url_name
):
    response = marketing_client.get(reverse(url_name))

    assert response.status_code == 302
    assert response["Location"] == reverse("wagtailadmin_home")
    assert refusal_messages(response) == [WAGTAIL_REFUSAL]


@pytest.mark.parametrize("url_name", OPERATIONAL_ADMIN_PAGES)
def test_a_logged_out_visitor_is_sent_to_the_admin_login_from_operational_admin_pages(client, db, url_name):
    url = reverse(url_name)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('wagtailadmin_login')}?next={url}"


def test_marketing_can_edit_a_store_page_but_not_its_staff(marketing_client, store_index):
    store = StorePageFactory(parent=store_index, title="OC Pizza Perrache")

    editor = marketing_client.get(reverse("wagtailadmin_pages:edit", args=[store.id]))
    staff = marketing_client.get(reverse("wagtailsnippets_stores_storemembership:add"))

    assert editor.status_code == 200
    assert 'name="intro"' in editor.content.decode() and "OC Pizza Perrache" in editor.content.decode()
    assert staff.status_code == 302 and staff["Location"] == reverse("wagtailadmin_home")
    assert refusal_messages(staff) == [WAGTAIL_REFUSAL]


def test_only_head_office_holds_the_operational_page_permissions(db):
    def holds(group_name):
        group = Group.objects.get(name=group_name)
        return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}

    assert set(roles.OPERATIONAL_PAGE_PERMISSIONS) == {"menu.change_recipe", "stores.change_store_operations"}
    assert set(roles.OPERATIONAL_PAGE_PERMISSIONS) <= holds(roles.HEAD_OFFICE)
    for name in roles.ROLE_PERMISSIONS.keys() - {roles.HEAD_OFFICE}:
        assert not holds(name) & set(roles.OPERATIONAL_PAGE_PERMISSIONS), name


def test_store_delivery_and_payment_fields_are_for_head_office_only(client, store_index):
    store = StorePageFactory(parent=store_index)
    url = reverse("wagtailadmin_pages:edit", args=[store.id])
    fields = ['name="delivery_postcodes"', 'name="payment_location_id"']

    client.login(username=UserFactory(groups=[roles.MARKETING]).email, password=PASSWORD)
    marketing_form = client.get(url).content.decode()
    client.login(username=UserFactory(groups=[roles.HEAD_OFFICE]).email, password=PASSWORD)
    head_office_form = client.get(url).content.decode()

    assert 'name="intro"' in marketing_form
    assert [field for field in fields if field in marketing_form] == []
    assert [field for field in fields if field not in head_office_form] == []


def test_marketing_publishes_a_store_page_without_changing_delivery_or_payment(marketing_client, store_index):
    store = StorePageFactory(parent=store_index, delivery_postcodes="69002", payment_location_id="L-LYON-2")
    hours = list(store.opening_hours.all())
    data = nested_form_data(
        {
            **{field: getattr(store, field) for field in ["title", "slug", "street_address", "postcode"]},
            **{field: getattr(store, field) for field in ["city", "phone", "latitude", "longitude"]},
            "intro": "Au cœur de la Presqu'île.",
            "delivery_postcodes": "69001, 69002, 69003",
            "payment_location_id": "L-ELSEWHERE",
            "opening_hours": inline_formset(
                [{"id": h.id, "weekday": h.weekday, "opens": h.opens, "closes": h.closes} for h in hours],
                initial=len(hours),
            ),
            "comments": inline_formset([]),
            "action-publish": "publish",
        }
    )

    response = marketing_client.post(reverse("wagtailadmin_pages:edit", args=[store.id]), data)

    assert response.status_code == 302, response.context["form"].errors
    store = StorePage.objects.get(id=store.id)
    assert store.intro == "Au cœur de la Presqu'île."
    assert (store.delivery_postcodes, store.payment_location_id) == ("69002", "L-LYON-2")


def test_marketing_can_upload_images_and_create_promotions(marketing_client, home_page):
    images = marketing_client.get(reverse("wagtailimages:add"))
    promotions = marketing_client.get(reverse("wagtailsnippets_home_promotion:add"))

    assert images.status_code == 200 and promotions.status_code == 200
    assert 'type="file"' in images.content.decode()
    promotion_form = promotions.content.decode()
    assert 'name="title"' in promotion_form and 'name="starts_at"' in promotion_form


def test_sentry_debug_is_for_superusers_only(client, marketing_user):
    anonymous = client.get("/sentry-debug/")
    assert anonymous.status_code == 302
    assert anonymous["Location"] == f"{reverse('accounts:login')}?next=/sentry-debug/"

    client.login(username=marketing_user.email, password=PASSWORD)
    assert client.get("/sentry-debug/").status_code == 403


def test_sentry_debug_raises_for_a_superuser(client, db):
    admin = UserFactory(is_superuser=True, is_staff=True)
    client.login(username=admin.email, password=PASSWORD)
    client.raise_request_exception = True

    with pytest.raises(ZeroDivisionError):
        client.get("/sentry-debug/")
