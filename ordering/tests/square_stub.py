"""A local stub of Square's API (the endpoints of the Payments and Refunds APIs we call), so that
tests drive the real `squareup` SDK over HTTP without the internet.

It runs in a thread on 127.0.0.1 (random port) and answers like Square's sandbox:

- `POST /v2/payments` charges a test token (`SANDBOX_TOKENS`: `cnon:card-nonce-ok` succeeds,
  the documented declining tokens decline with Square's codes; `cnon:stub-decline-<CODE>`
  declines with any code, e.g. `cnon:stub-decline-INSUFFICIENT_FUNDS`). A declined attempt is a
  FAILED payment in the ledger, returned in the error body beside `errors`, as Square does.
- `GET /v2/payments/{id}`, `GET /v2/payments` (begin_time, end_time, location_id, cursor; pages of
  `page_size`), `POST /v2/refunds` (refuses more than what remains: REFUND_AMOUNT_INVALID),
  `GET /v2/refunds/{id}`.
- Idempotency as Square's: the same key with the same body answers the first answer again
  (status and body, nothing new in the ledger); the same key with another body is refused
  (IDEMPOTENCY_KEY_REUSED).
- A wrong bearer token answers 401 (AUTHENTICATION_ERROR / UNAUTHORIZED).

Scripted behaviour, per operation ("payments.create", "payments.get", "payments.list",
"refunds.refund_payment", "refunds.get"), consumed one per request in order:

    stub.fail_next("payments.create", 503)           # answered without processing
    stub.fail_next("payments.create", 429, retry_after="0")
    stub.delay_next("payments.create", 2.0)          # processed (the charge is recorded), then
                                                     # the answer waits: the client times out

The ledger (`stub.payments`, `stub.refunds`, dicts by id in Square's JSON shape) lets a test assert
"exactly one charge"; `stub.calls(operation)` counts the requests received (retries included).
Webhooks: `stub.webhook_body(type, object_id)` builds Square's notification payload and
`stub.sign(body)` the `x-square-hmacsha256-signature` header for `stub.webhook_url`.
"""

import base64
import collections
import datetime
import hashlib
import hmac
import itertools
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

# Square's documented sandbox payment tokens ("Payment tokens for testing the Payments API") and
# the error code each declines with; None: the payment succeeds.
SANDBOX_TOKENS = {
    "cnon:card-nonce-ok": None,
    "ccof:customer-card-id-ok": None,
    "cnon:card-nonce-declined": "GENERIC_DECLINE",
    "cnon:card-nonce-rejected-cvv": "CVV_FAILURE",
    "cnon:card-nonce-rejected-postalcode": "ADDRESS_VERIFICATION_FAILURE",
    "cnon:card-nonce-rejected-expiration": "INVALID_EXPIRATION",
    "cnon:card-nonce-already-used": "CARD_TOKEN_USED",
    "ccof:customer-card-id-declined": "GENERIC_DECLINE",
    "ccof:customer-card-id-rejected-cvv": "CVV_FAILURE",
    "ccof:customer-card-id-rejected-postalcode": "ADDRESS_VERIFICATION_FAILURE",
    "ccof:customer-card-id-rejected-expiration": "INVALID_EXPIRATION",
}
# A token that needs 3-D Secure (our convention, shared with the simulator): declined with
# CARD_DECLINED_VERIFICATION_REQUIRED unless a verification token comes with it.
REQUIRES_VERIFICATION = "cnon:card-nonce-requires-verification"
DECLINE_PREFIX = "cnon:stub-decline-"
ACCESS_TOKEN = "stub-access-token"
CARD_STATUS = {"COMPLETED": "CAPTURED", "APPROVED": "AUTHORIZED", "FAILED": "FAILED"}
OPERATIONS = ("payments.create", "payments.get", "payments.list", "refunds.refund_payment", "refunds.get")
ERROR_CATEGORIES = {
    400: ("INVALID_REQUEST_ERROR", "BAD_REQUEST"),
    401: ("AUTHENTICATION_ERROR", "UNAUTHORIZED"),
    403: ("AUTHENTICATION_ERROR", "FORBIDDEN"),
    404: ("INVALID_REQUEST_ERROR", "NOT_FOUND"),
    429: ("RATE_LIMIT_ERROR", "RATE_LIMITED"),
    500: ("API_ERROR", "INTERNAL_SERVER_ERROR"),
    502: ("API_ERROR", "BAD_GATEWAY"),
    503: ("API_ERROR", "SERVICE_UNAVAILABLE"),
    504: ("API_ERROR", "GATEWAY_TIMEOUT"),
}


