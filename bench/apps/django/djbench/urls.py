from django.urls import path

from djbench import views

urlpatterns = [
    path("plaintext", views.plaintext),
    path("json", views.json_message),
    path("items/<str:id>", views.read_item),
    path("items", views.create_item),
]
