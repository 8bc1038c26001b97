import datetime
import zoneinfo

from accounts.tests.factories import UserFactory
from ocpizza import roles
from stores.access import is_head_office, managed_stores, stores_for
from stores.models import StoreRole

from .factories import StoreMembershipFactory, StorePageFactory

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def test_store_is_open_only_during_its_slots(store_index):
    store = StorePageFactory(parent=store_index, hours=[(4, "11:30", "14:30"), (4, "18:00", "23:00")])
    friday = datetime.date(2026, 11, 27)

    def at(hour, minute=0, day=friday):
        return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=PARIS)

    assert store.is_open(now=at(12))
    assert not store.is_open(now=at(15))
    assert store.is_open(now=at(22, 59))
    assert not store.is_open(now=at(23))
    assert not store.is_open(now=at(12, day=friday + datetime.timedelta(days=1)))


def test_store_page_shows_hours_with_closed_days(client, store_index):
    store = StorePageFactory(parent=store_index, hours=[(1, "11:30", "14:30")])

    html = client.get(store.url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert "11:30 – 14:30" in html
    assert html.count("<td>Fermé</td>") == 6  # the six other days


def test_staff_see_only_their_stores_and_head_office_sees_all(store_index):
    bellecour, vaise = StorePageFactory(parent=store_index), StorePageFactory(parent=store_index)
    manager = StoreMembershipFactory(store=bellecour, role=StoreRole.MANAGER).user
    driver = StoreMembershipFactory(store=vaise, role=StoreRole.DRIVER).user
    head_office = UserFactory(groups=[roles.HEAD_OFFICE])

    assert list(stores_for(manager)) == [bellecour]
    assert list(managed_stores(manager)) == [bellecour]
    assert list(managed_stores(driver)) == []
    assert set(stores_for(head_office)) == {bellecour, vaise}
    assert is_head_office(head_office) and not is_head_office(manager)
