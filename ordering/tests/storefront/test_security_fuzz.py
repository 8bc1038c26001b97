"""A hypothesis pass over the storefront's ordering forms: whatever is posted, never a 500.

Each field gets text, integers (huge ones too), decimals (NaN and infinities too) or a valid value;
the client raises the view's exception if one escapes, so a failure shows its traceback. The
database objects are made once per test (hypothesis runs its examples inside one test), the runs
are derandomized so CI sees the same examples each time. Text leaves out control characters:
Django's forms refuse NUL, and echoing the others into a form's value is a checker matter, not a
security one.
"""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ordering.cart import SESSION_KEY, make_line

from .conftest import size_of
from .test_orders import place

FUZZ = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TEXT = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=300)
ANY = st.one_of(
    TEXT,
    st.integers().map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["", "0", "-1", "1.5", "1e3", "٣", "²", "99999999999999999999999"]),
)


def field(*valid):
    """Anything, or one of the valid values (so the form gets past its first error sometimes)."""
    return st.one_of(ANY, st.sampled_from([str(value) for value in valid])) if valid else ANY


def fill(client, store, size):
    if not (client.session.get(SESSION_KEY) or {}).get("lines"):
        client.post("/panier/ajouter/", {"store": store.id, "size": size.id, "quantity": 1})


def test_cart_add(client, vaise, margherita, extra_cheese):
    size = size_of(margherita)

    @FUZZ
    @given(
        st.fixed_dictionaries(
            {
                "store": field(vaise.id),
                "size": field(size.id),
                "quantity": field(1, 20),
                "extras": st.lists(field(extra_cheese.id), max_size=3),
                "next": field("/panier/", "https://evil.example/"),
                "fragment": field("cart"),
            }
        ),
        st.booleans(),
    )
    def post(data, as_json):
        headers = {"HTTP_ACCEPT": "application/json"} if as_json else {}
        assert client.post("/panier/ajouter/", data, **headers).status_code < 500

    post()


def test_cart_line_store_and_code(client, vaise, bellecour, margherita):
    size = size_of(margherita)

    @FUZZ
    @given(
        st.sampled_from(["/panier/ligne/0/", "/panier/pizzeria/", "/panier/code/"]),
        st.fixed_dictionaries(
            {
                "quantity": field(0, 3),
                "remove": field("on"),
                "store": field(vaise.id, bellecour.id),
                "code": ANY,
            }
        ),
    )
    def post(url, data):
        fill(client, vaise, size)
        assert client.post(url, data, HTTP_ACCEPT="application/json").status_code < 500

    post()


def test_checkout(client, vaise, margherita, customer):
    size = size_of(margherita)
    client.force_login(customer)

    @FUZZ
    @given(
        st.fixed_dictionaries(
            {
                "name": field("Claire Martin"),
                "phone": field("06 12 34 56 78"),
                "email": field("claire@example.fr"),
                "fulfilment": field("pickup", "delivery"),
                "saved_address": field(),
                "street_address": field("3 rue Paul Bert"),
                "postcode": field("69009"),
                "city": field("Lyon"),
                "address_details": ANY,
                "when": field("asap"),
                "payment_method": field("cash", "card_online", "meal_voucher"),
                "idempotency_key": field("0123456789abcdef0123456789abcdef"),
                "expected_total": field("12.50", "15.00"),
                "cart_store": field(vaise.id),
                "source_token": field("cnon:card-nonce-ok"),
                "verification_token": ANY,
            }
        )
    )
    def post(data):
        fill(client, vaise, size)
        assert client.post("/panier/commander/", data).status_code < 500

    post()


def test_order_change_cancel_and_pay(client, vaise, margherita, customer):
    order = place(vaise, [make_line(size_of(margherita).id, 2)], customer=customer)
    line = order.lines.get()
    client.force_login(customer)

    @FUZZ
    @given(
        st.sampled_from(["modifier/", "annuler/", "payer/"]),
        st.fixed_dictionaries(
            {
                f"quantity-{line.id}": field(1, 2, 3),
                "when": field("asap"),
                "expected_total": field("25.00", "37.50"),
                "source_token": field("cnon:card-nonce-ok"),
                "verification_token": ANY,
                "idempotency_key": field("0123456789abcdef0123456789abcdef"),
                "reason": ANY,
            }
        ),
    )
    def post(page, data):
        if page == "annuler/":
            data["reason"] = data["reason"] + "x" * 201  # too long: refused, the order stays to fuzz
        assert client.post(f"/commandes/{order.number}/{page}", data).status_code < 500

    post()
