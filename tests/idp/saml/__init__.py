"""The test SAML identity provider (server.py), started in a process of its own on 127.0.0.1,
and the settings that point Fullfölj at it.

Metadata goes both ways through files, as between a municipality's IdP and Fullfölj: the IdP
writes idp.xml, which Fullfölj reads (FULLFOLJ_SAML_IDP_METADATA_FILE); the test fetches
Fullfölj's /saml2/metadata/ and writes it to sp.xml, which the IdP reads.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

ROOT = Path(__file__).resolve().parents[3]
REFEDS_MFA = "https://refeds.org/profile/mfa"
PASSWORD = "idp-losen"  # noqa: S105 - the test IdP's users' password

# The municipality's directory: who exists at the IdP (not all of them in Fullfölj).
USERS: dict[str, dict[str, Any]] = {
    "mentor": {
        "password": PASSWORD,
        "attributes": {"mail": "mentor@testkommun.se", "employeeNumber": "40117"},
    },
    "okand": {
        "password": PASSWORD,
        "attributes": {"mail": "okand@testkommun.se", "employeeNumber": "49999"},
    },
    "mfa": {
        "password": PASSWORD,
        "attributes": {"mail": "mentor@testkommun.se", "employeeNumber": "40117"},
        "authn_context": REFEDS_MFA,
    },
    # An assertion issued 20 minutes ago, valid for 15: its NotOnOrAfter has passed.
    "utgangen": {
        "password": PASSWORD,
        "attributes": {"mail": "mentor@testkommun.se", "employeeNumber": "40117"},
        "clock_behind_minutes": 20,
    },
}


def write_key_pair(directory: Path, name: str) -> tuple[Path, Path]:
    """A fresh RSA key and its self-signed certificate, as name.key and name.crt."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"fullfolj-test-{name}")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_path, cert_path = directory / f"{name}.key", directory / f"{name}.crt"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


@dataclass
class RunningIdP:
    directory: Path
    url: str

    def fullfolj_settings(self, base_url: str) -> dict[str, Any]:
        """The settings a municipality's IT department would set for this IdP."""
        sp_key, sp_cert = self.directory / "sp.key", self.directory / "sp.crt"
        return {
            "FULLFOLJ_SAML": True,
            "FULLFOLJ_SAML_IDP_METADATA_FILE": str(self.directory / "idp.xml"),
            "FULLFOLJ_SAML_BASE_URL": base_url,
            "FULLFOLJ_SAML_KEY_FILE": str(sp_key),
            "FULLFOLJ_SAML_CERT_FILE": str(sp_cert),
            "FULLFOLJ_SAML_SIGNED": "both",
            "FULLFOLJ_SAML_MATCH_ATTRIBUTE": "mail",
        }

    def trust_sp(self, metadata: bytes) -> None:
        """Hand Fullfölj's metadata to the IdP."""
        (self.directory / "sp.xml").write_bytes(metadata)

    def log(self) -> str:
        return (self.directory / "idp.log").read_text(errors="replace")


@contextmanager
def running_idp(directory: Path) -> Iterator[RunningIdP]:
    """The IdP in its own process until the block ends."""
    write_key_pair(directory, "idp")
    write_key_pair(directory, "sp")
    (directory / "users.json").write_text(json.dumps(USERS))
    with (directory / "idp.log").open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "tests.idp.saml.server", str(directory)],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        address = directory / "address"
        deadline = time.monotonic() + 60  # a generous wait for the start, not a timed assertion
        while not address.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    "the test IdP did not start:\n" + RunningIdP(directory, "").log()
                )
            time.sleep(0.1)
        yield RunningIdP(directory, address.read_text())
    finally:
        process.terminate()
        process.wait(timeout=10)


class IdPSession:
    """A person at the IdP, without a browser: follows the login request there, fills in the
    form, and hands back the SAMLResponse and RelayState the IdP would post to Fullfölj."""

    def __init__(self, idp: RunningIdP) -> None:
        self.idp = idp

    def log_in(
        self, redirect_to_idp: str, username: str, password: str = PASSWORD
    ) -> dict[str, str]:
        assert redirect_to_idp.startswith(self.idp.url + "/sso/redirect?")
        form = self._open(redirect_to_idp)
        fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', form))
        fields = {name: unescape(value) for name, value in fields.items()}
        fields.update(username=username, password=password)
        answer = self._open(self.idp.url + "/sso/login", urllib.parse.urlencode(fields).encode())
        posted = dict(re.findall(r'name="(\w+)" value="([^"]*)"', answer))
        assert "SAMLResponse" in posted, answer
        return {name: unescape(value) for name, value in posted.items()}

    def _open(self, url: str, data: bytes | None = None) -> str:
        with urllib.request.urlopen(url, data=data, timeout=30) as response:  # noqa: S310
            return response.read().decode()
