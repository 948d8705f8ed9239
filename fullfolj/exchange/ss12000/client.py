"""An HTTP client for a school system's SS 12000 API (version 2.x), on the standard library.

Three ways in, as vendors ask (docs/exchange.md): a static bearer token, OAuth2 client
credentials (a token fetched from the vendor's token URL, renewed before it runs out), or a
client certificate (mutual TLS, optionally with a token as well). Lists are read page by page;
a server that hands back a page token it gave before, or more pages than `max_pages`, is an
error, not an endless loop. Every failure is an `SS12000Error` whose message names the entity.
"""

from __future__ import annotations

import json
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

Query = Sequence[tuple[str, str]]

# The keys of /deletedEntities, by the entity names its `entities` filter takes. The spec spells
# activities with three t's there.
DELETED_KEYS = {
    "Organisation": "organisations",
    "Person": "persons",
    "Group": "groups",
    "Duty": "duties",
    "Activity": "activitites",
    "CalendarEvent": "calendarEvents",
    "Attendance": "attendances",
    "Grade": "grades",
    "Syllabus": "syllabuses",
}


class SS12000Error(Exception):
    """The import cannot go on; the message says which entity and why."""


class ServerError(SS12000Error):
    """The server answered with an error, or not at all."""


class InvalidResponse(SS12000Error):
    """The answer does not match the specification."""


@dataclass(frozen=True)
class Auth:
    """How the client proves who it is. `kind`: bearer, oauth2 or certificate."""

    kind: str = "bearer"
    token: str = ""
    token_url: str = ""
    client_id: str = ""
    client_secret: str = ""
    scope: str = ""
    cert_file: str = ""
    key_file: str = ""
    ca_file: str = ""


