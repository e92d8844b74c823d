"""What docker compose needs before `up` and must not find in the repo: .data/compose/.

- secrets.json, provisioning-secrets.json: the local secret stores' keys (tools/servers ensure_secrets);
- credentials/<app-id>.env: each app's APP_API_TOKEN and DAPR_API_TOKEN (tools/servers ensure_credentials);
- sentry/: the mesh's root and issuer certificates, made as sentry 1.18 makes its own (Ed25519, a year,
  pkg/sentry/server/ca/bundle), so compose's sentry starts on existing credentials and never rewrites
  them (a sentry that wrote its own reloads moments later, and a sidecar asking for a certificate then
  exits: tools/servers/sentry.py);
- trust-anchors.env: DAPR_TRUST_ANCHORS, the root every sidecar trusts. daprd reads it only from its
  environment, and its image has no shell, so compose hands it over in an env file.

Nothing is overwritten: delete the folder for new keys (and `docker compose down -v` for new volumes).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import NameOID

from tools.deploy.sources import ROOT, run_apps
from tools.servers import CREDENTIALS, ensure_credentials, ensure_secrets
from tools.servers.sentry import TRUST_DOMAIN

FOLDER = ROOT / ".data" / "compose"
CA_FILES = ("ca.crt", "issuer.crt", "issuer.key")
VALIDITY = dt.timedelta(days=365)
CLOCK_SKEW = dt.timedelta(minutes=15)
"""Backdated like sentry's own (config/sentry.yaml allowedClockSkew)."""


def _certificate(
    subject: str, key: ed25519.Ed25519PrivateKey, issuer: x509.Certificate | None, signer: ed25519.Ed25519PrivateKey
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, subject)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=issuer is not None,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer:
        identifier = x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key())
        builder = builder.add_extension(identifier, critical=False)
    return builder.sign(signer, algorithm=None)


def mesh_credentials(trust_domain: str = TRUST_DOMAIN) -> dict[str, bytes]:
    """A root (its own issuer) and an issuing CA under it, as sentry's issuer-credentials folder holds them."""
    root_key = ed25519.Ed25519PrivateKey.generate()
    root = _certificate(trust_domain, root_key, None, root_key)
    issuer_key = ed25519.Ed25519PrivateKey.generate()
    # Named as sentry names its own issuer: its SPIFFE id (pkg/sentry/server/ca/bundle/cert.go).
    issuer = _certificate(f"spiffe://{trust_domain}/ns/default/dapr-sentry", issuer_key, root, root_key)
    key_pem = issuer_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return {
        "ca.crt": root.public_bytes(serialization.Encoding.PEM),
        "issuer.crt": issuer.public_bytes(serialization.Encoding.PEM),
        "issuer.key": key_pem,
    }


def trust_anchors_env(ca_pem: str) -> str:
    """An env file compose reads: the PEM on one double-quoted line, its line breaks as \\n."""
    return 'DAPR_TRUST_ANCHORS="' + ca_pem.strip().replace("\n", "\\n") + '"\n'


def prepare(folder: Path = FOLDER) -> Path:
    """Create what is missing under `folder`; keep what exists."""
    ensure_secrets(folder)
    missing = [app.app_id for app in run_apps() if not (folder / CREDENTIALS / f"{app.app_id}.env").exists()]
    if missing:
        ensure_credentials(folder, missing)
    sentry = folder / "sentry"
    if not all((sentry / name).exists() for name in CA_FILES):
        sentry.mkdir(parents=True, exist_ok=True)
        sentry.chmod(0o700)
        for name, content in mesh_credentials().items():
            path = sentry / name
            path.touch(mode=0o600)
            path.write_bytes(content)
    anchors = folder / "trust-anchors.env"
    anchors.write_text(trust_anchors_env((sentry / "ca.crt").read_text()))
    return folder
