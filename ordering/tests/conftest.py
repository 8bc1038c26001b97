import pytest

from .factories import make_shop
from .square_stub import SquareStub


@pytest.fixture
def shop(home_page, store_index, menu_page):
    return make_shop(store_index, menu_page)


@pytest.fixture
def square_stub(settings):
    """A local stub of Square's API (square_stub.SquareStub), started for the test, with the
    settings pointing the Square provider at it: PAYMENT_PROVIDER=square, SQUARE_BASE_URL, the
    stub's token, a sandbox application id, the webhook signature key and URL (`stub.sign(body)`
    gives a valid `x-square-hmacsha256-signature`), a short time-out and no pause between retries."""
    with SquareStub() as stub:
        settings.PAYMENT_PROVIDER = "square"
        settings.SQUARE_BASE_URL = stub.url
        settings.SQUARE_ACCESS_TOKEN = stub.access_token
        settings.SQUARE_APPLICATION_ID = "sandbox-sq0idb-stub-application"
        settings.SQUARE_ENVIRONMENT = "sandbox"
        settings.SQUARE_WEBHOOK_SIGNATURE_KEY = stub.signature_key
        settings.SQUARE_WEBHOOK_URL = stub.webhook_url
        settings.SQUARE_TIMEOUT = 2.0
        settings.SQUARE_RETRY_DELAY = 0
        yield stub
