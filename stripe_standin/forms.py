"""Stripe's request encoding: form fields with bracketed keys (`metadata[account_id]=...`,
`line_items[0][price_data][unit_amount]=1234`, `expand[]=...`) into nested dicts and lists, the way Stripe reads
them. Every leaf stays a string, as on the wire; endpoints convert what they need and answer a bad value with
Stripe's own error shape (see errors.py)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


def decode(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """[("a[b][0][c]", "1")] -> {"a": {"b": [{"c": "1"}]}}. A key that does not parse is kept as it is."""
    root: dict[str, Any] = {}
    for raw_key, value in pairs:
        match = _KEY.match(raw_key)
        if match is None:
            root[raw_key] = value
            continue
        parts = [match.group(1)] + re.findall(r"\[([^\[\]]*)\]", match.group(2))
        node: Any = root
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            if part == "":  # "expand[]": append to a list
                part = str(len(node))
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return _lists(root)


def _lists(node: Any) -> Any:
    """Dicts keyed 0..n-1 become lists, in index order (Stripe's arrays are sent as indexed keys)."""
    if not isinstance(node, dict):
        return node
    converted = {k: _lists(v) for k, v in node.items()}
    if converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted


def fingerprint(params: dict[str, Any]) -> str:
    """A stable form of the parameters, to tell a replay of the same request from a different request that
    reuses an idempotency key."""
    return repr(_sorted(params))


def _sorted(node: Any) -> Any:
    if isinstance(node, dict):
        return tuple(sorted((k, _sorted(v)) for k, v in node.items()))
    if isinstance(node, list):
        return tuple(_sorted(v) for v in node)
    return node
