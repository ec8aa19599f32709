"""The forms' slots as domain/ declares them, read by the action server from the same files Rasa trained on.

Rasa sends its whole domain (every response, intent and slot) with each action call unless selective domain is
on, and encoding, sending and parsing it was a large part of each call. The form validation actions need only
the forms' required slots, so endpoints.yml turns selective domain on and they read those here."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import yaml
from rasa_sdk import FormValidationAction
from rasa_sdk.types import DomainDict

from bot.config import PROJECT_ROOT

DOMAIN_DIR = PROJECT_ROOT / "domain"


@lru_cache(maxsize=1)
def declared_forms() -> dict[str, Any]:
    forms: dict[str, Any] = {}
    for path in sorted(DOMAIN_DIR.glob("*.yml")):
        forms.update((yaml.safe_load(path.read_text()) or {}).get("forms") or {})
    return forms


class DeclaredForm:
    """Mixed into a FormValidationAction (before it) so that it knows its form's slots without being sent the
    domain. Not an Action itself: rasa-sdk registers every Action subclass it finds."""

    def domain_slots(self: FormValidationAction, domain: DomainDict) -> list[str]:
        form = (domain.get("forms") or declared_forms()).get(self.form_name()) or {}
        return list(form.get("required_slots") or [])
