from django.urls import path

from tickets import views, workspace_views

app_name = "tickets"

urlpatterns = [
    path("", views.home, name="home"),
    path("tickets/", views.ticket_list, name="list"),
    path("tickets/new/", views.ticket_new, name="new"),
    path("tickets/new/suggestions/", views.ticket_suggestions, name="suggestions"),
    path("tickets/new/answered/", views.ticket_deflected, name="deflected"),
    path("search/", views.ticket_search, name="search"),
    path("tickets/bulk/", workspace_views.bulk_action, name="bulk"),
    path("views/", workspace_views.saved_view_create, name="view_create"),
    path("views/<int:pk>/delete/", workspace_views.saved_view_delete, name="view_delete"),
    path("tickets/<str:key>/", views.ticket_detail, name="detail"),
    path("tickets/<str:key>/reply/", views.ticket_reply, name="reply"),
    path("tickets/<str:key>/status/", views.ticket_status, name="status"),
    path("tickets/<str:key>/assign/", views.ticket_assign, name="assign"),
    path("tickets/<str:key>/properties/", workspace_views.ticket_properties, name="properties"),
    path("tickets/<str:key>/link/", workspace_views.ticket_link, name="link"),
    path("tickets/<str:key>/merge/", workspace_views.ticket_merge, name="merge"),
    path("tickets/<str:key>/presence/", workspace_views.ticket_presence, name="presence"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment"),
]
