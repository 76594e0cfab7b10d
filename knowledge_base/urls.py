"""Routes of the help centre and of the knowledge-base editor, mounted at
/help/ by helpdesk/urls.py (namespace `kb`). The knowledge-base API is mounted
separately, under /api/v1/kb/."""

from django.urls import path

from knowledge_base.views import public

app_name = "kb"

urlpatterns = [
    # The public help centre (knowledge_base/views/public.py).
    path("", public.home, name="home"),
    path("categories/<slug:slug>/", public.category, name="category"),
    path("categories/<slug:category>/<slug:slug>/", public.section, name="section"),
    path("articles/<slug:slug>/", public.article, name="article"),
    path("articles/<slug:slug>/feedback/", public.feedback, name="feedback"),
]
