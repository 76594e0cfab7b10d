"""The staffing API, mounted at /api/v1/analytics/staffing/ by helpdesk/urls.py
(before the general /api/ include)."""

from django.urls import path

from analytics.staffing.api import StaffingApi

app_name = "staffing_api"

urlpatterns = [
    path("", StaffingApi.as_view(), name="plan"),
]
