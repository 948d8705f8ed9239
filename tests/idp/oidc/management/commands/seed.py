"""Set up a fresh provider in one process (startup is most of the tests' wait): migrate its
database, make its signing key (`creatersakey`), register Fullfölj as a client and create the
provider's people, from a JSON file:
{"client": {"id", "secret", "redirect_uri", "post_logout_redirect_uri"},
 "people": [{"username", "password", "email", "employee_number", "second_factor"}]}."""

import json
from typing import Any

from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.core.management.base import BaseCommand
from oidc_provider.models import Client, ResponseType

from tests.idp.oidc.claims import SECOND_FACTOR_GROUP
from tests.idp.oidc.models import Employee


class Command(BaseCommand):
    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("path")

    def handle(self, *args: Any, path: str, **options: Any) -> None:
        with open(path) as file:
            seed = json.load(file)
        call_command("migrate", run_syncdb=True, verbosity=0)
        call_command("creatersakey")
        code, _ = ResponseType.objects.get_or_create(
            value="code", defaults={"description": "code (Authorization Code Flow)"}
        )
        client = Client.objects.create(
            name="Fullfölj",
            client_type="confidential",
            client_id=seed["client"]["id"],
            client_secret=seed["client"]["secret"],
            jwt_alg="RS256",
            redirect_uris=[seed["client"]["redirect_uri"]],
            post_logout_redirect_uris=[seed["client"]["post_logout_redirect_uri"]],
            scope=["openid", "email", "employee"],
            require_consent=True,
            reuse_consent=False,
        )
        client.response_types.add(code)
        group, _ = Group.objects.get_or_create(name=SECOND_FACTOR_GROUP)
        for person in seed["people"]:
            user = User.objects.create_user(
                person["username"], email=person["email"], password=person["password"]
            )
            Employee.objects.create(user=user, number=person["employee_number"])
            if person.get("second_factor"):
                user.groups.add(group)
        self.stdout.write(f"seeded {len(seed['people'])} people")
