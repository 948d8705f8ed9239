from django.apps import AppConfig


class KasamConfig(AppConfig):
    name = "fullfolj.kasam"
    verbose_name = "KASAM"
