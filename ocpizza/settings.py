"""OC Pizza settings: one module, every deployment difference read from the environment.

Variables come from the process environment first, then from an optional `.env` file at the
project root (see `.env.example`, which documents each of them). Two names are fixed by the
operations manual: `DJANGOSECRETKEY` and `GOOGLEAPIKEY`.
"""

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("DJANGOSECRETKEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGOSECRETKEY is not set. Production (DEBUG off) refuses to start without it: "
            "put a long random value in the environment or in .env, for instance the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`. "
            "In a development checkout, `make run` writes a .env (DEBUG=true and a key) once."
        )
    # Development only (DEBUG on): a fixed key that must never reach production.
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "home",
    "menu",
    "stores",
    "accounts",
    "ordering",
    "wagtail.contrib.settings",
    "wagtail.contrib.sitemaps",
    "wagtail.contrib.redirects",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "csp",
    "django_filters",
    "django_tasks",
    "django_tasks_db",
    "allauth",
    "allauth.account",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.sitemaps",
    "whitenoise.runserver_nostatic",  # WhiteNoise serves static files in `make run` too
    "django.contrib.staticfiles",
    # Last: its post_migrate handler gives the role groups permissions every other app created.
    "ocpizza",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Live polls still current: a 304 from the cache alone (the answer of a fetch() is no
    # document: no CSP nor X-Frame-Options apply to it).
    "ordering.middleware.LivePollMiddleware",
    "ocpizza.csp.ContentSecurityPolicyMiddleware",  # every other response gets it
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "ocpizza.pagecache.PageCacheMiddleware",  # shared storefront pages (after locale and CSRF)
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]

ROOT_URLCONF = "ocpizza.urls"
WSGI_APPLICATION = "ocpizza.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
                "home.context_processors.site_navigation",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
# A kept connection is checked (one cheap round trip) before a request's first query: after a
# PostgreSQL restart each worker opens a new one instead of answering a 500 with the dead one.
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache: a Redis outage degrades to "no cache", never to an error page -----------------------
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # Django's RedisCache, but a dead or hung Redis reads as an empty cache (ocpizza/cache.py);
    # /readyz still reports it. A hung Redis costs one request 2 s (tighter than redis-py's 5 s),
    # then Redis is skipped for 10 s before the next try; a warning at most every 60 s.
    CACHES["default"]["BACKEND"] = "ocpizza.cache.FailSoftRedisCache"
    CACHES["default"].setdefault("OPTIONS", {})
    CACHES["default"]["OPTIONS"].setdefault("socket_connect_timeout", 2)
    CACHES["default"]["OPTIONS"].setdefault("socket_timeout", 2)
    CACHES["default"]["OPTIONS"].setdefault("RETRY_AFTER", 10)
    CACHES["default"]["OPTIONS"].setdefault("WARNING_INTERVAL", 60)
# Sessions live in the database (Django's engine, an existing session written in one round trip:
# ocpizza/sessions.py), never in the cache: a Redis outage must not log anybody out.
SESSION_ENGINE = "ocpizza.sessions"
# Anonymous storefront pages are rendered once and shared (ocpizza/pagecache.py): for at most
# this many seconds, and never past the end of the minute they were rendered in. 0 turns it off.
# On by default only with a cache every process shares (Redis): with one cache per process, a
# change seen by one Gunicorn worker would not reach the pages another one keeps.
PAGE_CACHE_SECONDS = env.int(
    "PAGE_CACHE_SECONDS",
    default=60 if CACHES["default"]["BACKEND"] == "ocpizza.cache.FailSoftRedisCache" else 0,
)
# The kitchen and delivery boards' polls answer from a per-store version kept in the cache
# (ordering/boards.py); the same reason keeps it off without a shared cache.
BOARD_VERSIONS = env.bool(
    "BOARD_VERSIONS", default=CACHES["default"]["BACKEND"] == "ocpizza.cache.FailSoftRedisCache"
)
# The tracking polls through a secret link answer from the order's version kept in the cache
# (ordering/tracking.py); off without a shared cache for the same reason.
TRACKING_VERSIONS = env.bool(
    "TRACKING_VERSIONS", default=CACHES["default"]["BACKEND"] == "ocpizza.cache.FailSoftRedisCache"
)
# --- end of cache ---------------------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:account"
LOGOUT_REDIRECT_URL = "/"

