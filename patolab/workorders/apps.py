from django.apps import AppConfig


class WorkordersConfig(AppConfig):
    name = "patolab.workorders"
    label = "workorders"
