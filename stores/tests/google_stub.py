"""A local HTTP server that plays Google's Geocoding and Routes endpoints for the geo tests.

It listens on 127.0.0.1 (random port) in a thread, answers each path with what the test set
(`answer(path, body, status=, delay=)`), and records every request it receives, so a test can
assert what the real clients sent, and that a cached or refused lookup sent nothing.
"""

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

GEOCODE_PATH = "/maps/api/geocode/json"
MATRIX_PATH = "/distanceMatrix/v2:computeRouteMatrix"
ROUTES_PATH = "/directions/v2:computeRoutes"


@dataclass
class Received:
    method: str
    path: str
    query: dict
    headers: dict
    body: object


class GoogleStub:
    def __init__(self):
        self.received = []
        self._answers = {}
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                stub._handle(self, body=None)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                stub._handle(self, body=json.loads(self.rfile.read(length) or b"null"))

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self):
        host, port = self.server.server_address
        return f"http://{host}:{port}"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def answer(self, path, body, *, status=200, delay=0):
        """Answer every later request to `path` with `body` (JSON) and `status`, after `delay` s."""
        self._answers[path] = (status, body, delay)

    def requests_to(self, path):
        return [request for request in self.received if request.path == path]

    def _handle(self, handler, *, body):
        parts = urlsplit(handler.path)
        self.received.append(
            Received(
                method=handler.command,
                path=parts.path,
                query={key: values[0] for key, values in parse_qs(parts.query).items()},
                headers=dict(handler.headers),
                body=body,
            )
        )
        status, answer, delay = self._answers.get(parts.path, (404, {"error": "no answer set"}, 0))
        if delay:
            time.sleep(delay)
        payload = json.dumps(answer).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout test)


def geocode_result(
    formatted_address="12 Rue Victor Hugo, 69002 Lyon, France",
    *,
    lat=45.7548721,
    lng=4.8294467,
    types=("street_address",),
    number="12",
    street="Rue Victor Hugo",
    postcode="69002",
    city="Lyon",
):
    """One result as the Geocoding API writes it."""
    components = []
    if number:
        components.append({"long_name": number, "short_name": number, "types": ["street_number"]})
    if street:
        components.append({"long_name": street, "short_name": street, "types": ["route"]})
    components += [
        {"long_name": city, "short_name": city, "types": ["locality", "political"]},
        {"long_name": "Rhône", "short_name": "Rhône", "types": ["administrative_area_level_2", "political"]},
        {"long_name": "France", "short_name": "FR", "types": ["country", "political"]},
        {"long_name": postcode, "short_name": postcode, "types": ["postal_code"]},
    ]
    return {
        "address_components": components,
        "formatted_address": formatted_address,
        "geometry": {"location": {"lat": lat, "lng": lng}, "location_type": "ROOFTOP"},
        "place_id": "ChIJtest" + formatted_address[:4].replace(" ", ""),
        "types": list(types),
    }
