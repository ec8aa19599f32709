"""What Settle says, one catalogue per language: bot/wording/en.py and bot/wording/es.py hold every text the
Python side sends in that language, under the same keys (tests/test_wording.py fails when a key lacks its Spanish
version). The texts Rasa sends are its responses in domain/, with a Spanish variation conditioned on the
`language` slot next to each English one (the same test checks those).

`say(key, language, **values)` is the one way in: an unknown language is English, and a text is formatted with
str.format only when values are given (so a text with braces of its own is left alone). A value that ends with an
abbreviation's dot ("6:33 p.m.", "Acme Inc.") where the text ends its sentence keeps one full stop, not two."""

from __future__ import annotations

import re
from collections.abc import Mapping

from bot.wording import en, es

ENGLISH, SPANISH = "en", "es"
LANGUAGES = (ENGLISH, SPANISH)
CATALOGUES: Mapping[str, Mapping[str, str]] = {ENGLISH: en.TEXTS, SPANISH: es.TEXTS}


# The second of two full stops after a word ("p.m.." -> "p.m."), never a dot of an ellipsis ("wait...").
_DOUBLE_STOP = re.compile(r"(?<=\w\.)\.(?!\.)")


def language_or_default(language: str | None) -> str:
    return language if language in CATALOGUES else ENGLISH


def say(key: str, language: str | None = ENGLISH, **values: object) -> str:
    """The text for `key` in `language` (English when the language is not one we write in)."""
    text = CATALOGUES[language_or_default(language)][key]
    return _DOUBLE_STOP.sub("", text.format(**values)) if values else text


def every_language(key: str, **values: object) -> frozenset[str]:
    """The text for `key` in each language: for recognising a reply we produced (the OPT-3 confirmation)."""
    return frozenset(say(key, language, **values) for language in LANGUAGES)


def numbers(count: int, language: str | None = ENGLISH) -> str:
    """The numbers of `count` choices as a debtor is asked to pick one: "1", "1 or 2", "1, 2 or 3" ("1, 2 o 3")."""
    digits = [str(n) for n in range(1, count + 1)]
    if count <= 1:
        return "1"
    return f"{', '.join(digits[:-1])} {say('or', language)} {digits[-1]}"
