"""Routes of the REST API, mounted at /api/ by helpdesk/urls.py.

Versioned in the path (/api/v1/...) so a v2 can live beside v1; the schema and
its docs describe whatever versions are mounted."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from tickets.api import views

app_name = "api"

urlpatterns = [
    path("v1/tickets/", views.TicketListCreateApi.as_view(), name="tickets"),
    path("v1/tickets/<str:key>/", views.TicketDetailApi.as_view(), name="ticket"),
    path(
        "v1/tickets/<str:key>/messages/",
        views.TicketMessagesApi.as_view(),
        name="ticket-messages",
    ),
    path("v1/attachments/<int:pk>/", views.AttachmentDownloadApi.as_view(), name="attachment"),
    path("v1/categories/", views.CategoryListApi.as_view(), name="categories"),
    path("v1/teams/", views.TeamListApi.as_view(), name="teams"),
    path("v1/agents/", views.AgentListApi.as_view(), name="agents"),
    # OpenAPI 3: YAML by default, JSON with ?format=json or Accept.
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI from drf_spectacular_sidecar's static files
    # (SPECTACULAR_SETTINGS["SWAGGER_UI_DIST"] = "SIDECAR"): no CDN at run time.
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    # Last: any other URL under /api/ (/api/v1/attachments/null/, /api/v2/...)
    # is the API's JSON 404, not the site's HTML page.
    re_path(r"", views.NotFoundApi.as_view(), name="not-found"),
]
