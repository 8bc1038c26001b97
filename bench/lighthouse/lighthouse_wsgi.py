"""The WSGI application that bench/lighthouse.py serves: the site, with what Nginx adds in production.

In production Nginx (deploy/nginx/ocpizza) serves the uploaded pictures (`expires 7d`), which
Django does not with DEBUG off, and gzips the pages (`gzip on`, `gzip_proxied any`). The bench has
no Nginx, so WhiteNoise stands in for /media/ with the same lifetime and a small WSGI wrapper
gzips HTML; everything else is the production application unchanged (static files already come
compressed from WhiteNoise).
"""

import gzip

from django.conf import settings
from whitenoise import WhiteNoise

from ocpizza.wsgi import application as site

MEDIA_MAX_AGE = 7 * 24 * 3600  # deploy/nginx/ocpizza: location /media/ { expires 7d; }


def gzip_html(app):
    """Gzips text/html answers for clients that accept it, as Nginx's `gzip on` does."""

    def wrapped(environ, start_response):
        if "gzip" not in environ.get("HTTP_ACCEPT_ENCODING", ""):
            return app(environ, start_response)
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return lambda data: captured.setdefault("early", []).append(data)

        result = app(environ, capture)
        try:
            body = b"".join(captured.get("early", []) + list(result))
        finally:
            if hasattr(result, "close"):
                result.close()
        headers = captured["headers"]
        names = {name.lower(): value for name, value in headers}
        if names.get("content-type", "").startswith("text/html") and "content-encoding" not in names:
            body = gzip.compress(body, compresslevel=5)
            headers = [(n, v) for n, v in headers if n.lower() not in ("content-length", "vary")]
            vary = ", ".join(filter(None, [names.get("vary"), "Accept-Encoding"]))
            headers += [("Content-Encoding", "gzip"), ("Content-Length", str(len(body))), ("Vary", vary)]
        start_response(captured["status"], headers)
        return [body]

    return wrapped


application = WhiteNoise(gzip_html(site), max_age=MEDIA_MAX_AGE, autorefresh=True)
# Rendered renditions appear after start-up (the first page that needs one writes it): autorefresh
# looks files up at request time.
application.add_files(str(settings.MEDIA_ROOT), prefix=settings.MEDIA_URL)
