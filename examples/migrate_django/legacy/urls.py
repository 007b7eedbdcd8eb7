from __future__ import annotations

from django.urls import path

from examples.migrate_django.legacy import views

urlpatterns = [
    path("", views.index, name="index"),
    path("notes/new/", views.note_new, name="note-new"),
    path("notes/<int:note_id>/", views.note_detail, name="note-detail"),
    path("notes/<int:note_id>/attachment/", views.note_attachment, name="note-attachment"),
    path("notes/export.csv", views.export, name="export"),
    path("login/", views.sign_in, name="login"),
    path("logout/", views.sign_out, name="logout"),
    path("whoami/", views.whoami, name="whoami"),
]
