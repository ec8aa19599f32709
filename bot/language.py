"""The language of a conversation, English or Spanish, from the debtor's own words.

- Asked for by name ("English please", "en español", "in spanish", "hablo ingles"): switched at once and kept;
  detection never switches a language the debtor chose (it may be a Spanish speaker quoting an English letter).
- Otherwise read by a statistical detector (lingua, restricted to English and Spanish: bilingual n-gram models,
  offline, about 0.7 s to load the two models on first use). Only a message with enough words to judge switches
  anything: "si", "ok", "no", digits, dates, an amount or a name never do (they read the same in both languages,
  and a date or "1" picks a button).
- Sure (the winning language's confidence at least SURE): the conversation switches. Unsure (at least LEANS but
  under SURE) and leaning away from the current language: the bilingual question is asked once
  ("¿Prefiere español? / Prefer English?") and its answer decides.
- A message that agrees with the language the conversation is already spoken to in makes that language the
  conversation's own, on a weaker sign than a switch needs (`shows`: "pay now", "what do I owe?"), default English
  included. LANG-1: the language the person writes in, in this conversation, wins over the one stored on the
  debtor, which is only a default for outreach and for a conversation that has not shown its language yet.
- An opt-out or help keyword is a sure sign of its language (ALTO and AYUDA are Spanish, STOP and HELP English):
  the confirmation and every later answer follow it (OPT-3, LANG-1). START has no Spanish twin: no sign.
- The language is kept on the conversation, on the contact address (ContactPreference) and, once the
  conversation knows its debtor, on the debtor: reminders, notices and receipts follow the debtor's language, a
  new conversation from the same address starts in it, and the agent's console shows it.

Plain Python over the session: no Rasa, no HTTP. The gateway's pipeline calls observe() on every inbound message.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from typing import TYPE_CHECKING

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from bot import contact_preferences, wording
from bot.db.models import ContactPreference, Conversation, Debtor

if TYPE_CHECKING:
    from lingua import LanguageDetector

ENGLISH, SPANISH = wording.ENGLISH, wording.SPANISH
SURE = 0.90  # lingua's relative confidence, English vs Spanish (the two add up to 1)
LEANS = 0.70
MIN_WORDS = 2  # one word is never enough: "no", "si", "hola", "ok", "cancel" are either language
MIN_LETTERS = 7

_EXPLICIT = {
    SPANISH: re.compile(
        r"^(?:(?:en|in) )?(?:espanol|spanish)(?: (?:por favor|porfa|please|pls|plz))?$"
        r"|\b(?:en|in) (?:espanol|spanish)\b"
        r"|\b(?:hablo|habla|hablas|hablan|speak|talk|write) (?:en )?(?:espanol|spanish)\b"
        r"|\bspanish please\b|\bespanol por favor\b"),
    ENGLISH: re.compile(
        r"^(?:(?:en|in) )?(?:english|ingles)(?: (?:por favor|porfa|please|pls|plz))?$"
        r"|\b(?:en|in) (?:english|ingles)\b"
        r"|\b(?:hablo|habla|hablas|hablan|speak|talk|write) (?:en )?(?:english|ingles)\b"
        r"|\benglish please\b|\bingles por favor\b"),
}
_NAMES = re.compile(r"\b(?:espanol|spanish|english|ingles)\b")
# Answers to the language question that name a language without asking for it in a sentence.
_ANSWERS = {SPANISH: {"espanol", "spanish", "es", "si", "sii", "1"}, ENGLISH: {"english", "ingles", "en", "2"}}
# A whole message that names a language and nothing else: the answer is the confirmation alone, no dialogue turn.
_ONLY_A_LANGUAGE = re.compile(
    r"^(?:(?:en|in) )?(?:espanol|spanish|english|ingles)(?: (?:por favor|porfa|please|pls|plz))?$")


def plain(text: str) -> str:
    """Lower case, accents dropped ("Español" is "espanol", as many type it), punctuation as single spaces."""
    folded = "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))
    return re.sub(r"[\W_]+", " ", folded).strip()


def asked_for(text: str) -> str | None:
    """The language the message asks for by name ("English please", "en español"), else None."""
    words = plain(text)
    if len(_NAMES.findall(words)) > 1:
        return None  # "do you speak english or spanish?" asks for neither
    hits = [language for language, pattern in _EXPLICIT.items() if pattern.search(words)]
    return hits[0] if len(hits) == 1 else None


def only_names_a_language(text: str) -> bool:
    return bool(_ONLY_A_LANGUAGE.match(plain(text)))


def judgeable(text: str) -> bool:
    """Enough words to tell the two languages apart: digits, dates, amounts and one-word replies are not."""
    words = [w for w in plain(text).split() if w.isalpha()]
    return len(words) >= MIN_WORDS and sum(len(w) for w in words) >= MIN_LETTERS


@lru_cache(maxsize=1)
def _detector() -> LanguageDetector:
    from lingua import Language, LanguageDetectorBuilder  # 0.7 s of model loading, paid once and only when used

    return LanguageDetectorBuilder.from_languages(Language.ENGLISH, Language.SPANISH).build()


@dataclass(frozen=True)
class Reading:
    """What the detector makes of a message: the likelier language and how sure (None: not judgeable)."""

    language: str | None
    confidence: float = 0.0

    @property
    def sure(self) -> bool:
        return self.language is not None and self.confidence >= SURE


def detect(text: str) -> Reading:
    if not judgeable(text):
        return Reading(None)
    return _read(text)


# Spanish's opening marks: no one writing English starts a question with "¿" or an exclamation with "¡", while the
# detector reads short Spanish questions weakly ("¿Me van a demandar si no pago?" 0.66, "¿eres un robot?" 0.52 English).
_SPANISH_MARKS = re.compile(r"[¿¡]\s*[^\W\d_]")


# LANG-1: words no message in English holds. A short request the detector only leans Spanish on ("cancelen el pago
# automatico" read short of SURE, and got the language question with English replies) is sure with two of them: a
# clear request in Spanish is answered in Spanish. One is not enough ("pago" may be a name; "ayuda" a keyword).
_SPANISH_ONLY = frozenset(
    "necesito necesita necesitamos quiero quisiera queremos cancelen cancele cancelar cancela ayuda ayudeme ayudenme "
    "ayudar cuenta cuentas pago pagos pagar automatico automaticos automatica deuda debo saldo cuanto puedo podria "
    "tengo tiene mis usted ustedes dejen manden mandar mensajes cobro cobros cobrar quitar quiten paren detengan "
    "tarjeta cheque gracias favor hablar persona".split())
SPANISH_WORDS_FOR_SURE = 2


def _read(text: str) -> Reading:
    if _SPANISH_MARKS.search(text):
        return Reading(SPANISH, 1.0)
    values = _detector().compute_language_confidence_values(text)
    if not values or values[0].value <= 0:
        return Reading(None)
    top = values[0]
    reading = Reading(SPANISH if top.language.name == "SPANISH" else ENGLISH, float(top.value))
    if reading.language == SPANISH and not reading.sure and reading.confidence >= LEANS and \
            len(_SPANISH_ONLY.intersection(plain(text).split())) >= SPANISH_WORDS_FOR_SURE:
        return Reading(SPANISH, 1.0)
    return reading


def shows(text: str) -> Reading:
    """The language a message shows for a conversation that has none of its own yet, when it agrees with the one
    the conversation is already spoken to in (a weaker sign than a switch needs: nothing changes for the person,
    the language only stops being borrowed from the debtor). A judgeable message that leans (LEANS: "what do I
    owe?" reads 0.88 English), or two words the detector is sure of (SURE: "pay now"); one word, digits, dates and
    amounts never ("si", "ok", "hola", "1", "$50" read the same in both languages)."""
    words = [w for w in plain(text).split() if w.isalpha()]
    if len(words) < MIN_WORDS:
        return Reading(None)
    reading = _read(text)
    needed = LEANS if judgeable(text) else SURE
    return reading if reading.language is not None and reading.confidence >= needed else Reading(None)


@dataclass(frozen=True)
class Observation:
    """What one inbound message did to the conversation's language, and what to say about it (if anything)."""

    language: str  # the conversation's language after this message
    switched: bool = False
    replies: tuple[str, ...] = ()  # said instead of a dialogue turn (the message only named a language)
    prefix: tuple[str, ...] = ()  # said before the dialogue's answer (the language question)


def current(session: Session, conversation: Conversation) -> str:
    """The conversation's language; a new one starts in its address's or its debtor's language, else English."""
    return known(session, conversation) or ENGLISH


def known(session: Session, conversation: Conversation) -> str | None:
    """The conversation's own language, else its address's, else its debtor's; None when none is known."""
    return known_for(session, [conversation])[conversation.id]


def current_for(session: Session, conversations: Sequence[Conversation]) -> dict[str, str]:
    """`current` of many conversations (by id) in at most two queries: the agents' queue shows each row's."""
    return {cid: language or ENGLISH for cid, language in known_for(session, conversations).items()}


def known_for(session: Session, conversations: Sequence[Conversation]) -> dict[str, str | None]:
    """`known` of many conversations, by id: their own language, else their address's, else their debtor's."""
    found: dict[str, str | None] = {c.id: c.language or None for c in conversations}
    unknown = [c for c in conversations if not c.language]
    if not unknown:
        return found
    by_address = _address_languages(session, {(c.channel, c.external_id) for c in unknown})
    for conversation in unknown:
        found[conversation.id] = by_address.get((conversation.channel, conversation.external_id))
    by_debtor = _debtor_languages(session, {c.debtor_id for c in unknown if found[c.id] is None and c.debtor_id})
    for conversation in unknown:
        if found[conversation.id] is None and conversation.debtor_id:
            found[conversation.id] = by_debtor.get(conversation.debtor_id)
    return found


def _address_languages(session: Session, addresses: set[tuple[str, str]]) -> dict[tuple[str, str], str | None]:
    return {(channel, address): language for channel, address, language in session.execute(
        select(ContactPreference.channel, ContactPreference.address, ContactPreference.language).where(
            tuple_(ContactPreference.channel, ContactPreference.address).in_(addresses)))}


def _debtor_languages(session: Session, debtor_ids: set[str]) -> dict[str, str | None]:
    if not debtor_ids:
        return {}
    return dict(session.execute(select(Debtor.id, Debtor.language).where(Debtor.id.in_(debtor_ids))).all())


def contact_language(session: Session, channel: str, address: str) -> str | None:
    return session.scalar(select(ContactPreference.language).where(
        ContactPreference.channel == channel, ContactPreference.address == address))


def for_debtor(session: Session, debtor_id: str | None) -> str:
    """The language bot-initiated messages to a debtor are written in (reminders, notices, receipts)."""
    debtor = session.get(Debtor, debtor_id) if debtor_id else None
    return wording.language_or_default(debtor.language if debtor is not None else None)


def for_contact(session: Session, channel: str, address: str | None, debtor_id: str | None) -> str:
    """The language of a bot-initiated message (reminder, notice, receipt, campaign) to this address about this
    debtor: the debtor's (set_language keeps it current in every conversation), else the one last used from the
    address, else English. Its body and its DISC-2 and OPT-1 lines (bot/compliance/outbound_gate.py) all use it."""
    debtor = session.get(Debtor, debtor_id) if debtor_id else None
    if debtor is not None and debtor.language:
        return wording.language_or_default(debtor.language)
    remembered = contact_language(session, channel, address) if address else None
    return wording.language_or_default(remembered)


def for_address(session: Session, channel: str, address: str) -> str:
    """The language of a message to an address whose debtor the caller does not know (an email's template): the
    debtor with that phone or email address, else the address's own, as for_contact reads them."""
    return wording.language_or_default(known_for_address(session, channel, address))


def known_for_address(session: Session, channel: str, address: str) -> str | None:
    """As for_address, but None when neither the address nor a debtor with it has a language (a page may then
    follow the browser's)."""
    column = Debtor.phone if channel == "sms" else func.lower(Debtor.email)
    wanted = address if channel == "sms" else address.strip().lower()
    spoken = session.scalar(select(Debtor.language).where(column == wanted, Debtor.language.is_not(None)).limit(1))
    known = spoken or contact_language(session, channel, address)
    return known if known in wording.LANGUAGES else None


def suggest(session: Session, conversation: Conversation, language: str | None) -> None:
    """The language the debtor's device prefers (the widget's browser), before anything is said: the conversation
    starts in it through its address, but it is not the debtor's choice: not kept on the conversation or the
    debtor, and their own words switch it as usual. Ignored when a language is already known or we do not write
    in it."""
    if language not in wording.LANGUAGES or known(session, conversation) is not None:
        return
    contact_preferences.preference_for(session, conversation.channel, conversation.external_id).language = language


def set_language(session: Session, conversation: Conversation, language: str, *, confirmed: bool,
                 now: datetime | None = None) -> None:
    """Keep `language` on the conversation, its contact address and its debtor (when known)."""
    now = now or datetime.now(timezone.utc)
    conversation.language = language
    conversation.language_asked_at = None
    if confirmed:
        conversation.language_confirmed_at = now
    contact_preferences.preference_for(session, conversation.channel, conversation.external_id).language = language
    if conversation.debtor_id:
        debtor = session.get(Debtor, conversation.debtor_id)
        if debtor is not None:
            debtor.language = language


def observe(session: Session, conversation: Conversation, text: str, now: datetime | None = None, *,
            keyword: str | None = None) -> Observation:
    """Read one inbound message for its language: switch, ask, keep, or leave the conversation as it is.

    `keyword`: the language of the opt-out or help keyword the whole message is (bot/compliance/keywords.py
    `language_of`), a sure sign like a sentence (OPT-3: ALTO's confirmation and the one later answer in Spanish).
    A language the person asked for by name is never undone by a sign, a keyword's included."""
    language = current(session, conversation)
    named = asked_for(text)
    if conversation.language_asked_at is not None and named is None:
        named = next((lang for lang, answers in _ANSWERS.items() if plain(text) in answers), None)
    if named is not None:
        set_language(session, conversation, named, confirmed=True, now=now)
        alone = only_names_a_language(text) or plain(text) in _ANSWERS[named]
        return Observation(named, named != language, (wording.say("language_now", named),) if alone else ())
    if conversation.language_confirmed_at is not None:
        return Observation(language)
    reading = Reading(keyword, 1.0) if keyword in wording.LANGUAGES else detect(text)
    if reading.language is None or reading.language == language:
        # LANG-1: a conversation spoken to in a borrowed language (the default, its address's, the debtor's) keeps
        # it as its own once the person writes in it, so the debtor's stored language never takes it over later.
        if conversation.language != language:  # only a borrowed language is kept: no reading for the others
            sign = reading if reading.language is not None else shows(text)
            if sign.language == language and sign.confidence >= LEANS:
                set_language(session, conversation, language, confirmed=False, now=now)
        return Observation(language)
    if reading.sure:
        set_language(session, conversation, reading.language, confirmed=False, now=now)
        return Observation(reading.language, switched=True)
    if reading.confidence >= LEANS and conversation.language_asked_at is None:
        conversation.language_asked_at = now or datetime.now(timezone.utc)
        return Observation(language, prefix=(wording.say("language_question", language),))
    return Observation(language)


def on_verified(session: Session, conversation: Conversation, debtor: Debtor) -> None:
    """The conversation now knows its debtor: a language the debtor used here becomes theirs. A conversation with
    no language of its own yet (only short replies so far) keeps the one its address declared (the widget's page or
    browser: LANG-1, it is what the person has been reading), else takes the one the debtor used before, kept on
    the conversation so that the debtor's other conversations never switch this one mid-way."""
    if conversation.language:
        debtor.language = conversation.language
    elif contact_language(session, conversation.channel, conversation.external_id) in wording.LANGUAGES:
        return
    elif debtor.language:
        conversation.language = debtor.language


def known_about(session: Session, conversation: Conversation | None, debtor_id: str | None) -> str | None:
    """The language of a message about something the debtor did in a conversation (a receipt, the pages around a
    pay link): the conversation's (`known`: its own, its address's, its debtor's), else the debtor's; None when none
    is known. LANG-1: the one precedence, here."""
    spoken = known(session, conversation) if conversation is not None else None
    if spoken in wording.LANGUAGES:
        return spoken
    debtor = session.get(Debtor, debtor_id) if debtor_id else None
    return debtor.language if debtor is not None and debtor.language in wording.LANGUAGES else None
