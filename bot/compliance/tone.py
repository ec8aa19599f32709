"""Text checks on every outbound message: banned claims (TONE-1, TBD-1), the opt-out line (OPT-1), no "reply
CANCEL" instructions (OPT-2), and the "from a debt collector" notice (DISC-2).

The phrase list lives in policy/banned_phrases.yml so compliance can maintain it; this module loads and applies it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot import wording
from bot.compliance.disclosures import FROM_DEBT_COLLECTOR
from bot.compliance.policy_files import read_yaml

DEFAULT_BANNED_PHRASES_PATH = Path(__file__).resolve().parents[2] / "policy" / "banned_phrases.yml"

# OPT-1: the exact line every bot-initiated SMS or email ends with.
OPT_OUT_LINE = "Reply STOP to opt out."
# DISC-2: the notice that starts every later communication.
DEBT_COLLECTOR_NOTICE = FROM_DEBT_COLLECTOR

_FLAGS = ("lawful_legal_action", "time_barred")


class BannedPhrasesError(ValueError):
    """policy/banned_phrases.yml is wrong; the message names the category and field."""


@dataclass(frozen=True)
class Violation:
    rule_id: str  # "TONE-1", "TBD-1", "OPT-2"
    category: str  # e.g. "legal_action"
    phrase: str  # the text that matched, as written in the message
    span: tuple[int, int] = (0, 0)  # where, in the message as given


@dataclass(frozen=True)
class Category:
    id: str
    rule_id: str
    description: str
    patterns: tuple[re.Pattern[str], ...]
    allowed_when: str | None = None
    only_when: str | None = None


@dataclass(frozen=True)
class BannedPhrases:
    categories: tuple[Category, ...]


def parse_banned_phrases(data: Any, source: str = "banned_phrases") -> BannedPhrases:
    """Validate already-parsed YAML; errors name the category and field."""
    if not isinstance(data, dict) or data.get("version") != 1:
        raise BannedPhrasesError(f"{source}: version: must be 1")
    raw = data.get("categories")
    if not isinstance(raw, list) or not raw:
        raise BannedPhrasesError(f"{source}: categories: must be a non-empty list")
    categories, seen = [], set()
    for index, entry in enumerate(raw):
        where = f"{source}: categories[{index}]"
        if not isinstance(entry, dict):
            raise BannedPhrasesError(f"{where}: must be a mapping")
        if isinstance(entry.get("id"), str):
            where = f"{source}: categories[{index}] ({entry['id']})"
        unknown = sorted(set(entry) - {"id", "rule_id", "description", "patterns", "allowed_when", "only_when"})
        if unknown:
            raise BannedPhrasesError(f"{where}.{unknown[0]}: unknown field")
        for field in ("id", "rule_id", "description"):
            if not isinstance(entry.get(field), str) or not entry[field].strip():
                raise BannedPhrasesError(f"{where}.{field}: missing or not text")
        if entry["id"] in seen:
            raise BannedPhrasesError(f"{where}.id: duplicate category id")
        seen.add(entry["id"])
        if not re.fullmatch(r"[A-Z]+-\d+", entry["rule_id"]):
            raise BannedPhrasesError(f"{where}.rule_id: must look like TONE-1, got {entry['rule_id']!r}")
        for field in ("allowed_when", "only_when"):
            if entry.get(field) is not None and entry[field] not in _FLAGS:
                raise BannedPhrasesError(f"{where}.{field}: must be one of {', '.join(_FLAGS)}, got {entry[field]!r}")
        patterns = entry.get("patterns")
        if not isinstance(patterns, list) or not patterns:
            raise BannedPhrasesError(f"{where}.patterns: must be a non-empty list of regexes")
        compiled = []
        for number, pattern in enumerate(patterns):
            if not isinstance(pattern, str) or not pattern:
                raise BannedPhrasesError(f"{where}.patterns[{number}]: must be a non-empty regex string")
            try:
                compiled.append(re.compile(pattern, re.IGNORECASE))
            except re.error as exc:
                raise BannedPhrasesError(f"{where}.patterns[{number}]: bad regex {pattern!r}: {exc}") from exc
        categories.append(Category(entry["id"], entry["rule_id"], entry["description"].strip(), tuple(compiled),
                                   entry.get("allowed_when"), entry.get("only_when")))
    return BannedPhrases(tuple(categories))


def load_banned_phrases(path: str | Path = DEFAULT_BANNED_PHRASES_PATH) -> BannedPhrases:
    """Load and validate policy/banned_phrases.yml (TONE-1, TBD-1)."""
    return parse_banned_phrases(read_yaml(path, BannedPhrasesError), Path(path).name)


@lru_cache(maxsize=1)
def default_banned_phrases() -> BannedPhrases:
    return load_banned_phrases(DEFAULT_BANNED_PHRASES_PATH)


# --- normalisation, with a map from each normalised character back to the message as given ---
_QUOTES = {"\u2018": "'", "\u2019": "'", "\u201b": "'", "\u2032": "'", "\u201c": '"', "\u201d": '"'}
_INVISIBLE = frozenset("\u00ad\u200b\u200c\u200d\u2060\ufeff")
# Simple look-alike swaps inside words ($ue, arr3st, j@il); digits-only tokens such as $50.00 are left alone.
_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i", "|": "l"}
_TOKEN = re.compile(r"[A-Za-z0-9@$!|]+")


def _normalise(text: str) -> tuple[str, list[int]]:
    """NFKC, straight quotes, invisible characters dropped (s\u200bue is "sue"), whitespace runs collapsed to one
    space. Case is left to the regexes. Returns the text and, for each of its characters, the original index."""
    chars: list[str] = []
    origin: list[int] = []
    for index, ch in enumerate(text):
        if ch in _INVISIBLE:
            continue
        for folded in unicodedata.normalize("NFKC", _QUOTES.get(ch, ch)):
            folded = _QUOTES.get(folded, folded)
            if folded.isspace():
                if chars and chars[-1] == " ":
                    continue
                folded = " "
            chars.append(folded)
            origin.append(index)
    return "".join(chars), origin


def _deleet(text: str) -> str:
    def swap(match: re.Match[str]) -> str:
        token = match.group(0)
        if sum(c.isalpha() for c in token) < 2 or not any(c in _LEET for c in token):
            return token
        last = len(token) - 1
        return "".join(_LEET[c] if c in _LEET and (i < last or c.isdigit()) else c for i, c in enumerate(token))

    return _TOKEN.sub(swap, text)


# TONE-1: letters spelled out one at a time ("s u e d", "g-a-r-n-i-s-h-e-d", "j.a.i.l", "s_u_e"; zero-width
# characters are already gone) are read as the word they spell: a run of at least three single characters, at least
# two of them letters, separated by spaces, hyphens, dots, underscores or asterisks. A look-alike digit among them
# counts ("j a 1 l"), so _deleet still undoes it. Ordinary text has no such runs ("Plan A or B" has two).
_ONE = r"(?:[^\W_]|[@$])"  # one letter, digit or look-alike sign
_SPELLED = re.compile(rf"(?<![^\W_]){_ONE}(?:[\s\-._*]{{1,3}}{_ONE}(?![^\W_])){{2,}}")
# A spelled-out run may start with a one-letter word ("a d e m a n d a r", "I s u e"): it is read both ways.
_ONE_LETTER_WORDS = frozenset("aAiIyYoOeEuU")
# Letters drawn out ("suuued", "jaaaail"): a run of three or more of one letter is read as one, and as two
# ("arrrrest" is "arrest"). A letter doubled only once is left as written (real words double letters).
_DRAWN_OUT = re.compile(r"([A-Za-z])\1{2,}")


def _join_spelled(text: str, origin: list[int], skip_word: bool = False) -> tuple[str, list[int]]:
    """The text with spelled-out runs joined, and its map back to the message as given. `skip_word`: a run that
    starts with a one-letter word keeps that word apart."""
    chars: list[str] = []
    kept: list[int] = []
    last = 0
    for match in _SPELLED.finditer(text):
        start = match.start()
        if skip_word and text[start] in _ONE_LETTER_WORDS and text[start + 1] == " ":
            start += 2
        if sum(c.isalpha() for c in text[start:match.end()]) < 2:
            continue
        chars.extend(text[last:start])
        kept.extend(origin[last:start])
        for index in range(start, match.end()):
            if not (text[index].isspace() or text[index] in "-._*"):
                chars.append(text[index])
                kept.append(origin[index])
        last = match.end()
    chars.extend(text[last:])
    kept.extend(origin[last:])
    return "".join(chars), kept


def _drawn_out(text: str, origin: list[int], keep: int) -> tuple[str, list[int]]:
    """Runs of three or more of one letter shortened to `keep` letters."""
    chars: list[str] = []
    kept: list[int] = []
    last = 0
    for match in _DRAWN_OUT.finditer(text):
        chars.extend(text[last:match.start() + keep])
        kept.extend(origin[last:match.start() + keep])
        last = match.end()
    chars.extend(text[last:])
    kept.extend(origin[last:])
    return "".join(chars), kept


def _readings(text: str) -> list[tuple[str, list[int]]]:
    """Every way the lint reads a message, each with its map back to the message as given: as normalised, with
    look-alikes swapped back, spelled-out letters joined and drawn-out letters shortened (TONE-1). Usually all of
    them are the same text, and it is scanned once."""
    plain, origin = _normalise(text)
    readings = [(plain, origin), (_deleet(plain), origin)]
    if _SPELLED.search(plain):
        for skip_word in (False, True):
            joined, kept = _join_spelled(plain, origin, skip_word)
            readings += [(joined, kept), (_deleet(joined), kept)]
    if _DRAWN_OUT.search(plain):
        for keep in (1, 2):
            readings.append(_drawn_out(readings[1][0], origin, keep))
    unique: dict[str, list[int]] = {}
    for reading, kept in readings:
        unique.setdefault(reading, kept)
    return list(unique.items())


def _applies(category: Category, *, time_barred: bool, lawful_legal_action: bool) -> bool:
    if category.only_when == "time_barred" and not time_barred:
        return False
    # TONE-1: legal action may be mentioned only when lawful and intended. TBD-1: a time-barred debt cannot be
    # lawfully sued on, so the flag never applies there.
    if category.allowed_when == "lawful_legal_action" and lawful_legal_action and not time_barred:
        return False
    return True


# OPT-2: CANCEL is an opt-out keyword, so the bot never asks anyone to send it for anything else.
_CANCEL_INSTRUCTION = re.compile(
    r"\b(?:reply|replying|text|texting|send|sending|respond|responding|type|typing|write|writing|answer|enter)"
    r"\s+(?:back\s+)?(?:with\s+)?(?:the\s+word\s+)?[\"'\u201c\u2018]?cancel\b"
    # Spanish: CANCELAR and BAJA opt out too (bot/compliance/keywords.py), so "responda CANCELAR para cancelar el
    # plan" would end every text instead.
    r"|\b(?:responda|responde|conteste|contesta|escriba|escribe|mande|manda|envie|envia|textee)\s+"
    r"(?:la\s+palabra\s+)?[\"'\u201c\u2018]?(?:cancelar|baja|parar|alto)\b(?!\s+(?:para\s+no|si\s+ya\s+no))",
    re.IGNORECASE,
)


def lint(text: str, *, time_barred: bool = False, lawful_legal_action: bool = False,
         phrases: BannedPhrases | None = None) -> list[Violation]:
    """TONE-1 / TBD-1 / OPT-2: every banned claim in an outbound message, in order of appearance.

    time_barred: the debt is past the statute of limitations: no mention of suit, court or legal action at all.
    lawful_legal_action: the account is flagged as one where legal action is lawful and intended; suing and
    garnishing may then be mentioned (ignored on time-barred debts). An empty list means the text is clean.
    """
    if phrases is None:
        return list(_lint_with_default_phrases(text, time_barred, lawful_legal_action))
    return _lint(text, time_barred, lawful_legal_action, phrases)


@lru_cache(maxsize=4096)
def _lint_with_default_phrases(text: str, time_barred: bool, lawful_legal_action: bool) -> tuple[Violation, ...]:
    # The bot's replies are mostly the same few hundred texts and every check is a pure function of the text and
    # the two flags; scanning a reply against every pattern cost a millisecond of each turn.
    return tuple(_lint(text, time_barred, lawful_legal_action, default_banned_phrases()))


def _lint(text: str, time_barred: bool, lawful_legal_action: bool, policy: BannedPhrases) -> list[Violation]:
    readings = _readings(text)

    def spans_of(pattern: re.Pattern[str]) -> list[tuple[int, int]]:
        return [(origin[m.start()], origin[m.end() - 1] + 1) for reading, origin in readings
                for m in pattern.finditer(reading) if m.end() > m.start()]

    found: list[Violation] = []
    for category in policy.categories:
        if not _applies(category, time_barred=time_barred, lawful_legal_action=lawful_legal_action):
            continue
        for start, end in _merge([span for pattern in category.patterns for span in spans_of(pattern)]):
            found.append(Violation(category.rule_id, category.id, text[start:end], (start, end)))
    for start, end in _merge(spans_of(_CANCEL_INSTRUCTION)):
        found.append(Violation("OPT-2", "cancel_instruction", text[start:end], (start, end)))
    return sorted(found, key=lambda v: (v.span, v.rule_id, v.category))


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """One violation per stretch of text, however many patterns hit it."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def mentions_cancel_instruction(text: str) -> bool:
    """OPT-2: does the text tell the debtor to reply or text CANCEL? (CANCEL would opt them out.)"""
    plain, _ = _normalise(text)
    return bool(_CANCEL_INSTRUCTION.search(plain) or _CANCEL_INSTRUCTION.search(_deleet(plain)))


