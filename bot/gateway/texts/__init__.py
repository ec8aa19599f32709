"""The words of Settle's own web interface, one file per language: texts/en.json and texts/es.json, with the same
keys (tests/test_web_channel.py fails when one lacks a key). "widget" is every label, placeholder, button, status
and error the chat widget shows (inlined into /widget.js, which picks the language); "demo" is the demo creditor
page; "phone" and "mailbox" the other demo pages; "errors" the gateway's own refusals (the widget's protocol errors,
the 429 page). Those are the interface's words, not Settle's: the widget shows its own text for each error code, the
`text` and `detail` are for whoever reads the frame or the response, so they sit with the interface, in the
conversation's language when there is one, else the browser's. What the bot says, and the pages only a debtor
reaches (pay pages, the email opt-out), are in bot/wording and domain/."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from bot import wording

HERE = Path(__file__).resolve().parent


@cache
def catalogue(language: str) -> dict[str, dict[str, str]]:
    """Every section of one language's file (an unknown language is English)."""
    return json.loads((HERE / f"{wording.language_or_default(language)}.json").read_text(encoding="utf-8"))


def section(name: str, language: str | None) -> dict[str, str]:
    return catalogue(wording.language_or_default(language))[name]


def say(name: str, key: str, language: str | None, **values: object) -> str:
    """One text of a section in `language`, its {placeholders} filled (str.format)."""
    text = section(name, language)[key]
    return text.format(**values) if values else text


def widget_texts() -> dict[str, dict[str, str]]:
    """The widget's texts in every language Settle writes in, as /widget.js carries them."""
    return {language: section("widget", language) for language in wording.LANGUAGES}


def page_language(known: str | None, accept_language: str | None) -> str:
    """A debtor's page: the language Settle knows for them (`known`), else the browser's (Accept-Language)."""
    return known if known in wording.LANGUAGES else preferred(accept_language)


def preferred(accept_language: str | None, asked: str | None = None) -> str:
    """The language a page is shown in: `?lang=` when it names one we write in, else the browser's first
    Accept-Language that we write in (by quality), else English."""
    if asked in wording.LANGUAGES:
        return asked
    ranked: list[tuple[float, int, str]] = []
    for n, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in wording.LANGUAGES and quality > 0:
            ranked.append((-quality, n, primary))
    return min(ranked)[2] if ranked else wording.ENGLISH