class Client:
    def __init__(
        self,
        base_url: str,
        auth: Auth,
        *,
        timeout: float = 30.0,
        page_size: int = 100,
        max_pages: int = 10_000,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.timeout = timeout
        self.page_size = page_size
        self.max_pages = max_pages
        self._token = auth.token
        self._token_expires = float("inf")
        self._context: ssl.SSLContext | None = None
        if auth.kind == "certificate" or auth.ca_file:
            try:
                self._context = ssl.create_default_context(cafile=auth.ca_file or None)
                if auth.cert_file:
                    self._context.load_cert_chain(auth.cert_file, auth.key_file or None)
            except (OSError, ssl.SSLError) as error:
                raise SS12000Error(
                    f"The client certificate or CA file cannot be read: {error}."
                ) from error
        if auth.kind == "oauth2":
            self._token_expires = 0.0

    # --- requests -------------------------------------------------------------------------

    def _bearer(self) -> str:
        if self.auth.kind == "oauth2" and time.monotonic() >= self._token_expires:
            self._fetch_token()
        return self._token

    def _fetch_token(self) -> None:
        """OAuth2 client credentials: a form POST to the token URL; renewed a minute early."""
        form = {
            "grant_type": "client_credentials",
            "client_id": self.auth.client_id,
            "client_secret": self.auth.client_secret,
        }
        if self.auth.scope:
            form["scope"] = self.auth.scope
        request = urllib.request.Request(  # noqa: S310 - the URL is the source's own setting
            self.auth.token_url,
            data=urllib.parse.urlencode(form).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            method="POST",
        )
        answer = self._send(request, "the OAuth2 token")
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token:
            raise InvalidResponse("The OAuth2 token answer holds no access_token.")
        self._token = token
        expires_in = answer.get("expires_in")
        lifetime = float(expires_in) if isinstance(expires_in, int | float) else 3600.0
        self._token_expires = time.monotonic() + max(lifetime - 60.0, 0.0)

    def _send(self, request: urllib.request.Request, what: str) -> Any:
        try:
            with urllib.request.urlopen(  # noqa: S310 - http(s) URLs of the source's own setting
                request, timeout=self.timeout, context=self._context
            ) as response:
                body = response.read()
        except urllib.error.HTTPError as error:
            detail = ""
            try:
                found = json.loads(error.read() or b"null")
                if isinstance(found, dict) and found.get("message"):
                    detail = f": {found['message']}"
            except ValueError:
                pass
            raise ServerError(
                f"Reading {what}: the server answered {error.code} {error.reason}{detail}."
            ) from error
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise ServerError(f"Reading {what}: no answer from the server ({reason}).") from error
        try:
            return json.loads(body)
        except ValueError as error:
            raise InvalidResponse(f"Reading {what}: the answer is not JSON.") from error

    def request(
        self, path: str, query: Query = (), *, what: str, body: object | None = None
    ) -> Any:
        """GET (or POST with a JSON `body`) one path under the base URL; the parsed JSON."""
        url = self.base_url + path
        if query:
            # Arrays repeat the key (form, explode); "+" in offsets must be sent as %2B.
            url += "?" + urllib.parse.urlencode(list(query), quote_via=urllib.parse.quote)
        headers = {"Accept": "application/json"}
        bearer = self._bearer()
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(  # noqa: S310 - the base URL is the source's setting
            url, data=data, headers=headers, method="POST" if body is not None else "GET"
        )
        return self._send(request, what)

    # --- lists ----------------------------------------------------------------------------

    def pages(self, path: str, query: Query = (), *, what: str) -> Iterator[Any]:
        """Each page's `data` of a list endpoint, following `pageToken` to the end.

        Page two on sends only the token and the limit, as the spec asks; a server that
        refuses that (400) is asked again with the filters too, as some vendors want.
        """
        seen: set[str] = set()
        token: str | None = None
        with_filters = False
        for number in range(1, self.max_pages + 1):
            limit = [("limit", str(self.page_size))]
            if token is None:
                params = [*query, *limit]
            elif with_filters:
                params = [*query, *limit, ("pageToken", token)]
            else:
                params = [*limit, ("pageToken", token)]
            label = f"{what} (page {number})"
            try:
                page = self.request(path, params, what=label)
            except ServerError as error:
                if token is None or with_filters or " 400 " not in str(error):
                    raise
                with_filters = True
                page = self.request(path, [*query, *limit, ("pageToken", token)], what=label)
            if not isinstance(page, dict) or "data" not in page:
                raise InvalidResponse(f"Reading {label}: the answer has no “data”.")
            yield page["data"]
            token = page.get("pageToken")
            if token is None or token == "":
                return
            if not isinstance(token, str):
                raise InvalidResponse(f"Reading {label}: “pageToken” is not a string.")
            if token in seen:
                raise InvalidResponse(
                    f"Reading {label}: the server repeated a page token it gave before; "
                    "stopped rather than loop."
                )
            seen.add(token)
        raise InvalidResponse(
            f"Reading {what}: more than {self.max_pages} pages; stopped rather than loop."
        )

    def items(self, path: str, query: Query = (), *, what: str) -> Iterator[dict[str, Any]]:
        """Every object of a list endpoint, page by page."""
        for data in self.pages(path, query, what=what):
            if not isinstance(data, list):
                raise InvalidResponse(f"Reading {what}: “data” is not a list.")
            for number, item in enumerate(data, start=1):
                if not isinstance(item, dict):
                    raise InvalidResponse(f"Reading {what}: item {number} is not an object.")
                yield item

    def deleted(self, after: str, entities: Sequence[str]) -> dict[str, set[str]]:
        """The ids deleted after `after`, by entity name (Person, Group …)."""
        query = [("after", after), *(("entities", name) for name in entities)]
        found: dict[str, set[str]] = {name: set() for name in entities}
        for data in self.pages("/deletedEntities", query, what="deleted entities"):
            if not isinstance(data, dict):
                raise InvalidResponse("Reading deleted entities: “data” is not an object.")
            for name in entities:
                ids = data.get(DELETED_KEYS[name]) or []
                if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
                    raise InvalidResponse(
                        f"Reading deleted entities: “{DELETED_KEYS[name]}” is not a list of ids."
                    )
                found[name].update(ids)
        return found