_ACCENTED = {"a": "aá", "e": "eé", "i": "ií", "o": "oó", "u": "uúü", "n": "nñ"}


def _found_anyhow(key: str) -> tuple[re.Pattern[str], ...]:
    """The catalogue's sentence `key`, in every language, as patterns that also find it re-cased, re-spaced, hyphenated
    ("opt-out"), run together ("optout"), without its accents or without its full stop: built from the wording, so a
    reworded line is still found and taken out."""
    patterns = []
    for language in wording.LANGUAGES:
        sentence = unicodedata.normalize("NFD", wording.say(key, language))
        plain = "".join(ch for ch in sentence if not unicodedata.combining(ch))
        loose = ["".join(f"[{_ACCENTED[ch.lower()]}]" if ch.lower() in _ACCENTED else re.escape(ch) for ch in word)
                 for word in re.findall(r"[^\W_]+", plain)]
        patterns.append(re.compile(r"\s*\b" + r"[\s-]*".join(loose) + r"\b\.?", re.IGNORECASE))
    return tuple(patterns)


# OPT-1: the opt-out line in any case or spacing, with or without its full stop, in either language. Both are
# taken out before the debtor's own is put at the end, so a Spanish text never carries the English line too.
_OPT_OUT_RES = _found_anyhow("opt_out_line")


