from django.urls import path

from tickets import views

app_name = "tickets"

urlpatterns = [
    path("", views.home, name="home"),
    path("tickets/", views.ticket_list, name="list"),
    path("tickets/new/", views.ticket_new, name="new"),
    path("tickets/<str:key>/", views.ticket_detail, name="detail"),
    path("tickets/<str:key>/reply/", views.ticket_reply, name="reply"),
    path("tickets/<str:key>/status/", views.ticket_status, name="status"),
    path("tickets/<str:key>/assign/", views.ticket_assign, name="assign"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment"),
]
