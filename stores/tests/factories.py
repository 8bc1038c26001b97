import datetime
from decimal import Decimal

import factory
import wagtail_factories

from stores.models import OpeningHours, StoreIndexPage, StoreMembership, StorePage, StoreRole


class StoreIndexPageFactory(wagtail_factories.PageFactory):
    class Meta:
        model = StoreIndexPage

    title = "Nos pizzerias"
    slug = "pizzerias"


class StorePageFactory(wagtail_factories.PageFactory):
    class Meta:
        model = StorePage
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"OC Pizza Test {n}")
    street_address = "1 rue de la République"
    postcode = "69002"
    city = "Lyon"
    phone = "04 78 00 00 00"
    latitude = Decimal("45.760000")
    longitude = Decimal("4.835000")
    delivery_postcodes = "69002"

    @factory.post_generation
    def hours(self, create, slots, **kwargs):
        """hours=[(weekday, "11:30", "14:30"), ...]; default: every day 11:00–23:00."""
        if not create:
            return
        for weekday, opens, closes in slots or [(day, "11:00", "23:00") for day in range(7)]:
            OpeningHours.objects.create(
                store=self,
                weekday=weekday,
                opens=datetime.time.fromisoformat(opens),
                closes=datetime.time.fromisoformat(closes),
            )


class StoreMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StoreMembership

    user = factory.SubFactory("accounts.tests.factories.UserFactory")
    store = None
    role = StoreRole.STAFF


def stock(store, levels, *, thresholds=None):
    """Give `store` the quantities {ingredient: quantity} through the restock service."""
    from stores.services import restock, set_alert_threshold

    lines = [(ingredient, quantity) for ingredient, quantity in levels.items() if quantity]
    if lines:
        restock(store=store, lines=lines, user=None, supplier="Test")
    for ingredient, threshold in (thresholds or {}).items():
        set_alert_threshold(store=store, ingredient=ingredient, threshold=threshold)