def _without_opt_out_lines(text: str) -> str:
    for pattern in _OPT_OUT_RES:
        text = pattern.sub("", text)
    return text


def with_opt_out_line(text: str, language: str | None = None) -> str:
    """OPT-1: the text ending in the opt-out line of `language` ("Reply STOP to opt out." / "Responda ALTO para no
    recibir más mensajes.") exactly once. Idempotent; an existing line anywhere in the text is moved to the end
    rather than repeated."""
    line = wording.say("opt_out_line", language)
    body = _without_opt_out_lines(text).strip()
    if not body:
        return line
    if body[-1] not in ".!?":
        body += "."
    return f"{body} {line}"


def has_opt_out_line(text: str, language: str | None = None) -> bool:
    """OPT-1 template lint: ends with the opt-out line of `language`, and has one only once."""
    found = sum(len(pattern.findall(text)) for pattern in _OPT_OUT_RES)
    return text.rstrip().endswith(wording.say("opt_out_line", language)) and found == 1


_NOTICE_RES = _found_anyhow("from_debt_collector")  # DISC-2, found the same way


def with_debt_collector_notice(text: str, language: str | None = None) -> str:
    """DISC-2: the text starting with "This message is from a debt collector." (or its Spanish, for `language`)
    exactly once. Idempotent.

    A message that already opens with the full DISC-1 disclosure (in either language) already says it and is
    returned unchanged."""
    opening = text.lstrip().lower()
    if any(opening.startswith(wording.say("debt_collector_disclosure", each).lower()) for each in wording.LANGUAGES):
        return text.strip()
    notice = wording.say("from_debt_collector", language)
    body = text
    for pattern in _NOTICE_RES:
        body = pattern.sub("", body)
    body = body.strip()
    return f"{notice} {body}" if body else notice
