from django.contrib import admin
from django.urls import include, path

from tickets import auth_views, email_views

urlpatterns = [
    path("", include("tickets.urls")),
    path("", include("escalation.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("tickets.api.urls")),
    # Inbound mail services POST raw RFC 822 messages here (token-authenticated).
    path("inbound/email/", email_views.inbound_email, name="inbound_email"),
]
