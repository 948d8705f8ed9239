"""A small SAML 2 identity provider for the tests: pysaml2's Server behind wsgiref.

Run as `python -m tests.idp.saml.server DIR`. DIR holds what the test wrote: idp.key and
idp.crt (its signing key pair), users.json (the user table) and sp.xml (Fullfölj's metadata,
read on every request, so the test may write it after the IdP has started). The server binds
a free port on 127.0.0.1, writes its own metadata to DIR/idp.xml, then its address to
DIR/address: that file appearing means it is ready.

It speaks as the municipality's IdP would: the login request comes in by HTTP-Redirect (its
signature checked against the SP's metadata), the person logs in with a form, and the answer,
response and assertion signed, goes back to the SP's ACS by HTTP-POST. Each user in the table
has a password, the attributes released, the authentication context the IdP asserts, and how
far behind the IdP's clock is in minutes (an assertion issued that long ago: expired when it
arrives if that is more than its lifetime, 15 minutes).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import sys
from contextlib import nullcontext
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, make_server

import time_machine
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import entity_descriptor
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_TRANSIENT
from saml2.server import Server

LIFETIME_MINUTES = 15
PASSWORD_CONTEXT = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"  # noqa: S105

LOGIN_FORM = """<!DOCTYPE html>
<html lang="sv"><head><meta charset="utf-8"><title>Testkommunens inloggning</title></head>
<body><main><h1>Testkommunens inloggning</h1>{error}
<form method="post" action="/sso/login">
<label for="username">Användarnamn</label> <input id="username" name="username">
<label for="password">Lösenord</label> <input id="password" name="password" type="password">
<input type="hidden" name="SAMLRequest" value="{request}">
<input type="hidden" name="RelayState" value="{relay_state}">
<input type="hidden" name="SigAlg" value="{sigalg}">
<input type="hidden" name="Signature" value="{signature}">
<button type="submit">Logga in</button>
</form></main></body></html>"""


def idp_config(directory: Path, base: str, *, with_sp: bool = True) -> IdPConfig:
    config = IdPConfig()
    config.load(
        {
            "entityid": base + "/metadata",
            "key_file": str(directory / "idp.key"),
            "cert_file": str(directory / "idp.crt"),
            "metadata": {"local": [str(directory / "sp.xml")]} if with_sp else {},
            "service": {
                "idp": {
                    "name": "Testkommunens IdP",
                    "endpoints": {
                        "single_sign_on_service": [(base + "/sso/redirect", BINDING_HTTP_REDIRECT)]
                    },
                    "name_id_format": [NAMEID_FORMAT_TRANSIENT],
                    "want_authn_requests_signed": True,
                    "policy": {
                        "default": {
                            "lifetime": {"minutes": LIFETIME_MINUTES},
                            "attribute_restrictions": None,
                            "name_form": NAME_FORMAT_URI,
                        }
                    },
                }
            },
        }
    )
    return config


class IdP:
    def __init__(self, directory: Path, base: str) -> None:
        self.directory = directory
        self.base = base

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        path = environ["PATH_INFO"]
        if path == "/metadata":
            body = (self.directory / "idp.xml").read_bytes()
            start_response("200 OK", [("Content-Type", "text/xml")])
            return [body]
        if path == "/sso/redirect":
            return self.login_form(self.fields(environ["QUERY_STRING"]), start_response)
        if path == "/sso/login" and environ["REQUEST_METHOD"] == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            fields = self.fields(environ["wsgi.input"].read(length).decode())
            return self.log_in(fields, start_response)
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]

    @staticmethod
    def fields(query: str) -> dict[str, str]:
        return {key: values[0] for key, values in parse_qs(query).items()}

    def server(self) -> Server:
        return Server(config=idp_config(self.directory, self.base))

    def parse(self, server: Server, fields: dict[str, str]) -> Any:
        """The SP's login request, its signature checked (over the query, as it came)."""
        return server.parse_authn_request(
            fields["SAMLRequest"],
            BINDING_HTTP_REDIRECT,
            relay_state=fields.get("RelayState"),
            sigalg=fields.get("SigAlg"),
            signature=fields.get("Signature"),
        )

    def login_form(
        self, fields: dict[str, str], start_response: Any, error: str = ""
    ) -> list[bytes]:
        self.parse(self.server(), fields)  # refuse a bad request before asking for a password
        page = LOGIN_FORM.format(
            error=f'<p role="alert">{error}</p>' if error else "",
            request=html.escape(fields["SAMLRequest"]),
            relay_state=html.escape(fields.get("RelayState", "")),
            sigalg=html.escape(fields.get("SigAlg", "")),
            signature=html.escape(fields.get("Signature", "")),
        )
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [page.encode()]

    def log_in(self, fields: dict[str, str], start_response: Any) -> list[bytes]:
        users = json.loads((self.directory / "users.json").read_text())
        user = users.get(fields.get("username", ""))
        if user is None or user["password"] != fields.get("password"):
            return self.login_form(fields, start_response, "Fel användarnamn eller lösenord.")
        server = self.server()
        request = self.parse(server, fields).message
        response_args = server.response_args(request, [BINDING_HTTP_POST])
        behind = user.get("clock_behind_minutes", 0)
        clock = (
            time_machine.travel(dt.datetime.now(dt.UTC) - dt.timedelta(minutes=behind))
            if behind
            else nullcontext()
        )
        with clock:
            response = server.create_authn_response(
                {name: [value] for name, value in user["attributes"].items()},
                userid=fields["username"],
                authn={
                    "class_ref": user.get("authn_context", PASSWORD_CONTEXT),
                    "authn_auth": server.config.entityid,
                },
                sign_assertion=True,
                sign_response=True,
                **response_args,
            )
        http_args = server.apply_binding(
            BINDING_HTTP_POST,
            str(response),
            response_args["destination"],
            fields.get("RelayState", ""),
            response=True,
        )
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [http_args["data"].encode()]


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def main(directory: Path) -> None:
    with make_server("127.0.0.1", 0, lambda e, s: [], handler_class=QuietHandler) as httpd:
        base = f"http://127.0.0.1:{httpd.server_port}"
        httpd.set_app(IdP(directory, base))
        metadata = entity_descriptor(idp_config(directory, base, with_sp=False))
        (directory / "idp.xml").write_text(str(metadata))
        (directory / "address.tmp").write_text(base)
        (directory / "address.tmp").rename(directory / "address")
        httpd.serve_forever()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
