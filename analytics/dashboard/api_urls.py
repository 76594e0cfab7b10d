"""The dashboard API, mounted at /api/v1/analytics/dashboard/ by
helpdesk/urls.py (before the general /api/ include)."""

from django.urls import path

from analytics.dashboard.api import DashboardApi

app_name = "dashboard_api"

urlpatterns = [
    path("", DashboardApi.as_view(), name="figures"),
]
