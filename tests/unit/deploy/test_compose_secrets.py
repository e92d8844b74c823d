"""`python -m tools.deploy compose-secrets`: what docker compose reads from .data/compose/, made once.

The certificates are checked as sentry 1.18.3 checks issuer credentials it finds on disk
(pkg/sentry/server/ca/validate.go, verifyX509Bundle): a self-signed root, an issuer that is a CA allowed
to sign certificates, whose key matches it and whose chain ends at the root.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from tools.deploy.compose_secrets import CA_FILES, mesh_credentials, prepare, trust_anchors_env

ROOT = Path(__file__).resolve().parents[3]
APPS = [str(app["appID"]) for app in yaml.safe_load((ROOT / "dapr.yaml").read_text())["apps"]]


def test_the_issuer_credentials_pass_sentrys_checks() -> None:
    files = mesh_credentials()
    root = x509.load_pem_x509_certificate(files["ca.crt"])
    issuer = x509.load_pem_x509_certificate(files["issuer.crt"])
    key = serialization.load_pem_private_key(files["issuer.key"], password=None)
    root.verify_directly_issued_by(root)
    issuer.verify_directly_issued_by(root)
    constraints = issuer.extensions.get_extension_for_class(x509.BasicConstraints).value
    usage = issuer.extensions.get_extension_for_class(x509.KeyUsage).value
    assert constraints.ca and usage.key_cert_sign
    assert isinstance(key, ed25519.Ed25519PrivateKey)
    assert key.public_key() == issuer.public_key()
    assert b"BEGIN PRIVATE KEY" in files["issuer.key"]  # PKCS #8, as sentry writes its own
    assert issuer.not_valid_after_utc > root.not_valid_before_utc


def test_the_trust_anchors_travel_in_one_env_file_line() -> None:
    pem = mesh_credentials()["ca.crt"].decode()
    line = trust_anchors_env(pem)
    assert line.count("\n") == 1 and line.startswith('DAPR_TRUST_ANCHORS="') and line.endswith('"\n')
    assert line.split("=", 1)[1].strip().strip('"').replace("\\n", "\n") == pem.strip()


def test_prepare_makes_everything_compose_reads_and_keeps_it(tmp_path: Path) -> None:
    folder = prepare(tmp_path / "compose")
    for name in ("secrets.json", "provisioning-secrets.json", "trust-anchors.env"):
        assert (folder / name).is_file(), name
    for app_id in APPS:
        tokens = (folder / "credentials" / f"{app_id}.env").read_text()
        assert "APP_API_TOKEN=" in tokens and "DAPR_API_TOKEN=" in tokens
    for name in CA_FILES:
        assert (folder / "sentry" / name).stat().st_mode & 0o077 == 0, name
    before = {path: path.read_bytes() for path in folder.rglob("*") if path.is_file()}
    prepare(folder)
    assert {path: path.read_bytes() for path in folder.rglob("*") if path.is_file()} == before


def test_compose_reads_what_prepare_makes() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    for name in ("trust-anchors.env", "credentials/gateway.env", "sentry/issuer.key", "secrets.json"):
        assert name in text, name
