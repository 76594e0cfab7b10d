from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from tickets import auth_views, email_views

# The admin's log-in form counts failures like ours (tickets/auth_views.py).
admin.site.login_form = auth_views.AdminEmailAuthenticationForm

urlpatterns = [
    path("", include("tickets.urls")),
    path("", include("escalation.urls")),
    # The help centre (public articles need no log-in) and the article editor.
    path("help/", include("knowledge_base.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path(
        "accounts/password_reset/",
        auth_views.PasswordResetView.as_view(),
        name="password_reset",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    # Before admin.site.urls, so it answers /admin/login/ (429 when refused).
    path("admin/login/", auth_views.admin_login),
    path("admin/", admin.site.urls),
    # Browsers ask for /favicon.ico on pages that link none (the admin's).
    path(
        "favicon.ico",
        RedirectView.as_view(url=static("helpdesk/favicon.ico"), permanent=False),
    ),
    # Managers' (and agents' own) dashboard: page and CSV export.
    path("analytics/dashboard/", include("analytics.dashboard.urls")),
    # Staffing: the forecast of tickets per hour and the agents it needs.
    path("analytics/staffing/", include("analytics.staffing.urls")),
    # The knowledge base's and the dashboard's APIs, before /api/ (whose
    # catch-all would answer them).
    path("api/v1/kb/", include("knowledge_base.api.urls")),
    path("api/v1/analytics/dashboard/", include("analytics.dashboard.api_urls")),
    path("api/v1/analytics/staffing/", include("analytics.staffing.api_urls")),
    path("api/", include("tickets.api.urls")),
    # CSAT and NPS surveys: signed links from e-mails (no log-in), the portal's
    # form, managers' follow-up list.
    path("survey/", include("analytics.surveys.urls")),
    # Inbound mail services POST raw RFC 822 messages here (token-authenticated).
    path("inbound/email/", email_views.inbound_email, name="inbound_email"),
]
