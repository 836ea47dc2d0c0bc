"""The versioned JSON API: one NinjaAPI, one router per app (API.md)."""

from patolab.accounts.api import router as auth_router
from patolab.core.api import build_api
from patolab.exports.api import router as exports_router
from patolab.jobs.api import router as jobs_router
from patolab.labels.api import router as labels_router
from patolab.notifications.api import router as notifications_router
from patolab.protocols.api import router as protocols_router
from patolab.reports.api import router as reports_router
from patolab.stats.api import router as stats_router
from patolab.workorders.api import router as workorders_router

api = build_api(
    title="Patolab API",
    version="1",
    description="API de Patolab: protocolos, informes, órdenes de trabajo y trabajos.",
)
api.add_router("/auth", auth_router)
api.add_router("/jobs", jobs_router)
# Each app's router owns the paths of its API.md section; the prefix is "" so
# that paths such as /labels, /verify/{uuid}, /pricing or /emails stay exact.
api.add_router("", protocols_router)
api.add_router("", labels_router)
api.add_router("", reports_router)
api.add_router("", workorders_router)
api.add_router("", notifications_router)
api.add_router("", stats_router)
api.add_router("", exports_router)

# Answers other than a plain 200 JSON, for the OpenAPI document (error answers are
# added to every operation by PatolabApi).
_V1 = "/api/v1"
_PDF = {
    "200": "El PDF vigente (application/pdf; ETag = SHA-256).",
    "202": 'Se está generando: `{"job": ...}` con Retry-After.',
    "304": "Sin cambios (If-None-Match).",
}
_JOB = {"202": "Trabajo en segundo plano: el objeto job, Location apunta a él."}
api.success_statuses = {
    ("post", f"{_V1}/protocols"): {"201": "Protocolo creado."},
    ("post", f"{_V1}/reports"): {"201": "Informe creado."},
    ("post", f"{_V1}/workorders"): {"201": "Orden de trabajo creada."},
    ("post", f"{_V1}/protocols/bulk-status"): _JOB,
    ("post", f"{_V1}/labels"): _JOB,
    ("post", f"{_V1}/reports/regenerate"): _JOB,
    ("post", f"{_V1}/reports/{{report_id}}/finalize"): _JOB,
    ("post", f"{_V1}/notifications/bulk"): _JOB,
    ("post", f"{_V1}/jobs/{{job_id}}/retry"): _JOB,
    ("post", f"{_V1}/exports"): _JOB,
    ("get", f"{_V1}/protocols/{{protocol_id}}/label.pdf"): _PDF,
    ("get", f"{_V1}/reports/{{report_id}}/pdf"): _PDF,
    ("get", f"{_V1}/workorders/{{workorder_id}}/pdf"): _PDF,
    ("get", f"{_V1}/exports/{{export_id}}/file"): {
        "200": "El archivo exportado (CSV o XLSX)."
    },
}
