"""Survey pages (include under "survey/" with the "surveys" namespace)."""

from django.urls import path

from analytics.surveys import views

app_name = "surveys"

urlpatterns = [
    path("csat/<str:token>/", views.csat_answer, name="csat"),
    path("csat/<str:token>/rate/<int:rating>/", views.csat_rate, name="csat_rate"),
    path("nps/<str:token>/", views.nps_answer, name="nps"),
    path("nps/<str:token>/score/<int:score>/", views.nps_rate, name="nps_rate"),
    path("tickets/<str:key>/", views.csat_portal, name="portal"),
    path("tickets/<str:key>/panel/", views.ticket_panel, name="ticket_panel"),
    path("follow-up/", views.follow_up, name="follow_up"),
    path("follow-up/<int:pk>/done/", views.follow_up_done, name="follow_up_done"),
]
