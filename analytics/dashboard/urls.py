"""Routes of the manager dashboard, mounted at /analytics/dashboard/ by
helpdesk/urls.py; its API is analytics/dashboard/api_urls.py (under /api/v1/,
before the general /api/ include, whose catch-all would answer it)."""

from django.urls import path

from analytics.dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("", views.dashboard_page, name="page"),
    path("dashboard.csv", views.dashboard_csv, name="csv"),
]
