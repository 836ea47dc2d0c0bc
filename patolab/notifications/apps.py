from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "patolab.notifications"
    label = "notifications"
