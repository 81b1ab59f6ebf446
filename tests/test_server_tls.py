"""TLS and mTLS with throwaway certificates made by the openssl CLI (`cryptography` is not a
dependency): encrypted calls work, plaintext and untrusted peers are refused."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from server.client import CohortClient
from server.settings import Tls
from tests.server_harness import failure, serving, settings_for

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI")
EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"]


def _openssl(*args: str | Path) -> None:
    subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True, timeout=60)


def _ca(folder: Path, name: str) -> tuple[Path, Path]:
    cert, key = folder / f"{name}.pem", folder / f"{name}.key"
    _openssl("req", "-x509", *EC, "-subj", f"/CN={name}", "-keyout", key, "-out", cert)
    return cert, key


def _leaf(folder: Path, name: str, ca: tuple[Path, Path], extension: str) -> tuple[Path, Path]:
    cert, key = folder / f"{name}.pem", folder / f"{name}.key"
    _openssl("req", "-x509", *EC, "-subj", f"/CN={name}", "-keyout", key, "-out", cert,
             "-CA", ca[0], "-CAkey", ca[1], "-addext", extension)
    return cert, key


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    folder = tmp_path_factory.mktemp("pki")
    ca, other_ca = _ca(folder, "test-ca"), _ca(folder, "other-ca")
    return {
        "ca": ca, "other_ca": other_ca,
        "server": _leaf(folder, "server", ca, "subjectAltName=DNS:localhost,IP:127.0.0.1"),
        "client": _leaf(folder, "client", ca, "extendedKeyUsage=clientAuth"),
        "stranger": _leaf(folder, "stranger", other_ca, "extendedKeyUsage=clientAuth"),
    }


@pytest.fixture
def tls_port(tmp_path: Path, pki: dict, request: pytest.FixtureRequest) -> Iterator[int]:
    mutual = getattr(request, "param", False)
    tls = Tls(pki["server"][0], pki["server"][1], pki["ca"][0] if mutual else None)
    with serving(settings_for(tmp_path, tls=tls)) as port:
        yield port


def _client(port: int, pki: dict, ca: str = "ca", identity: str | None = None) -> CohortClient:
    cert, key = pki[identity] if identity else (None, None)
    return CohortClient(f"127.0.0.1:{port}", root_certificates=pki[ca][0].read_bytes(),
                        certificate_chain=cert.read_bytes() if cert else None,
                        private_key=key.read_bytes() if key else None, timeout_seconds=5)


def test_tls_serves_trusting_clients(tls_port: int, pki: dict) -> None:
    with _client(tls_port, pki) as client:
        assert client.list_models().research_use_notice


def test_tls_refuses_plaintext_and_untrusted_server(tls_port: int, pki: dict) -> None:
    with CohortClient(f"127.0.0.1:{tls_port}", timeout_seconds=5) as plaintext:
        assert failure(plaintext.list_models).code is grpc.StatusCode.UNAVAILABLE
    with _client(tls_port, pki, ca="other_ca") as wrong_ca:
        assert failure(wrong_ca.list_models).code is grpc.StatusCode.UNAVAILABLE


@pytest.mark.parametrize("tls_port", [True], indirect=True)
def test_mtls_accepts_only_trusted_client_certificates(tls_port: int, pki: dict) -> None:
    with _client(tls_port, pki, identity="client") as trusted:
        assert trusted.list_models().research_use_notice
    for identity in (None, "stranger"):
        with _client(tls_port, pki, identity=identity) as refused:
            assert failure(refused.list_models).code is grpc.StatusCode.UNAVAILABLE
