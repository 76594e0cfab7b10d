"""The Content-Security-Policy header (settings.CONTENT_SECURITY_POLICY).

django-csp's middleware sends one policy for every response. Our own pages
need no inline script or style; the few third-party pages listed in
settings.HELPDESK_CSP_INLINE_PATHS (the API docs: drf-spectacular renders
Swagger UI's start-up script and styles inline) get the same policy with inline
script and style allowed, so they still work and still may not be framed.
"""

from csp.middleware import CSPMiddleware as _CSPMiddleware
from csp.middleware import PolicyParts
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

_INLINE = "'unsafe-inline'"


class CSPMiddleware(_CSPMiddleware):
    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if request.path_info.startswith(tuple(settings.HELPDESK_CSP_INLINE_PATHS)):
            update = dict(parts.update or {})
            for directive in ("script-src", "style-src"):
                update[directive] = [*update.get(directive, []), _INLINE]
            parts.update = update
        return parts
