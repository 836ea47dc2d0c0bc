from django.urls import path

from . import views

app_name = "exports"
urlpatterns = [
    path("nueva/", views.export_start, name="start"),
    path("<uuid:pk>/descargar/", views.export_download, name="download"),
]
