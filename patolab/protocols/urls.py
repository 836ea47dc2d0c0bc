from django.urls import path

from . import views

app_name = "protocols"
urlpatterns = [
    path("", views.protocol_list, name="protocol-list"),
    path(
        "nuevo/histopatologia/",
        views.protocol_create_histopathology,
        name="protocol-create-histopathology",
    ),
    path(
        "nuevo/citologia/",
        views.protocol_create_cytology,
        name="protocol-create-cytology",
    ),
    path("recepcion/", views.reception_search, name="reception"),
    path("recepcion/pendientes/", views.reception_pending, name="reception-pending"),
    path("recepcion/lote/", views.reception_batch, name="reception-batch"),
    path(
        "recepcion/historial/", views.reception_history_view, name="reception-history"
    ),
    path("<int:pk>/", views.protocol_detail, name="protocol-detail"),
    path("<int:pk>/editar/", views.protocol_edit, name="protocol-edit"),
    path("<int:pk>/comprobante/", views.protocol_slip_pdf, name="protocol-slip"),
    path("<int:pk>/enviar/", views.protocol_submit_view, name="protocol-submit"),
    path("<int:pk>/cancelar/", views.protocol_cancel_view, name="protocol-cancel"),
    path("<int:pk>/estado/", views.protocol_status_action, name="protocol-status"),
    path("<int:pk>/recibir/", views.protocol_receive_view, name="protocol-receive"),
    path("<int:pk>/rechazar/", views.protocol_reject_view, name="protocol-reject"),
]
