"""The site's URLs plus the dashboard's, as helpdesk/urls.py will mount them
(the API before the general /api/ include, whose catch-all would answer)."""

from django.urls import include, path

from helpdesk.urls import urlpatterns as base

urlpatterns = [
    path("analytics/dashboard/", include("analytics.dashboard.urls")),
    path("api/v1/analytics/dashboard/", include("analytics.dashboard.api_urls")),
    *base,
]
