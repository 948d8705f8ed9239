"""`fullfolj api token USERNAME [--name NAME]`: a new API token for a staff member, shown once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fullfolj.api.models import ApiToken
from fullfolj.schools.models import Staff


class Command(BaseCommand):
    help = "Manage the REST API's tokens."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        token = actions.add_parser("token", help="issue a token for a staff member")
        token.add_argument("username", help="the staff member's username")
        token.add_argument("--name", default="", help="what the token is for")

    def handle(self, *args: Any, **options: Any) -> None:
        staff = Staff.objects.filter(username=options["username"]).select_related("user").first()
        if staff is None:
            raise CommandError(f"No staff member with username “{options['username']}”.")
        if staff.user is None or not staff.user.is_active:
            raise CommandError(
                f"{staff.username} has no active login; a token acts as that login, so link "
                "one first."
            )
        _token, key = ApiToken.issue(staff, options["name"])
        self.stderr.write(f"Token for {staff.username} (copy it now; it is not shown again):")
        self.stdout.write(key)
