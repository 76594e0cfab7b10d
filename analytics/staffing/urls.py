"""Routes of the staffing view, mounted at /analytics/staffing/ by
helpdesk/urls.py; its API is analytics/staffing/api_urls.py (under /api/v1/,
before the general /api/ include, whose catch-all would answer it)."""

from django.urls import path

from analytics.staffing import views

app_name = "staffing"

urlpatterns = [
    path("", views.staffing_page, name="page"),
    path("staffing.csv", views.staffing_csv, name="csv"),
]