INVALID = "INVALID_REQUEST_ERROR"
# Square refuses longer idempotency keys (CreatePayment and RefundPayment: 45 characters).
MAX_IDEMPOTENCY_KEY = 45


def rfc3339(moment):
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_rfc3339(value):
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))


def error_body(category, code, detail="", field=None):
    error = {"category": category, "code": code, "detail": detail or code}
    if field:
        error["field"] = field
    return {"errors": [error]}


class SquareStub:
    """The stub server and its ledger. Use as a context manager, or `start()` / `stop()`."""

    def __init__(
        self,
        *,
        access_token=ACCESS_TOKEN,
        signature_key="stub-webhook-signature-key",
        webhook_url="https://testserver/paiements/square/webhook/",
        location_id="STUB-LOCATION",
    ):
        self.access_token = access_token
        self.signature_key = signature_key
        self.webhook_url = webhook_url
        self.location_id = location_id
        self.merchant_id = "STUB-MERCHANT"
        self.page_size = 100
        self.decline_status = 400  # Square answers declines 400 (the code, not the status, says why)
        self.refund_status = "COMPLETED"  # status of new refunds; "PENDING" as Square often does
        self.now = None  # aware datetime for created_at; None: the real clock
        self.payments = {}
        self.refunds = {}
        self.requests = []  # (operation, method, path, json body or None)
        self._idempotent = {}  # (operation, key) -> (body sent, status, answer)
        self._script = collections.defaultdict(collections.deque)
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._server = None
        self._thread = None

    # Life cycle --------------------------------------------------------------------------------

    def start(self):
        handler = type("Handler", (_Handler,), {"stub": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="square-stub", daemon=True
        )
        self._thread.start()
        return self

    def stop(self):
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self):
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # Scripting ---------------------------------------------------------------------------------

    def fail_next(self, operation, status, *, code=None, category=None, detail="", retry_after=None, times=1):
        """The next `times` requests of `operation` answer `status` with Square's error body,
        without doing anything (nothing enters the ledger)."""
        self._check(operation)
        default_category, default_code = ERROR_CATEGORIES.get(status, ("API_ERROR", "INTERNAL_SERVER_ERROR"))
        body = error_body(category or default_category, code or default_code, detail)
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        for _ in range(times):
            self._script[operation].append(("fail", status, body, headers))

    def delay_next(self, operation, seconds, *, times=1):
        """The next `times` requests of `operation` are processed at once (a charge is recorded),
        then the answer waits `seconds`: a client with a shorter time-out never reads it."""
        self._check(operation)
        for _ in range(times):
            self._script[operation].append(("delay", seconds))

    def calls(self, operation):
        """How many requests of `operation` reached the stub (retries included)."""
        with self._lock:
            return sum(1 for request in self.requests if request[0] == operation)

    @staticmethod
    def _check(operation):
        if operation not in OPERATIONS:
            raise ValueError(f"Unknown operation {operation!r}; known: {', '.join(OPERATIONS)}")

    # Ledger helpers ----------------------------------------------------------------------------

    def charges(self, status="COMPLETED"):
        """The payments of the ledger with `status` (None: all), oldest first."""
        with self._lock:
            return [p for p in self.payments.values() if status is None or p["status"] == status]

    def add_payment(
        self,
        *,
        amount,
        reference_id="",
        status="COMPLETED",
        location_id=None,
        created_at=None,
        currency="EUR",
        payment_id=None,
    ):
        """Put a payment straight into the ledger (as if taken by another path): for fetch, list
        and reconciliation tests. `amount` in cents. Returns the payment dict."""
        with self._lock:
            payment = self._new_payment(
                amount=amount,
                currency=currency,
                status=status,
                location_id=location_id or self.location_id,
                reference_id=reference_id,
                created_at=created_at,
                payment_id=payment_id,
            )
            self.payments[payment["id"]] = payment
            return payment

    def set_payment_status(self, payment_id, status):
        with self._lock:
            payment = self.payments[payment_id]
            payment["status"] = status
            payment["card_details"]["status"] = CARD_STATUS.get(status, "VOIDED")
            payment["updated_at"] = rfc3339(self._now())
            return payment

    def set_refund_status(self, refund_id, status):
        """Settle a refund (e.g. PENDING → COMPLETED, or FAILED: the money goes back to the payment)."""
        with self._lock:
            refund = self.refunds[refund_id]
            refund["status"] = status
            refund["updated_at"] = rfc3339(self._now())
            self._update_refunded(self.payments[refund["payment_id"]])
            return refund

    # Webhooks ----------------------------------------------------------------------------------

    def sign(self, body, url=None):
        """The `x-square-hmacsha256-signature` Square sends with `body` (bytes or str) to `url`."""
        if isinstance(body, bytes):
            body = body.decode()
        payload = ((url or self.webhook_url) + body).encode()
        digest = hmac.new(self.signature_key.encode(), payload, hashlib.sha256).digest()
        return base64.b64encode(digest).decode()

    def webhook_body(self, event_type, object_id, *, event_id=None):
        """Square's notification payload (bytes) for `event_type` ("payment.updated",
        "refund.created", ...) about the ledger's object `object_id`."""
        kind = event_type.split(".")[0]
        with self._lock:
            obj = (self.payments if kind == "payment" else self.refunds).get(object_id, {"id": object_id})
            payload = {
                "merchant_id": self.merchant_id,
                "type": event_type,
                "event_id": event_id or str(uuid.uuid4()),
                "created_at": rfc3339(self._now()),
                "data": {"type": kind, "id": object_id, "object": {kind: json.loads(json.dumps(obj))}},
            }
        return json.dumps(payload).encode()

    def webhook_headers(self, body, url=None):
        return {"x-square-hmacsha256-signature": self.sign(body, url), "content-type": "application/json"}

    # Square's behaviour ------------------------------------------------------------------------

    def _now(self):
        return self.now or datetime.datetime.now(datetime.UTC)

    def _new_id(self, prefix):
        return f"{prefix}{next(self._ids):04d}{uuid.uuid4().hex[:16].upper()}"

    def _new_payment(
        self, *, amount, currency, status, location_id, reference_id="", created_at=None, **extra
    ):
        moment = rfc3339(created_at or self._now())
        money = {"amount": amount, "currency": currency}
        card_status = CARD_STATUS.get(status, "VOIDED")
        payment = {
            "id": extra.pop("payment_id", None) or self._new_id("PAY"),
            "created_at": moment,
            "updated_at": moment,
            "amount_money": money,
            "total_money": dict(money),
            "approved_money": dict(money) if status != "FAILED" else {"amount": 0, "currency": currency},
            "status": status,
            "source_type": "CARD",
            "card_details": {
                "status": card_status,
                "card": {"card_brand": "VISA", "last_4": "1111", "exp_month": 12, "exp_year": 2030},
                "entry_method": "KEYED",
            },
            "location_id": location_id,
            "refund_ids": [],
            "version_token": uuid.uuid4().hex,
        }
        if reference_id:
            payment["reference_id"] = reference_id
        payment.update({key: value for key, value in extra.items() if value})
        return payment

    def _update_refunded(self, payment):
        refunded = sum(
            refund["amount_money"]["amount"]
            for refund in self.refunds.values()
            if refund["payment_id"] == payment["id"] and refund["status"] in ("PENDING", "COMPLETED")
        )
        if refunded:
            payment["refunded_money"] = {"amount": refunded, "currency": payment["amount_money"]["currency"]}
        else:
            payment.pop("refunded_money", None)

    def handle(self, operation, method, path, query, body):
        """Answer one request: (status, JSON answer, extra headers, seconds to wait before answering)."""
        with self._lock:
            self.requests.append((operation, method, path, body))
            scripted = self._script[operation].popleft() if self._script[operation] else None
        if scripted and scripted[0] == "fail":
            _, status, answer, headers = scripted
            return status, answer, headers, 0
        delay = scripted[1] if scripted else 0
        with self._lock:
            key = (body or {}).get("idempotency_key")
            if key and len(key) > MAX_IDEMPOTENCY_KEY:
                detail = f"Field must not be greater than {MAX_IDEMPOTENCY_KEY} length"
                return 400, error_body(INVALID, "VALUE_TOO_LONG", detail, "idempotency_key"), {}, 0
            if key:
                seen = self._idempotent.get((operation, key))
                if seen is not None:
                    sent, status, answer = seen
                    if sent != body:
                        status, answer = (
                            400,
                            error_body(
                                "INVALID_REQUEST_ERROR",
                                "IDEMPOTENCY_KEY_REUSED",
                                "The idempotency key can only be retried with the same request data.",
                                "idempotency_key",
                            ),
                        )
                    return status, answer, {}, delay
            status, answer = getattr(self, "_" + operation.replace(".", "_"))(path, query, body or {})
            if key and status < 500:
                self._idempotent[(operation, key)] = (body, status, answer)
            return status, json.loads(json.dumps(answer)), {}, delay

    def _payments_create(self, path, query, body):
        money = body.get("amount_money") or {}
        amount, currency = money.get("amount"), money.get("currency")
        if not isinstance(amount, int) or amount <= 0:
            return 400, error_body(INVALID, "INVALID_VALUE", "amount_money.amount", "amount_money")
        if currency != "EUR":
            return 400, error_body(INVALID, "INVALID_CURRENCY", "Only EUR here", "amount_money")
        token = body.get("source_id", "")
        if token.startswith(DECLINE_PREFIX):
            code = token.removeprefix(DECLINE_PREFIX)
        elif token == REQUIRES_VERIFICATION:
            code = None if body.get("verification_token") else "CARD_DECLINED_VERIFICATION_REQUIRED"
        elif token in SANDBOX_TOKENS:
            code = SANDBOX_TOKENS[token]
        else:
            return 400, error_body(INVALID, "INVALID_CARD_DATA", "Invalid card data.", "source_id")
        status = "FAILED" if code else ("COMPLETED" if body.get("autocomplete", True) else "APPROVED")
        payment = self._new_payment(
            amount=amount,
            currency=currency,
            status=status,
            location_id=body.get("location_id") or self.location_id,
            reference_id=body.get("reference_id", ""),
            note=body.get("note"),
        )
        self.payments[payment["id"]] = payment
        if code:
            answer = error_body("PAYMENT_METHOD_ERROR", code, f"Authorization error: '{code}'")
            payment["card_details"]["errors"] = answer["errors"]
            return self.decline_status, {**answer, "payment": payment}
        return 200, {"payment": payment}

    def _payments_get(self, path, query, body):
        payment = self.payments.get(path.rsplit("/", 1)[-1])
        if payment is None:
            return 404, error_body(INVALID, "NOT_FOUND", "Could not find payment.")
        return 200, {"payment": payment}

    def _payments_list(self, path, query, body):
        begin = parse_rfc3339(query["begin_time"]) if "begin_time" in query else None
        end = parse_rfc3339(query["end_time"]) if "end_time" in query else None
        location = query.get("location_id", self.location_id)
        found = [
            p
            for p in self.payments.values()
            if p["location_id"] == location
            and (begin is None or parse_rfc3339(p["created_at"]) >= begin)
            and (end is None or parse_rfc3339(p["created_at"]) < end)
        ]
        found.sort(key=lambda p: p["created_at"], reverse=query.get("sort_order", "DESC") != "ASC")
        start = int(query.get("cursor") or 0)
        size = min(int(query.get("limit") or self.page_size), self.page_size)
        answer = {"payments": found[start : start + size]} if found[start : start + size] else {}
        if start + size < len(found):
            answer["cursor"] = str(start + size)
        return 200, answer

    def _refunds_refund_payment(self, path, query, body):
        payment = self.payments.get(body.get("payment_id", ""))
        if payment is None:
            return 404, error_body(INVALID, "NOT_FOUND", "Could not find payment.", "payment_id")
        money = body.get("amount_money") or {}
        amount = money.get("amount")
        if payment["status"] != "COMPLETED":
            return 400, error_body(
                "INVALID_REQUEST_ERROR", "PAYMENT_NOT_REFUNDABLE", "Payment is not refundable.", "payment_id"
            )
        if money.get("currency") != payment["amount_money"]["currency"]:
            return 400, error_body(INVALID, "CURRENCY_MISMATCH", "Currency mismatch.")
        remaining = payment["amount_money"]["amount"] - payment.get("refunded_money", {}).get("amount", 0)
        if not isinstance(amount, int) or amount <= 0 or amount > remaining:
            return 400, error_body(
                "INVALID_REQUEST_ERROR",
                "REFUND_AMOUNT_INVALID",
                "The requested refund amount exceeds the amount available to refund.",
                "amount_money.amount",
            )
        moment = rfc3339(self._now())
        refund = {
            "id": f"{payment['id']}_{self._new_id('REF')}",
            "status": self.refund_status,
            "amount_money": {"amount": amount, "currency": money["currency"]},
            "payment_id": payment["id"],
            "location_id": payment["location_id"],
            "created_at": moment,
            "updated_at": moment,
        }
        if body.get("reason"):
            refund["reason"] = body["reason"]
        self.refunds[refund["id"]] = refund
        payment["refund_ids"].append(refund["id"])
        self._update_refunded(payment)
        return 200, {"refund": refund}

    def _refunds_get(self, path, query, body):
        refund = self.refunds.get(path.rsplit("/", 1)[-1])
        if refund is None:
            return 404, error_body(INVALID, "NOT_FOUND", "Could not find refund.")
        return 200, {"refund": refund}


