"""The client's contract with the SS 12000 specification, against Prism's mock of it.

Prism (npm @stoplight/prism-cli, package.json) serves fullfolj/exchange/ss12000/openapi.yaml
and checks every request against it: required parameters, enums, date-time formats, arrays as
repeated keys. Its answers are random objects valid by the spec. With a seed it hands back the
same page token on every page, which is what the page-token guard is for.
"""

from __future__ import annotations

import datetime as dt
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from fullfolj.exchange.models import Source
from fullfolj.exchange.ss12000.client import (
    Auth,
    Client,
    InvalidResponse,
    ServerError,
    SS12000Error,
)
from fullfolj.exchange.ss12000.importer import Importer
from tests import factories as f

pytestmark = pytest.mark.slow  # Prism takes a few seconds to start

ROOT = Path(settings.BASE_DIR).parent
PRISM = ROOT / "node_modules" / ".bin" / "prism"
SPEC = ROOT / "fullfolj" / "exchange" / "ss12000" / "openapi.yaml"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def prism() -> Iterator[str]:
    if not PRISM.exists():
        pytest.fail("Prism is missing: run `npm install` at the repository's root.")
    port = _free_port()
    process = subprocess.Popen(  # noqa: S603 - our own fixed command line
        [
            str(PRISM),
            "mock",
            "-d",
            "--seed",
            "42",
            "--json-schema-faker-fillProperties=false",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            str(SPEC),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(base + "/organisations", timeout=2)  # noqa: S310
            except urllib.error.HTTPError:
                break  # it answers (401 without a token): ready
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("Prism did not start.")
                time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


class FirstPages(Client):
    """The real client, reading only the first page of each list (Prism's pages never end)."""

    def pages(self, path: str, query: Any = (), *, what: str) -> Iterator[Any]:
        yield next(super().pages(path, query, what=what))


def _client(base: str, kind: type[Client] = FirstPages) -> Client:
    return kind(base, Auth(kind="bearer", token="test"), page_size=3)


@pytest.fixture
def importer(db: object, prism: str):  # type: ignore[no-untyped-def]
    f.school_year()
    source = Source.objects.create(name="Prism", base_url=prism, auth=Source.Auth.BEARER)

    def make(since: dt.datetime | None = None) -> Importer:
        return Importer(
            _client(prism), source, since=since, deleted_since=since, today=dt.date(2026, 3, 18)
        )

    return make


def test_every_request_of_a_full_import_is_valid_by_the_specification(importer):
    run = importer()
    fetched = run.fetch()
    [(events, marks)] = list(run.lesson_pages())  # with expand=attendance

    for name in ("organisations", "persons", "duties", "groups", "activities", "grades",
                 "syllabuses"):  # fmt: skip
        assert getattr(fetched, name), name  # Prism answered 200 with objects we could read
    assert events and marks
    assert fetched.latest is not None


def test_an_incremental_run_asks_in_the_specifications_form(importer):
    since = dt.datetime(2026, 3, 17, 22, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    run = importer(since)

    fetched = run.fetch()
    pages = list(run.lesson_pages())  # the changed lessons, then the changed marks

    # /deletedEntities with the entities as repeated keys: Prism refuses commas with a 400.
    assert set(fetched.deleted) == {
        "Person", "Group", "Duty", "Activity", "CalendarEvent", "Attendance", "Grade",
    }  # fmt: skip
    assert [bool(events) for events, _marks in pages] == [True, False]
    assert pages[1][1]


@pytest.mark.parametrize("organiser", [False, True])
def test_random_objects_valid_by_the_spec_either_import_or_stop_with_a_named_reason(
    importer, organiser
):
    run = importer()
    if organiser:  # a source with its organiser set reads further into the random data
        run.source.organiser = f.organiser()
        run.source.save()
    run.fetch()
    try:
        run.write()
    except SS12000Error as error:
        assert "SS 12000" in str(error)


def test_without_a_token_the_server_refuses_and_the_client_says_so(prism):
    client = Client(prism, Auth(kind="bearer", token=""))

    with pytest.raises(ServerError, match="401"):
        client.request("/persons", what="persons")


def test_a_page_token_served_twice_stops_the_client(prism):
    client = _client(prism, Client)

    with pytest.raises(InvalidResponse, match="repeated a page token"):
        list(client.items("/persons", what="persons"))


def test_a_filter_the_specification_refuses_is_a_clear_error(prism):
    client = _client(prism, Client)

    with pytest.raises(ServerError, match=r"Reading calendar events \(page 1\).*400"):
        list(client.items("/calendarEvents", what="calendar events"))
