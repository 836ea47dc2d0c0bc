from importlib import import_module

from django.apps import AppConfig, apps
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class JobsConfig(AppConfig):
    name = "patolab.jobs"
    verbose_name = _("Trabajos en segundo plano")
    label = "jobs"

    def ready(self) -> None:
        # Register every app's job kinds, so the web process (which starts jobs)
        # and the worker (which runs them) agree on kinds and queues.
        for config in apps.get_app_configs():
            if config.name.startswith("patolab."):
                try:
                    import_module(f"{config.name}.jobs")
                except ModuleNotFoundError as exc:
                    if exc.name != f"{config.name}.jobs":
                        raise
        for module in settings.JOBS_EXTRA_MODULES:
            import_module(module)
        from patolab.core.documents import connect_jobs

        from . import presence
        from .services import DocumentJobs

        presence.connect_signals()
        connect_jobs(DocumentJobs())
