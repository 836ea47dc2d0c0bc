from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("", views.work_queue, name="queue"),
    path("lista/", views.report_list, name="list"),
    path("protocolo/<int:protocol_pk>/nuevo/", views.report_new, name="create"),
    path(
        "protocolo/<int:protocol_pk>/asignar/",
        views.case_assign_view,
        name="assign",
    ),
    path("<int:pk>/", views.report_detail, name="detail"),
    path("<int:pk>/editar/", views.report_edit, name="edit"),
    path(
        "<int:pk>/finalizacion/<uuid:job_id>/",
        views.report_finalizing,
        name="finalizing",
    ),
    path("<int:pk>/finalizar/", views.report_finalize_view, name="finalize"),
    path("<int:pk>/pdf/", views.report_pdf, name="pdf"),
    path("<int:pk>/enmendar/", views.report_amend_view, name="amend"),
]
