from django.conf import settings
from django.db import models


class Employee(models.Model):
    """A provider's user's employee number, as a municipality's directory holds it."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    number = models.CharField(max_length=20)
