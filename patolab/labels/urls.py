from django.urls import path

from . import views

app_name = "labels"
urlpatterns = [
    path("", views.label_batch, name="batch"),
    path("protocolo/<int:pk>/", views.protocol_label_pdf, name="protocol-pdf"),
    path("lotes/<uuid:pk>/", views.label_batch_download, name="batch-download"),
]
