"""The Celery application. Tasks are autodiscovered from every installed app."""

import os

from celery import Celery

from patolab.core import broker

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# The embedded `sqla+` broker uses our faster channel (see patolab/core/broker.py).
broker.install()

app = Celery("patolab")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
