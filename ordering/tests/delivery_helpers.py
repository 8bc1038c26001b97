"""What the delivery board's tests share: orders brought to « ready », and crew members."""

from accounts.tests.factories import UserFactory
from ocpizza import roles
from ordering.services import Address, mark_ready, start_preparing
from stores.models import StoreRole
from stores.tests.factories import StoreMembershipFactory

from .factories import NOW, line, place

ROLE_GROUP = {
    StoreRole.MANAGER: roles.STORE_MANAGERS,
    StoreRole.STAFF: roles.STORE_STAFF,
    StoreRole.PIZZAIOLO: roles.PIZZAIOLOS,
    StoreRole.DRIVER: roles.DRIVERS,
}
# Postcodes the test shop delivers (Lyon), for rounds through several arrondissements.
POSTCODES = "69001, 69002, 69003, 69004, 69005, 69006, 69007, 69008, 69009"


def crew(role, *stores, **fields):
    """A user of the role's group with that role in each of `stores`."""
    user = UserFactory(groups=[ROLE_GROUP[role]], **fields)
    for store in stores:
        StoreMembershipFactory(user=user, store=store, role=role)
    return user


def ready(
    shop, *, fulfilment="delivery", street="12 rue de Bourgogne", postcode="69009", now=NOW, **overrides
):
    """An order of two small pizzas (18 € + 2,50 € delivery), paid in cash on hand-over, ready."""
    if fulfilment == "delivery":
        overrides.setdefault(
            "address",
            Address(street_address=street, postcode=postcode, city="Lyon", details="2e étage, code 1234"),
        )
    order = place(shop, [line(shop.small, 2)], fulfilment=fulfilment, now=now, **overrides)
    start_preparing(order, now=now)
    return mark_ready(order, now=now)
