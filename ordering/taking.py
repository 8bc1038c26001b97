"""Order taking by phone and at the counter: finding a customer by phone number, and the signed
values the screen keeps in its form (`ordering.views.taking`).

A customer is found among the accounts (`accounts.User.phone`) and among the contacts of the
store's previous orders, whatever the spelling of the number (« 06 12 34 56 78 »,
« +33 6 12 34 56 78 »: `ordering.search` brings both sides to the national form, the stored side
in SQL). Each match carries its name, phone, e-mail, the account if any, and its last delivery
addresses (the account's saved ones, then those of its orders, most recent first).

The screen keeps its state in the form itself: the chosen customer and an address already
located travel as values signed with Django's `signing` (so that a posted form cannot attach an
order to somebody else's account or choose its own coordinates, hence its delivery fee).
"""

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core import signing
from django.db.models import Prefetch

from accounts.models import Address as SavedAddress
from accounts.models import User
from stores.access import staff_accounts

from .addresses import Address
from .models import Order
from .search import normalise_phone, stored_phone

MAX_MATCHES = 8  # customers listed for one number
MAX_ADDRESSES = 5  # addresses offered per customer
MAX_ORDERS_READ = 200  # previous orders read for one number (the most recent)
CUSTOMER_SALT = "ordering.taking.customer"
CUSTOMER_TOKEN_MAX_AGE = 12 * 60 * 60  # seconds: a picked customer is good for one service
ADDRESS_SALT = "ordering.taking.address"


@dataclass
class KnownCustomer:
    """Someone who called before: an account, or the contact of previous orders of the store."""

    name: str
    phone: str
    email: str = ""
    account_id: int | None = None
    addresses: list = field(default_factory=list)  # [ordering.addresses.Address], most recent first
    store_id: int | None = None  # the store whose screen found them: a token serves there only

    @property
    def last_address(self):
        return self.addresses[0] if self.addresses else None

    def token(self):
        """The signed value of the "pick this customer" button, kept in the form once picked."""
        return signing.dumps(
            {
                "name": self.name,
                "phone": self.phone,
                "email": self.email,
                "account": self.account_id,
                "addresses": [address_value(address) for address in self.addresses],
                "store": self.store_id,
            },
            salt=CUSTOMER_SALT,
            compress=True,
        )

    @classmethod
    def from_token(cls, token, store_id):
        """The customer a signed `token` names, or None (empty, altered, older than
        CUSTOMER_TOKEN_MAX_AGE, or found on another store's screen)."""
        if not token:
            return None
        try:
            value = signing.loads(token, salt=CUSTOMER_SALT, max_age=CUSTOMER_TOKEN_MAX_AGE)
            if value["store"] != store_id:
                return None
            return cls(
                name=value["name"],
                phone=value["phone"],
                email=value["email"],
                account_id=value["account"],
                addresses=[address_from_value(item) for item in value["addresses"]],
                store_id=store_id,
            )
        except (signing.BadSignature, KeyError, TypeError, ValueError, InvalidOperation):
            return None


def address_value(address):
    return [
        address.street_address,
        address.postcode,
        address.city,
        address.details,
        None if address.latitude is None else str(address.latitude),
        None if address.longitude is None else str(address.longitude),
    ]


def address_from_value(value):
    street, postcode, city, details, latitude, longitude = value
    return Address(
        street,
        postcode,
        city,
        details,
        None if latitude is None else Decimal(latitude),
        None if longitude is None else Decimal(longitude),
    )


def located_token(address):
    """The signed coordinates of an address the screen located (`Address` with coordinates)."""
    return signing.dumps(address_value(address), salt=ADDRESS_SALT)


def same_place(one, other):
    def key(address):
        return tuple(
            " ".join((part or "").split()).casefold()
            for part in (address.street_address, address.postcode, address.city)
        )

    return key(one) == key(other)


def typed_address(street, postcode, city, details, token):
    """The address typed in the form, with the coordinates of `token` when it is the address that
    was located (street, postcode and city unchanged), else without (to be geocoded)."""
    typed = Address(street or "", postcode or "", city or "", details or "")
    try:
        known = address_from_value(signing.loads(token, salt=ADDRESS_SALT)) if token else None
    except (signing.BadSignature, TypeError, ValueError, InvalidOperation):
        known = None
    if known is None or known.latitude is None or not same_place(known, typed):
        return typed
    return Address(
        typed.street_address, typed.postcode, typed.city, typed.details, known.latitude, known.longitude
    )


def find_customers(store, text):
    """The customers of phone number `text` (any spelling): the customer accounts of exactly that
    number (a whole number: staff may not browse the chain's customers by a few digits; staff
    accounts are never offered), and the previous contacts of `store` whose number contains it (at
    least `search.MIN_PHONE_DIGITS` digits), accounts first, in three queries whatever the number
    of orders."""
    phone = normalise_phone(text or "")
    if not phone:
        return []
    accounts = list(
        User.objects.filter(is_active=True)
        .exclude(pk__in=staff_accounts().values("pk"))
        .alias(normalised_phone=stored_phone("phone"))
        .filter(normalised_phone=phone)
        .prefetch_related(Prefetch("addresses", queryset=SavedAddress.objects.order_by("-is_default", "-id")))
        .order_by("last_name", "first_name", "id")[:MAX_MATCHES]
    )
    orders = list(
        Order.objects.filter(store=store)
        .alias(normalised_phone=stored_phone())
        .filter(normalised_phone__contains=phone)
        .order_by("-created_at", "-id")
        .only(
            "customer_id",
            "contact_name",
            "contact_phone",
            "contact_email",
            "fulfilment",
            "street_address",
            "postcode",
            "city",
            "address_details",
            "latitude",
            "longitude",
            "created_at",
        )[:MAX_ORDERS_READ]
    )
    matches = {}
    for account in accounts:
        matches[("account", account.id)] = KnownCustomer(
            name=account.get_full_name() or account.email,
            phone=account.phone,
            email=account.email,
            account_id=account.id,
            store_id=store.id,
            addresses=[
                Address(a.street_address, a.postcode, a.city, a.details, a.latitude, a.longitude)
                for a in account.addresses.all()
            ],
        )
    for order in orders:
        if order.customer_id is not None:
            key = ("account", order.customer_id)
        else:
            key = ("contact", normalise_phone(order.contact_phone), order.contact_name.casefold())
        match = matches.get(key)
        if match is None:  # a guest, or an account that gave this number on its orders only
            match = matches[key] = KnownCustomer(
                name=order.contact_name,
                phone=order.contact_phone,
                email=order.contact_email,
                account_id=order.customer_id,
                store_id=store.id,
            )
        if order.fulfilment == Order.Fulfilment.DELIVERY and order.street_address:
            address = Address(
                order.street_address,
                order.postcode,
                order.city,
                order.address_details,
                order.latitude,
                order.longitude,
            )
            if not any(same_place(address, known) for known in match.addresses):
                match.addresses.append(address)
    found = list(matches.values())[:MAX_MATCHES]
    for match in found:
        del match.addresses[MAX_ADDRESSES:]
    return found
