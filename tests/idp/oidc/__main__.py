"""Django's command line with the provider's settings: no manage.py needed."""

import os
import sys

from django.core.management import execute_from_command_line

os.environ["DJANGO_SETTINGS_MODULE"] = "tests.idp.oidc.settings"
execute_from_command_line(sys.argv)
