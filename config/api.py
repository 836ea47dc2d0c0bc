"""The versioned JSON API: one NinjaAPI, one router per app (API.md)."""

from patolab.accounts.api import router as auth_router
from patolab.core.api import build_api
from patolab.jobs.api import router as jobs_router

api = build_api(
    title="Patolab API",
    version="1",
    description="API de Patolab: protocolos, informes, órdenes de trabajo y trabajos.",
)
api.add_router("/auth", auth_router)
api.add_router("/jobs", jobs_router)
