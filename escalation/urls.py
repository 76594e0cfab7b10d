from django.urls import path

from escalation import views

app_name = "escalation"

urlpatterns = [
    path("tickets/<str:key>/escalate/", views.escalate, name="escalate"),
    path("tickets/<str:key>/reply-all/", views.reply_all, name="reply_all"),
]
