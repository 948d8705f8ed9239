from django.apps import AppConfig


class BankConfig(AppConfig):
    name = "fullfolj.bank"
    verbose_name = "Resursbank"
