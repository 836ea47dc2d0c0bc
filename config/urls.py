from django.contrib import admin
from django.urls import include, path, re_path

from patolab.core.health import up
from patolab.reports.views import verify as report_verify

from .api import api

admin.site.site_header = "Patolab · Administración"
admin.site.site_title = "Patolab"
# Django's "delete selected" deletes in the request, row by row, and would
# bypass the per-object rules (numbered protocols, finalized reports, issued
# work orders and history are never deleted): single deletes only, where allowed.
admin.site.disable_action("delete_selected")

urlpatterns = [
    # First: the API is the hot path, and every pattern tried before the match
    # costs each request (the empty-prefix include below tries all of its own).
    path("api/v1/", api.urls),
    path("", include("patolab.core.urls")),
    path("up", up, name="up"),
    # Any code, even a malformed one, reaches the view: it answers with the
    # Spanish "no report with that code" page instead of a resolver 404.
    re_path(r"^verify/(?P<verification_id>[^/]*)/$", report_verify, name="verify"),
    path("cuentas/", include("patolab.accounts.urls")),
    path("trabajos/", include("patolab.jobs.urls")),
    path("protocolos/", include("patolab.protocols.urls")),
    path("etiquetas/", include("patolab.labels.urls")),
    path("informes/", include("patolab.reports.urls")),
    path("ordenes/", include("patolab.workorders.urls")),
    path("notificaciones/", include("patolab.notifications.urls")),
    path("estadisticas/", include("patolab.stats.urls")),
    path("exportaciones/", include("patolab.exports.urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
]