# --- Customer accounts: django-allauth (accounts/urls.py mounts its views under /compte/) ---------
# E-mail login (the user model has no username), sign-up with a mandatory e-mail confirmation,
# password reset, e-mail change. Staff log in through Wagtail's own login, which allauth leaves alone.
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_FORMS = {"signup": "accounts.forms.SignupForm"}
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
# A known address at sign-up gets the same page as a new one, and its owner an e-mail; password reset
# answers alike for any address. Unknown addresses get no mail (nobody asked us to write to them).
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False
ACCOUNT_CHANGE_EMAIL = True  # one address per account; a new one replaces it once confirmed
ACCOUNT_CONFIRM_EMAIL_ON_GET = False  # a mail scanner following the link confirms nothing
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "OC Pizza : "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG else "https"
ACCOUNT_LOGOUT_REDIRECT_URL = LOGOUT_REDIRECT_URL
# allauth's own rate limits are off: they take a lock in the cache before counting, so with Redis
# down every login, sign-up and reset would answer 429 (after waiting for the lock) — a new way
# to fail, which the project's rule forbids. The limits that apply instead, each allowing the
# request when the cache is down: django-axes' lockout on failed logins (database), and the hourly
# counters of accounts/ratelimit.py on sign-up, password reset and e-mail change (settings of the
# "Login protection" block below), plus Nginx's limit_req in production.
ACCOUNT_RATE_LIMITS = False
# --- end of customer accounts ---------------------------------------------------------------------

# French first, English available. Content is written in French by the editors; the interface
# (templates, messages, forms) is translated through gettext.
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("English"))]
# The second keeps django-allauth's French catalogue off our French strings that are also English
# words of allauth's (see the file); `makemessages` writes to the first.
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "accounts" / "allauth_locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
# Hashed file names (long cache headers) need `collectstatic`; development serves files as they are.
STATIC_MANIFEST = env.bool("STATIC_MANIFEST", default=not DEBUG)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if STATIC_MANIFEST
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        ),
    },
}
# Development serves files straight from the apps' folders, reloading them as they change.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # a request body without its files: Django's 2.5 MB, written down

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="OC Pizza <commandes@oc-pizza.fr>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Background work: run at once in development and tests, queued in the database in production
# (worked by `manage.py db_worker` under Supervisor).
TASKS = {
    "default": {
        "BACKEND": env.str("TASKS_BACKEND", default="django_tasks.backends.immediate.ImmediateBackend"),
    }
}

# Security. Behind Nginx, which terminates TLS and sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# Monitoring probes may ask Gunicorn directly over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz/?$", r"^readyz/?$"]
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"  # Wagtail sets SAMEORIGIN on its own preview views
SESSION_COOKIE_HTTPONLY = True
# The language chosen with /i18n/setlang/ travels like the session: over HTTPS only.
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_SAMESITE = "Lax"

# Wagtail
WAGTAIL_SITE_NAME = "OC Pizza"
WAGTAILADMIN_BASE_URL = env.str("WAGTAILADMIN_BASE_URL", default="http://127.0.0.1:8000")
WAGTAIL_I18N_ENABLED = False
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILIMAGES_IMAGE_MODEL = "wagtailimages.Image"
# Uploads: raster images only (an SVG can carry script), under Nginx's 20 MB body limit, and at most
# 40 megapixels (an 8K photo), so a small file that decompresses into gigabytes is refused before
# a rendition is made.
WAGTAILIMAGES_EXTENSIONS = ["avif", "gif", "jpg", "jpeg", "png", "webp"]
WAGTAILIMAGES_MAX_UPLOAD_SIZE = 10 * 1024 * 1024
WAGTAILIMAGES_MAX_IMAGE_PIXELS = 40_000_000
WAGTAILDOCS_EXTENSIONS = ["csv", "docx", "odt", "pdf", "xlsx"]
# Documents are always served by Wagtail's view, which checks a private collection's restrictions
# first (Nginx refuses /media/documents/). In production the view then hands the file to Nginx
# (X-Accel-Redirect to the internal /_documents/ location of deploy/nginx/ocpizza) instead of
# streaming it through a Gunicorn worker; elsewhere Django streams it.
WAGTAILDOCS_SERVE_METHOD = "serve_view"
# Private pages and documents send visitors to our login (not Wagtail's bare /_util/login/).
WAGTAIL_FRONTEND_LOGIN_URL = LOGIN_URL
if env.bool("DOCUMENTS_SERVED_BY_NGINX", default=False):
    SENDFILE_BACKEND = "django_sendfile.backends.nginx"
    SENDFILE_ROOT = str(Path(MEDIA_ROOT) / "documents")
    SENDFILE_URL = "/_documents"
