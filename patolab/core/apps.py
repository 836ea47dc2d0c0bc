from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "patolab.core"
    verbose_name = _("Núcleo")
    label = "core"

    def ready(self) -> None:
        from django.db import connections

        from .search import install_sqlite_unaccent, register_unaccent

        register_unaccent()
        connection_created.connect(install_sqlite_unaccent)
        # Connections opened before this ran (rare) get the function too.
        for conn in connections.all(initialized_only=True):
            install_sqlite_unaccent(sender=None, connection=conn)
