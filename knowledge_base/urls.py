"""Routes of the help centre and of the knowledge-base editor, mounted at
/help/ by helpdesk/urls.py (namespace `kb`). The knowledge-base API is mounted
separately, under /api/v1/kb/."""

from django.urls import path  # noqa: F401  (used by the routes below)

app_name = "kb"

urlpatterns: list = []