WAGTAIL_ENABLE_UPDATE_CHECK = False
WAGTAIL_GRAVATAR_PROVIDER_URL = None  # no avatars fetched from a third party
WAGTAILADMIN_PERMITTED_LANGUAGES = LANGUAGES

# Integrations: which implementation runs is a setting, never `if DEBUG`.
GOOGLEAPIKEY = env.str("GOOGLEAPIKEY", default="")
# Geocoding and routes (stores/geo, docs/maps.md): Google's Geocoding and Routes APIs with the key,
# the offline twin without it or whenever Google fails. The base URLs change only in tests.
GEO_GEOCODING_BASE_URL = "https://maps.googleapis.com"
GEO_ROUTES_BASE_URL = "https://routes.googleapis.com"
GEO_TIMEOUT_SECONDS = env.float("GEO_TIMEOUT_SECONDS", default=5.0)
# How long a geocoded address is kept in the cache (Google allows 30 days for coordinates).
GEO_CACHE_SECONDS = env.int("GEO_CACHE_SECONDS", default=30 * 24 * 3600)
# Square (ordering/payments/square.py), used when PAYMENT_PROVIDER=square. No defaults that could
# take money: an empty token or application id, or an environment other than "sandbox" or
# "production", stops start-up (system check ordering.E001), with DEBUG on too; with DEBUG off the
# webhook's signature key and exact notification URL are required as well.
SQUARE_ACCESS_TOKEN = env.str("SQUARE_ACCESS_TOKEN", default="")
SQUARE_APPLICATION_ID = env.str("SQUARE_APPLICATION_ID", default="")
SQUARE_ENVIRONMENT = env.str("SQUARE_ENVIRONMENT", default="")
SQUARE_WEBHOOK_SIGNATURE_KEY = env.str("SQUARE_WEBHOOK_SIGNATURE_KEY", default="")
SQUARE_WEBHOOK_URL = env.str("SQUARE_WEBHOOK_URL", default="")
# Tests only: the address of the local stub of Square's API. Empty: the environment's own address.
SQUARE_BASE_URL = env.str("SQUARE_BASE_URL", default="")
# Seconds to wait for each answer of Square's API, and the first pause before a retry (doubled each
# time) after a time-out, a 5xx or a 429; the same idempotency key is sent again.
SQUARE_TIMEOUT = env.float("SQUARE_TIMEOUT", default=10.0)
SQUARE_RETRY_DELAY = env.float("SQUARE_RETRY_DELAY", default=0.5)
# Card payments online (ordering/payments/): "square" takes real money (sandbox money with
# SQUARE_ENVIRONMENT=sandbox); "simulator" is offline and takes no real money, so with DEBUG off it
# is a start-up error unless PAYMENT_SIMULATOR_ALLOWED (a demonstration server); "none" takes no card
# payment online. Unset: the simulator with DEBUG on, none with DEBUG off; never Square by default.
PAYMENT_PROVIDER = env.str("PAYMENT_PROVIDER", default="") or ("simulator" if DEBUG else "none")
PAYMENT_SIMULATOR_ALLOWED = env.bool("PAYMENT_SIMULATOR_ALLOWED", default=False)
# Minutes a customer has to pay an order online before it expires and its stock is released.
ORDER_PAYMENT_MINUTES = env.int("ORDER_PAYMENT_MINUTES", default=15)

