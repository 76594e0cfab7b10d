"""The site's URLs plus the survey pages, as helpdesk/urls.py will route them
once the include is added there (path("survey/", include(...)))."""

from django.urls import include, path

from helpdesk.urls import urlpatterns as site_urlpatterns

urlpatterns = [
    *site_urlpatterns,
    path("survey/", include("analytics.surveys.urls")),
]
