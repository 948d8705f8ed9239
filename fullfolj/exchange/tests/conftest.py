from __future__ import annotations

from collections.abc import Iterator

import pytest

from fullfolj.exchange import actions
from fullfolj.exchange.models import Source
from tests import factories as f

from .server import TOKEN, World, serve


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def url(world: World) -> Iterator[str]:
    with serve(world) as base:
        yield base


@pytest.fixture
def source(db: object, url: str) -> Source:
    f.school_year()  # 2025/26: the terms the lessons and grades fall in
    return Source.objects.create(
        name="Ekby skolsystem", base_url=url, auth=Source.Auth.BEARER, token=TOKEN
    )


@pytest.fixture
def run(source: Source):  # type: ignore[no-untyped-def]
    """Import from the fixture server with a small page size, as the nightly job would."""

    def go(**options: object) -> actions.Outcome:
        source.refresh_from_db()
        client = actions.client_for(source)
        client.page_size = int(options.pop("page_size", 2))  # type: ignore[call-overload]
        return actions.run_import(source, client=client, **options)  # type: ignore[arg-type]

    return go
