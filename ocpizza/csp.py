"""Content-Security-Policy: a strict policy for the storefront, Wagtail's needs only in its admin.

django-csp writes `settings.CONTENT_SECURITY_POLICY` on every response (error pages included).
Two kinds of responses get another policy, chosen here:
- the Wagtail admin's own pages (paths under /admin/), which still ship inline scripts and style
  attributes: `settings.CONTENT_SECURITY_POLICY_ADMIN`;
- previews: Wagtail renders the storefront page for the editor through a simulated request
  (`request.is_dummy`) whose response the admin shows in a frame:
  `settings.CONTENT_SECURITY_POLICY_PREVIEW`, the storefront's policy framed by the admin.
docs/security.md explains each allowance. A view decorated with django-csp's own decorators
(`@csp`, `@csp_update`, `@csp_replace`) keeps what the decorator asked for.
"""

from csp.middleware import CSPMiddleware, PolicyParts
from csp.utils import default_config
from django.conf import settings
from django.urls import reverse


def admin_prefix():
    return reverse("wagtailadmin_home")


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware choosing the admin's or the preview's policy where they apply."""

    def get_policy_parts(self, request, response, report_only=False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if report_only or parts.config is not None:
            return parts
        if getattr(request, "is_dummy", False):
            parts.config = default_config(settings.CONTENT_SECURITY_POLICY_PREVIEW["DIRECTIVES"])
        elif request.path_info.startswith(admin_prefix()):
            parts.config = default_config(settings.CONTENT_SECURITY_POLICY_ADMIN["DIRECTIVES"])
        return parts
