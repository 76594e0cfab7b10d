"""Routes of the knowledge-base API, mounted at /api/v1/kb/ by helpdesk/urls.py
(before the general /api/ include, so its own JSON 404 answers below it)."""

from django.urls import path, re_path

from knowledge_base.api import views
from tickets.api.views import NotFoundApi

app_name = "kb_api"

urlpatterns = [
    path("search/", views.SearchApi.as_view(), name="search"),
    path("articles/", views.ArticleListApi.as_view(), name="articles"),
    path("articles/<str:ref>/", views.ArticleDetailApi.as_view(), name="article"),
    path("categories/", views.CategoryListApi.as_view(), name="categories"),
    path("categories/<str:ref>/", views.CategoryDetailApi.as_view(), name="category"),
    # Any other URL under /api/v1/kb/ is the API's JSON 404, not the site's page.
    re_path(r"", NotFoundApi.as_view(), name="not-found"),
]
