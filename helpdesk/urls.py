from django.contrib import admin
from django.urls import include, path

from tickets import auth_views

urlpatterns = [
    path("", include("tickets.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
]