# --- Content-Security-Policy (django-csp 4, ocpizza/csp.py) ----------------------------------------
# Storefront: our own files only; an inline <script>/<style> needs the request's nonce
# ({{ request.csp_nonce }}); style="" attributes are never allowed. Square's Web Payments SDK gets
# its origins from the Square settings (below); other integrations (Google Maps) add theirs through
# CSP_EXTRA_*: never by loosening the policy.
# The Wagtail admin gets its own allowances under /admin/; docs/security.md explains each one.
csp_extra = {
    directive: env.list(f"CSP_EXTRA_{directive.upper().replace('-', '_')}", default=[])
    for directive in ("script-src", "connect-src", "frame-src", "img-src")
}
# Wagtail's userbar (shown to editors on the storefront) loads its script and CSS from the origin of
# WAGTAILADMIN_BASE_URL, which may not be the host name the editor browses (www. or not).
wagtail_url = urlsplit(WAGTAILADMIN_BASE_URL)
wagtail_origins = [f"{wagtail_url.scheme}://{wagtail_url.netloc}"] if wagtail_url.netloc else []
# Square's Web Payments SDK (card form on the checkout and pay pages) when PAYMENT_PROVIDER=square,
# from the environment's origins only: its script; its card-field frames, styles, images and fonts;
# tokenisation (pci-connect) and the SDK's error reports; 3-D Secure challenges framed from Square's
# API origin. Square documents these in "Content Security Policy" of the Web Payments SDK guide.
SQUARE_CSP_ORIGINS = {
    "sandbox": {
        "sdk": "https://sandbox.web.squarecdn.com",
        "pci": "https://pci-connect.squareupsandbox.com",
        "api": "https://connect.squareupsandbox.com",
    },
    "production": {
        "sdk": "https://web.squarecdn.com",
        "pci": "https://pci-connect.squareup.com",
        "api": "https://connect.squareup.com",
    },
}
square_origins = SQUARE_CSP_ORIGINS.get(SQUARE_ENVIRONMENT) if PAYMENT_PROVIDER == "square" else None
square_csp = (
    {
        "script-src": [square_origins["sdk"]],
        "style-src": [square_origins["sdk"]],
        "img-src": [square_origins["sdk"]],
        "font-src": [
            "https://square-fonts-production-f.squarecdn.com",
            "https://d1g145x70srn7h.cloudfront.net",
        ],
        "connect-src": [
            square_origins["sdk"],
            square_origins["pci"],
            square_origins["api"],
            "https://o160250.ingest.sentry.io",
        ],
        "frame-src": [square_origins["sdk"], square_origins["api"]],
    }
    if square_origins
    else {}
)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [
            SELF,
            NONCE,
            *wagtail_origins,
            *csp_extra["script-src"],
            *square_csp.get("script-src", []),
        ],
        "style-src": [SELF, NONCE, *wagtail_origins, *square_csp.get("style-src", [])],
        "img-src": [SELF, *csp_extra["img-src"], *square_csp.get("img-src", [])],
        "font-src": [SELF, *square_csp.get("font-src", [])],
        "connect-src": [SELF, *csp_extra["connect-src"], *square_csp.get("connect-src", [])],
        "frame-src": [SELF, *csp_extra["frame-src"], *square_csp.get("frame-src", [])],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "report-uri": env.str("CSP_REPORT_URI", default="") or None,
    }
}
CONTENT_SECURITY_POLICY_ADMIN = {
    "DIRECTIVES": {
        **CONTENT_SECURITY_POLICY["DIRECTIVES"],
        # Wagtail's templates carry inline <script> blocks (inline panels, choosers) and its
        # bundled libraries insert <style> elements. A nonce would switch 'unsafe-inline' off.
        "script-src": [SELF, UNSAFE_INLINE, *wagtail_origins, *csp_extra["script-src"]],
        "style-src": [SELF, UNSAFE_INLINE, *wagtail_origins],
        # Thumbnails of the images picked for a multiple upload are blob: URLs made in the browser.
        "img-src": [SELF, "blob:", *csp_extra["img-src"]],
        # No card form in the admin: none of Square's origins.
        "font-src": [SELF],
        "connect-src": [SELF, *csp_extra["connect-src"]],
        "frame-src": [SELF, *csp_extra["frame-src"]],
        # The editor's live preview shows the page in a frame of the admin itself.
        "frame-ancestors": [SELF],
    }
}
# Previews render the storefront page for the editor; the admin shows them in a frame.
CONTENT_SECURITY_POLICY_PREVIEW = {
    "DIRECTIVES": {**CONTENT_SECURITY_POLICY["DIRECTIVES"], "frame-ancestors": [SELF]},
}
# --- end of Content-Security-Policy ---------------------------------------------------------------

