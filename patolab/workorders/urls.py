from django.urls import path

from . import views

app_name = "workorders"
urlpatterns = [
    path("", views.workorder_list, name="list"),
    path("nueva/", views.workorder_create_view, name="create"),
    path("<int:pk>/", views.workorder_detail, name="detail"),
    path("<int:pk>/editar/", views.workorder_edit, name="edit"),
    path("<int:pk>/pdf/", views.workorder_pdf, name="pdf"),
    path("<int:pk>/emitir/", views.workorder_issue_view, name="issue"),
    path("<int:pk>/enviada/", views.workorder_sent_view, name="sent"),
    path("<int:pk>/pago/", views.workorder_payment_view, name="payment"),
]
