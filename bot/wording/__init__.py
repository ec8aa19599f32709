"""What Settle says, one catalogue per language: bot/wording/en.py and bot/wording/es.py hold every text the
Python side sends in that language, under the same keys (tests/test_wording.py fails when a key lacks its Spanish
version). The texts Rasa sends are its responses in domain/, with a Spanish variation conditioned on the
`language` slot next to each English one (the same test checks those).

`say(key, language, **values)` is the one way in: an unknown language is English, and a text is formatted with
str.format only when values are given (so a text with braces of its own is left alone)."""

from __future__ import annotations

from collections.abc import Mapping

from bot.wording import en, es

ENGLISH, SPANISH = "en", "es"
LANGUAGES = (ENGLISH, SPANISH)
CATALOGUES: Mapping[str, Mapping[str, str]] = {ENGLISH: en.TEXTS, SPANISH: es.TEXTS}


def language_or_default(language: str | None) -> str:
    return language if language in CATALOGUES else ENGLISH


def say(key: str, language: str | None = ENGLISH, **values: object) -> str:
    """The text for `key` in `language` (English when the language is not one we write in)."""
    text = CATALOGUES[language_or_default(language)][key]
    return text.format(**values) if values else text


def every_language(key: str, **values: object) -> frozenset[str]:
    """The text for `key` in each language: for recognising a reply we produced (the OPT-3 confirmation)."""
    return frozenset(say(key, language, **values) for language in LANGUAGES)
