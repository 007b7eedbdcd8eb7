from django.urls import path
from worlds import views

urlpatterns = [
    path("db", views.single_query),
    path("queries", views.multiple_queries),
    path("fortunes", views.fortunes),
    path("updates", views.updates),
]
