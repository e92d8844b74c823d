"""The key admin shows provisioner on every call: the secret both read it from, and the header it travels in.

Only admin and provisioner may read the `provisioning-secrets` store (docs/security.md); provisioner
serves a call only when it comes from admin's sidecar and carries this key (defence in depth beside the ACL).
"""

from __future__ import annotations

from servicekit.sidecar import SidecarClient

PROVISIONING_SECRETSTORE = "provisioning-secrets"
"""The Dapr secret store holding the key; scoped to admin and provisioner."""
PROVISIONER_KEY_SECRET = "provisioner-key"  # noqa: S105 - the secret's name in the store, not its value
PROVISIONER_KEY_HEADER = "x-provisioner-key"


async def read_provisioner_key(sidecar: SidecarClient, *, store: str = PROVISIONING_SECRETSTORE) -> str:
    """Read the shared key through the app's own sidecar (once, at start-up)."""
    return await sidecar.get_secret(PROVISIONER_KEY_SECRET, store=store)
