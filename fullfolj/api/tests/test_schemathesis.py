"""The API against its own schema: schemathesis generates requests to every operation from the
schema the app serves, and checks each answer against it (no server error, documented status
codes and bodies). Kept small, so it runs in seconds."""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import negative_data_rejection

from fullfolj.api.models import ApiToken
from fullfolj.exchange.models import FileImport

# A request the schema allows may still break a rule the schema cannot state (a period's end
# before its start, more absent minutes than the lesson has, a bad row in a file): such a
# request gets 400 naming the problem, so 400 counts as an answer to valid data too.
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "400", "401", "403", "404", "409"]
            }
        }
    }
)
# The schema is read from the app itself, as a client would (it needs no database).
schema = schemathesis.openapi.from_wsgi(
    "/api/schema/?format=json", get_wsgi_application(), config=CONFIG
)


@pytest.fixture(autouse=True)
def _one_connection():
    """The requests go through Django's WSGI handler, whose signals close the database
    connection after each request; that would end the test's transaction. Django's test client
    unhooks them the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def real(cast) -> dict[str, int]:
    """Ids of records the principal reaches, so the answers are not only "not found"."""
    from fullfolj.support.actions import open_case

    case, _new = open_case(cast.pupil, school=cast.north, responsible=cast.mentor, by=None)
    sent = FileImport.objects.create(
        organiser=cast.org,
        uploaded_at=timezone.now(),
        kind="pupils",
        name="elever.csv",
        data=b"",
        status=FileImport.Status.REFUSED,
        outcome={"problems": [[2, "Personnummer", "Kontrollsiffran stämmer inte."]]},
    )
    return {
        "import_id": sent.pk,
        "pupil_id": cast.pupil.pk,
        "school_id": cast.north.pk,
        "lesson_id": cast.lesson.pk,
        "case_id": case.pk,
    }


@schema.parametrize()
@settings(
    max_examples=4,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_keeps_to_its_schema(case, cast, real):
    # The import is the administration's; everything else the school's principal reaches.
    owner = cast.admin if "/imports/" in case.path else cast.principal
    headers = {"Authorization": f"Bearer {ApiToken.issue(owner)[1]}"}
    case.call_and_validate(headers=headers)  # ids as generated: mostly nobody's
    if case.path_parameters:
        # Again on real records. The ids (and the token) replaced may have been what made a
        # negative case invalid, so that one check belongs to the call above.
        case.path_parameters = {name: real[name] for name in case.path_parameters}
        case.call_and_validate(headers=headers, excluded_checks=[negative_data_rejection])
