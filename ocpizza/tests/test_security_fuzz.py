"""A hypothesis pass over the public forms outside the cart: accounts, addresses, the language
switch and the store locator. Whatever is sent, never a 500 (the client raises the view's
exception if one escapes). The cart and checkout have theirs in
ordering/tests/storefront/test_security_fuzz.py; the same strategies and settings are used.
"""

from hypothesis import given
from hypothesis import strategies as st

from accounts.tests.factories import AddressFactory, UserFactory
from ordering.tests.storefront.test_security_fuzz import ANY, FUZZ, TEXT, field
from stores.tests.factories import StorePageFactory

ACCOUNT_FORMS = {
    "/compte/inscription/": ["email", "password1", "password2", "first_name", "last_name", "phone"],
    "/compte/connexion/": ["login", "password", "remember"],
    "/compte/mot-de-passe/oublie/": ["email"],
}


def test_sign_up_log_in_and_password_reset(client, db):
    UserFactory(email="claire@example.fr")

    @FUZZ
    @given(st.sampled_from(sorted(ACCOUNT_FORMS)), st.data())
    def post(url, data):
        values = {
            name: data.draw(field("claire@example.fr", "pizza-demo-2026", "on"), label=name)
            for name in ACCOUNT_FORMS[url]
        }
        assert client.post(url, values).status_code < 500

    post()


def test_account_addresses_and_profile(client, db):
    user = UserFactory()
    address = AddressFactory(user=user)
    client.force_login(user)
    urls = [
        "/compte/",
        "/compte/adresses/ajouter/",
        f"/compte/adresses/{address.id}/",
        f"/compte/adresses/{address.id}/par-defaut/",
    ]

    @FUZZ
    @given(
        st.sampled_from(urls),
        st.fixed_dictionaries(
            {
                "label": ANY,
                "street_address": field("3 rue Paul Bert"),
                "postcode": field("69003"),
                "city": field("Lyon"),
                "details": ANY,
                "is_default": field("on"),
                "first_name": ANY,
                "last_name": ANY,
                "phone": field("06 12 34 56 78"),
            }
        ),
    )
    def post(url, data):
        assert client.post(url, data).status_code < 500

    post()


def test_set_language(client, db):
    @FUZZ
    @given(st.fixed_dictionaries({"language": field("fr", "en"), "next": field("/", "//evil.example/")}))
    def post(data):
        response = client.post("/i18n/setlang/", data)
        assert response.status_code < 500
        assert not response.get("Location", "/").startswith(("//", "http"))

    post()


def test_store_locator_search(client, store_index):
    StorePageFactory(parent=store_index, title="OC Pizza Vaise", slug="vaise", postcode="69009")
    url = store_index.url

    @FUZZ
    @given(
        st.fixed_dictionaries(
            {
                "adresse": st.one_of(TEXT, field("3 rue Paul Bert, 69003 Lyon")),
                "lat": field("45.76"),
                "lng": field("4.85"),
            }
        )
    )
    def search(params):
        assert client.get(url, params).status_code < 500

    search()
