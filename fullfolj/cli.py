"""The `fullfolj` command: django-admin with Fullfölj's settings preset."""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fullfolj.settings")
    if sys.argv[1:2] == ["demo"]:
        # The demo runs without a SECRET_KEY of its own; its worker inherits the environment.
        os.environ.setdefault("FULLFOLJ_DEMO", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
