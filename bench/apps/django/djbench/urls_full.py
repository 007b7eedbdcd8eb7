from django.contrib.auth import views as auth_views
from django.urls import path
from notes import views

urlpatterns = [
    path("json", views.json_message),
    path("me", views.me),
    path("notes/new", views.new_note),
    path("accounts/login/", auth_views.LoginView.as_view()),
]
