from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET


@require_GET
@cache_control(max_age=86400, public=True)
def robots_txt(request):
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /compte/",
        "Disallow: /panier/",
        "Disallow: /commandes/",
        f"Sitemap: {request.build_absolute_uri('/sitemap.xml')}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


@login_required
def sentry_debug(request):
    """Raises on purpose so an operator can check that errors reach Sentry (superusers only)."""
    if not request.user.is_superuser:
        raise PermissionDenied
    raise ZeroDivisionError("Sentry check: this error was raised on purpose from /sentry-debug/.")


@require_GET
def favicon(request):
    return HttpResponsePermanentRedirect(static("img/favicon.ico"))
