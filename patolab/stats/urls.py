from django.urls import path

from . import views

app_name = "stats"
urlpatterns = [
    path("", views.statistics_page, name="page"),
    path("recalcular/", views.statistics_recompute, name="recompute"),
]
