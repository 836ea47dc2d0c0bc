from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "patolab.accounts"
    label = "accounts"
