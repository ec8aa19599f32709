"""Canned responses: data (policy/canned_responses.yml), checked when loaded so a banned claim (TONE-1) or a
typed-in amount (TONE-2) can never become one click away. The outbound gate still checks each reply as sent."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.compliance import tone
from bot.compliance.policy_files import read_yaml

DEFAULT_CANNED_PATH = Path(__file__).resolve().parents[2] / "policy" / "canned_responses.yml"
PLACEHOLDERS = {"agent"}
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_AMOUNT = re.compile(r"\$\s?\d")  # TONE-2: a figure typed into a template


class CannedError(ValueError):
    """canned_responses.yml is wrong; the message names the entry and field."""


@dataclass(frozen=True)
class Canned:
    id: str
    title: str
    text: str
    text_es: str = ""  # the same reply in Spanish (required in the file: every reply exists in both languages)

    def render(self, agent_name: str, language: str | None = "en") -> str:
        """The reply in the conversation's language, with the agent's name."""
        text = self.text_es if language == "es" and self.text_es else self.text
        return text.replace("{agent}", agent_name)


def parse(data: Any, source: str = "canned_responses") -> tuple[Canned, ...]:
    if not isinstance(data, dict) or not isinstance(data.get("responses"), list):
        raise CannedError(f"{source}: expected a mapping with a 'responses' list")
    found: list[Canned] = []
    seen: set[str] = set()
    for number, entry in enumerate(data["responses"], start=1):
        where = f"{source}: responses[{number}]"
        if not isinstance(entry, dict):
            raise CannedError(f"{where}: expected a mapping with id, title and text")
        item_id, title, text, text_es = (str(entry.get(k) or "").strip() for k in ("id", "title", "text", "text_es"))
        if not re.fullmatch(r"[a-z0-9_]{1,40}", item_id):
            raise CannedError(f"{where}.id: use 1-40 lower-case letters, digits or '_'")
        if item_id in seen:
            raise CannedError(f"{where}.id: {item_id!r} is used twice")
        if not title or not text or not text_es:
            raise CannedError(f"{where} ({item_id}): title, text and text_es (the Spanish) are required")
        for field_name, value in (("text", text), ("text_es", text_es)):
            _check_text(f"{where} ({item_id}).{field_name}", value)
        seen.add(item_id)
        found.append(Canned(item_id, title[:60], text, text_es))
    return tuple(found)


def _check_text(where: str, text: str) -> None:
    unknown = set(_PLACEHOLDER.findall(text)) - PLACEHOLDERS
    if unknown:
        raise CannedError(f"{where}: unknown placeholder {{{sorted(unknown)[0]}}}; only {{agent}} is filled in")
    sample = text.replace("{agent}", "Alex")
    violations = tone.lint(sample)  # the banned claims in English and Spanish (policy/banned_phrases.yml)
    if violations:
        first = violations[0]
        raise CannedError(f"{where}: {first.rule_id} {first.category}: {first.phrase!r}")
    if _AMOUNT.search(sample):
        raise CannedError(f"{where}: TONE-2: no amounts in a canned reply; figures come from the ledger")


def load(path: str | Path = DEFAULT_CANNED_PATH) -> tuple[Canned, ...]:
    return parse(read_yaml(path, CannedError), Path(path).name)


@lru_cache(maxsize=1)
def default() -> tuple[Canned, ...]:
    return load()
