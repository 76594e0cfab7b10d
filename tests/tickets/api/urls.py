"""The site's URLs with the API mounted at /api/, for tests marked
@pytest.mark.urls("tests.tickets.api.urls"). Once helpdesk/urls.py mounts the API
itself, this adds nothing and the tests exercise the real wiring."""

from django.urls import include, path

from helpdesk.urls import urlpatterns as site_urlpatterns

_site_mounts_api = any(getattr(p, "namespace", None) == "api" for p in site_urlpatterns)

urlpatterns = [
    *([] if _site_mounts_api else [path("api/", include("tickets.api.urls"))]),
    *site_urlpatterns,
]
