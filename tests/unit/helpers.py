"""Dapr 1.18's access-control decision for one HTTP invocation, ported line by line for the policy tests.

Upstream: pkg/acl/acl.go (isOperationAllowedByAccessControlPolicy) and pkg/config/acl_trie.go. Its
quirks matter for least privilege, so they are kept: an operation covers every path below it
(`/orders` allows `/orders/{id}/cancel`), `/*` matches one last segment, and of two entries sharing a
path the first one wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SINGLE = "/*"
MULTI = "/**"


@dataclass
class _Node:
    char: str
    verbs: dict[str, str] | None = None
    children: list[_Node] = field(default_factory=list)


def _is_match(target: str, pattern: str) -> bool:
    """`*` matches any run of characters (upstream isMatch)."""
    rows = [[False] * (len(pattern) + 1) for _ in range(len(target) + 1)]
    rows[0][0] = True
    for j, char in enumerate(pattern, start=1):
        if char != "*":
            break
        rows[0][j] = True
    for i in range(1, len(target) + 1):
        for j in range(1, len(pattern) + 1):
            if pattern[j - 1] == "*":
                rows[i][j] = rows[i][j - 1] or rows[i - 1][j]
            elif target[i - 1] == pattern[j - 1]:
                rows[i][j] = rows[i - 1][j - 1]
    return rows[len(target)][len(pattern)]


def _find_with_wildcard(char: str, nodes: list[_Node], is_end: bool) -> _Node | None:
    for node in nodes:
        if node.char == char:
            return node
        if node.char == SINGLE:
            if is_end:
                return node
            continue
        if node.char == MULTI or _is_match(char, node.char):
            return node
    return None


class _Trie:
    def __init__(self) -> None:
        self.root = _Node("/")

    def put(self, operation: str, verbs: dict[str, str]) -> None:
        parts = operation.split("/")
        node = self.root
        for index, part in enumerate(parts[1:], start=1):
            char = "/" + part
            found = next((child for child in node.children if child.char == char), None)
            last = index == len(parts) - 1
            if found is None:
                found = _Node(char, verbs if last else None)
                node.children.append(found)
            elif last and found.verbs is None:
                found.verbs = verbs
            node = found

    def search(self, operation: str) -> dict[str, str] | None:
        parts = operation.split("/")
        node: _Node | None = self.root
        for index, part in enumerate(parts[1:], start=1):
            is_end = index == len(parts) - 1
            assert node is not None
            node = _find_with_wildcard("/" + part, node.children, is_end)
            if node is None:
                return None
            if node.verbs is not None:
                if not is_end and node.char.endswith(SINGLE) and not node.char.endswith(MULTI):
                    continue
                return node.verbs
            if is_end:
                wildcard = _find_with_wildcard(SINGLE, node.children, is_end)
                if wildcard is not None and wildcard.verbs is not None:
                    return wildcard.verbs
        return None


_OPERATION = ""
"""The key under which a trie entry keeps its operation's own action (what a gRPC app's sidecar applies)."""


@dataclass(frozen=True)
class Caller:
    app_id: str
    trust_domain: str = "public"
    namespace: str = "default"


class AccessControl:
    """One sidecar's `spec.accessControl`, answering as that sidecar would."""

    def __init__(self, spec: dict[str, Any], *, grpc_app: bool = False) -> None:
        """`grpc_app`: the callee's app protocol is gRPC, where daprd matches names case-sensitively and ignores
        verbs, for HTTP invocations too (dapr 1.18 pkg/acl ParseAccessControlSpec with isHTTP false)."""
        self.grpc_app = grpc_app
        self.default_action = str(spec.get("defaultAction", "deny")).lower()
        self.policies: dict[tuple[str, str], tuple[dict[str, Any], _Trie]] = {}
        for policy in spec.get("policies") or []:
            trie = _Trie()
            for operation in policy.get("operations") or []:
                name = operation["name"] if operation["name"].startswith("/") else "/" + operation["name"]
                verbs = {verb: operation["action"] for verb in operation.get("httpVerb") or []}
                trie.put(name if grpc_app else name.lower(), {**verbs, _OPERATION: operation["action"]})
            self.policies[(policy["appId"], policy["namespace"])] = (policy, trie)

    def allows(self, caller: Caller, verb: str, path: str) -> bool:
        action = self.default_action
        found = self.policies.get((caller.app_id, caller.namespace))
        if found is None:
            return action == "allow"
        policy, trie = found
        if policy["trustDomain"] != caller.trust_domain:
            return action == "allow"
        action = str(policy.get("defaultAction") or action).lower()
        operation = "/" + path.lstrip("/")
        verbs = trie.search(operation if self.grpc_app else operation.lower())
        if verbs is not None and self.grpc_app:
            action = verbs[_OPERATION]
        elif verbs is not None:
            action = verbs.get(verb, verbs.get("*", str(policy.get("defaultAction") or "")))
        return action.lower() == "allow"