# --- Login protection and rate limits (accounts/security.py, docs/exploitation.md) ----------------
# django-axes counts failed logins in the database and locks an account, and separately an address,
# after LOGIN_FAILURE_LIMIT failures within LOGIN_COOLOFF_MINUTES. It works in the authentication
# backend, so every form that calls `authenticate(request, ...)` is covered: the Wagtail admin, the
# customer login, and any later one (django-allauth) without per-view code.
INSTALLED_APPS += ["axes"]
MIDDLEWARE += ["axes.middleware.AxesMiddleware"]  # last: turns a flagged request into the lockout page
AUTHENTICATION_BACKENDS = [
    "accounts.backends.LoginLockoutBackend",
    # Also django-allauth's: it calls authenticate(request, email=..., password=...), and the user
    # model's USERNAME_FIELD is the e-mail (looked up case-insensitively), so ModelBackend answers.
    # allauth's own backend would only add a second password check to every failed attempt.
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
# Either one locks: an account under attack from many addresses, an address trying many accounts.
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
# A success must not wipe failures: an attacker would log into their own account between guesses.
AXES_RESET_ON_SUCCESS = False
AXES_USERNAME_CALLABLE = "accounts.security.login_identifier"  # e-mail, lower-cased: one account
AXES_CLIENT_IP_CALLABLE = "accounts.security.client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.security.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429  # Too Many Requests: the page says when to retry (Retry-After too)
AXES_ENABLE_ACCESS_FAILURE_LOG = True  # one row per failure, kept for the admin screen
AXES_ENABLE_ADMIN = False  # no Django admin here; the Wagtail screen replaces it
# Behind Nginx (Gunicorn listens on a Unix socket only Nginx reaches) the client's address is the
# X-Real-IP header Nginx overwrites with $remote_addr. Without the proxy (development) the header
# would be the client's own word, so only REMOTE_ADDR counts.
BEHIND_REVERSE_PROXY = env.bool("BEHIND_REVERSE_PROXY", default=not DEBUG)
# Password reset and sign-up: requests per hour, per address and per e-mail (cache counters).
PASSWORD_RESET_LIMIT_PER_HOUR = env.int("PASSWORD_RESET_LIMIT_PER_HOUR", default=5)
SIGNUP_LIMIT_PER_HOUR = env.int("SIGNUP_LIMIT_PER_HOUR", default=5)
# E-mail changes asked (each sends a confirmation mail), per hour, per address and per account.
EMAIL_CHANGE_LIMIT_PER_HOUR = env.int("EMAIL_CHANGE_LIMIT_PER_HOUR", default=5)
# --- end of login protection ----------------------------------------------------------------------

# --- Google Maps in the browser (stores/locator.py, docs/maps.md) -----------------------------------
# The map of the store locator and store pages (Maps JavaScript API): a *browser* key, public by
# nature, restricted by HTTP referrer to our sites (docs/maps.md); never GOOGLEAPIKEY. Empty: no
# map, links that open Google Maps instead. Only the pages that show a map (stores.models.
# MapPageMixin) add these origins to the storefront's policy, as Google's CSP guide lists them;
# CSP_EXTRA_* still adds to every page.
GOOGLE_MAPS_BROWSER_KEY = env.str("GOOGLE_MAPS_BROWSER_KEY", default="")
GOOGLE_MAPS_SCRIPT_URL = "https://maps.googleapis.com/maps/api/js"
GOOGLE_MAPS_CSP = {
    "script-src": ["https://maps.googleapis.com", "https://*.googleapis.com", "https://*.gstatic.com"],
    "img-src": [
        "https://*.googleapis.com",
        "https://*.gstatic.com",
        "https://*.google.com",
        "https://*.googleusercontent.com",
        "data:",
    ],
    "connect-src": [
        "https://*.googleapis.com",
        "https://*.google.com",
        "https://*.gstatic.com",
        "data:",
        "blob:",
    ],
    "style-src": ["https://fonts.googleapis.com"],
    "font-src": ["https://fonts.gstatic.com"],
    "frame-src": ["https://*.google.com"],
    "worker-src": ["blob:"],
}
# --- end of Google Maps in the browser ------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "{asctime} {levelname} {name}: {message}", "style": "{"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # Wagtail's actions are audited in its own log table; keep the console for what matters.
        "wagtail": {"level": "WARNING"},
        "django_tasks": {"level": "WARNING"},
        # Failed logins and lockouts (accounts.security logs each lockout at WARNING).
        "axes": {"level": "WARNING"},
    },
}

# Sentry starts only when a DSN is given: no DSN, no network call.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        integrations=[DjangoIntegration()],
        environment=env.str("SENTRY_ENVIRONMENT", default="production"),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
        send_default_pii=False,
    )