ROUTES = (
    ("POST", "/v2/payments", "payments.create"),
    ("GET", "/v2/payments", "payments.list"),
    ("GET", "/v2/payments/", "payments.get"),
    ("POST", "/v2/refunds", "refunds.refund_payment"),
    ("GET", "/v2/refunds/", "refunds.get"),
)


class _Handler(BaseHTTPRequestHandler):
    stub = None  # set on the subclass made by SquareStub.start
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # quiet: pytest shows failures, not access logs
        pass

    def do_GET(self):
        self._answer("GET")

    def do_POST(self):
        self._answer("POST")

    def _answer(self, method):
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        operation = next(
            (
                name
                for verb, prefix, name in ROUTES
                if verb == method
                and (parts.path == prefix or (prefix.endswith("/") and parts.path.startswith(prefix)))
            ),
            None,
        )
        if operation is None:
            return self._send(404, error_body(INVALID, "NOT_FOUND", "No such endpoint."))
        if self.headers.get("Authorization") != f"Bearer {self.stub.access_token}":
            category, code = ERROR_CATEGORIES[401]
            return self._send(401, error_body(category, code, "This request could not be authorized."))
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return self._send(400, error_body(INVALID, "INVALID_CONTENT_TYPE", "Bad JSON"))
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        status, answer, headers, delay = self.stub.handle(operation, method, parts.path, query, body)
        if delay and self.stub._stopping.wait(delay):
            return
        self._send(status, answer, headers)

    def _send(self, status, answer, headers=None):
        data = json.dumps(answer).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (time-out): Square would have done the work all the same
