"""Finding orders by what a manager types: an order number, the customer's name, phone or e-mail.

Phone numbers are stored as the customer or staff typed them (« 06 12 34 56 78 »,
« 06.12.34.56.78 », « +33 6 12 34 56 78 »). Both sides are brought to the national form before
comparing (digits only, +33 / 0033 / +33 (0) read as a leading 0), the stored side in SQL, so that
the search stays one query whatever the number of orders.
"""

import re

from django.db.models import Case, IntegerField, Q, Value, When
from django.db.models.functions import Replace

# A query with fewer digits than this is not read as a phone number (« 12 » would match half the
# orders of the day).
MIN_PHONE_DIGITS = 4
PHONE_CHARACTERS = re.compile(r"[0-9 .()+/-]+", flags=re.ASCII)
# What people put between the digits of a phone number.
SEPARATORS = [" ", ".", "-", "/", "(", ")"]


def normalise_phone(text):
    """`text` as a national phone number of digits only (« +33 6 12… » → « 0612… »), or "" when
    `text` is not a phone number."""
    text = text.strip()
    if not PHONE_CHARACTERS.fullmatch(text):
        return ""
    digits = re.sub(r"[^0-9+]", "", text.replace("(0)", ""))
    for prefix in ("+33", "0033"):
        if digits.startswith(prefix):
            digits = "0" + digits.removeprefix(prefix)
            break
    digits = digits.replace("+", "")
    return digits if len(digits) >= MIN_PHONE_DIGITS else ""


def stored_phone(field="contact_phone"):
    """The SQL expression of `field` brought to the national form (as `normalise_phone` does,
    but for the « 0033 » prefix, which cannot be anchored in portable SQL)."""
    expression = field
    expression = Replace(expression, Value("(0)"), Value(""))
    for separator in SEPARATORS:
        expression = Replace(expression, Value(separator), Value(""))
    return Replace(expression, Value("+33"), Value("0"))


def search_orders(orders, text):
    """`orders` matching `text`: its order number (part of it), every word of the contact name,
    the e-mail, or the phone number (part of it, whatever its spacing or prefix). An order whose
    number is `text` comes first, then the orders of that exact phone number, then the others;
    within each, the order given to `orders` is kept."""
    text = " ".join(text.split())
    if not text:
        return orders
    phone = normalise_phone(text)
    words = text.split(" ")
    found = Q(number__icontains=text) | Q(contact_email__icontains=text)
    found |= Q(*[Q(contact_name__icontains=word) for word in words])
    rank = [When(number__iexact=text, then=Value(0))]
    if phone:
        orders = orders.alias(normalised_phone=stored_phone())
        found |= Q(normalised_phone__contains=phone)
        rank.append(When(normalised_phone=phone, then=Value(1)))
    ordering = orders.query.order_by or orders.model._meta.ordering
    return (
        orders.filter(found)
        .alias(search_rank=Case(*rank, default=Value(2), output_field=IntegerField()))
        .order_by("search_rank", *ordering)
    )
