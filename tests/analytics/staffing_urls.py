"""The site's URLs plus the staffing view's, as helpdesk/urls.py will mount
them (the API before the general /api/ include, whose catch-all would answer)."""

from django.urls import include, path

from helpdesk.urls import urlpatterns as base

urlpatterns = [
    path("analytics/staffing/", include("analytics.staffing.urls")),
    path("api/v1/analytics/staffing/", include("analytics.staffing.api_urls")),
    *base,
]
