from django.urls import path

from . import views

app_name = "jobs"
urlpatterns = [
    path("", views.job_list, name="list"),
    path("monitor/", views.job_monitor, name="monitor"),
    path("admin/banner/", views.job_admin_banner, name="admin-banner"),
    path("<uuid:pk>/", views.job_detail, name="detail"),
    path("<uuid:pk>/retry/", views.job_retry_view, name="retry"),
    path(
        "documentos/<slug:kind>/<str:pk>/",
        views.document_status_view,
        name="document-status",
    ),
]
