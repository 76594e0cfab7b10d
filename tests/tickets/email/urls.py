"""The project's URLs plus the inbound-mail endpoint, for
tests/tickets/email/test_inbound_endpoint.py until helpdesk/urls.py routes it."""

from django.urls import include, path

from tickets import email_views

urlpatterns = [
    path("inbound/email/", email_views.inbound_email, name="inbound_email"),
    path("", include("helpdesk.urls")),
]
