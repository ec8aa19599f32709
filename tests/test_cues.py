"""VUL-2 self-harm cues and VUL-1 military cues (bot/compliance/cues.py): pure functions of the text, tabled."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.compliance import tone
from bot.compliance.cues import is_crisis, military_cue, normalise
from bot.compliance.sensitive_requests import CRISIS_LINE, MILITARY_REPLY

# VUL-2: how people text it. Curly apostrophes on purpose in some.
CRISIS_POSITIVES = [
    "I can\u2019t go on",
    "i cant go on like this",
    "I CANNOT GO ON",
    "I want to die",
    "i just wanna die",
    "honestly I'm giving up on everything",
    "I gave up on life",
    "thinking about killing myself",
    "I'm going to kill myself",
    "kms",
    "I'm suicidal",
    "I've had suicidal thoughts",
    "I want to end it all",
    "end-it-all tonight",
    "I want to end my life",
    "I don\u2019t want to be here anymore",
    "I don't want to live anymore",
    "there's no reason to live",
    "I have nothing to live for",
    "everyone would be better off dead without me",
    "they'd be better off without me",
    "i'd be better off dead",
    "I want to hurt myself",
    "I've been cutting myself again",
    "self-harm",
    "I wish I was dead",
    "I wish I wasn't alive",
    "I'll die before I pay",  # ambiguous; the stricter reading counts it
    "I'd rather die than pay this",
    "I'm going to die",
    "I'm thinking of taking all my pills",
    "i might overdose",
    "I can't take it anymore",
    "I hope I don't wake up tomorrow",
    "I'm tired of living",
    "life isn't worth it",
    "what's the point, I'm done living",
]

# Ordinary debt talk and bereavement: not crisis cues (bereavement and hardship go to the NLU's intents).
CRISIS_NEGATIVES = [
    "this debt is killing me",  # hardship, not a crisis (documented in cues.py)
    "these fees are killing me",
    "medical bills are killing me",
    "can i go on a payment plan",
    "I can't go on vacation this year",
    "I can't go online right now",
    "my husband died last month",
    "my mother passed away",
    "sorry my phone is about to die",
    "my car died so I can't get to work",
    "I'm dead tired",
    "I'm dying to get this paid off",
    "I give up on this payment plan",
    "I want to end the plan",
    "kill the autopay please",
    "we drove 50 kms",
    "i lost my job",
    "I'm in the army",
    "how much do I owe?",
    "I hurt my back at work",
]


@pytest.mark.parametrize("text", CRISIS_POSITIVES)
def test_VUL_2_self_harm_phrasings_are_crisis_cues(text):
    """VUL-2. Mutation tried: `is_crisis` returned `_CRISIS.search(text)` without `normalise` (curly apostrophes,
    upper case and hyphens then missed) and the "want to die" pattern deleted: both made this test fail."""
    assert is_crisis(text)


@pytest.mark.parametrize("text", CRISIS_NEGATIVES)
def test_VUL_2_ordinary_debt_talk_and_bereavement_are_not_crisis_cues(text):
    """VUL-2. Mutation tried: the lookahead after "can't go on" removed: "I can't go on vacation this year" then
    matched and this test (and its hypothesis twin below) failed."""
    assert not is_crisis(text)


_APOSTROPHE_VARIANTS = ["'", "\u2019", "\u2018", "\u02bc", "`", "\u00b4", "\u2032", "\uff07", ""]


@st.composite
def _variant(draw: st.DrawFn, texts: list[str]) -> str:
    """A table entry with each letter's case flipped at random and each apostrophe swapped for a look-alike."""
    text = draw(st.sampled_from(texts))
    out = []
    for ch in text:
        if ch in "'\u2019":
            out.append(draw(st.sampled_from(_APOSTROPHE_VARIANTS)))
        elif ch.isalpha():
            out.append(ch.upper() if draw(st.booleans()) else ch.lower())
        else:
            out.append(ch)
    return "".join(out)


@given(_variant(CRISIS_POSITIVES))
def test_VUL_2_case_and_apostrophe_variants_of_crisis_cues_still_match(text):
    """VUL-2. Mutation tried: `\u00b4` dropped from the apostrophe set (NFKC turns it into a space, so "can\u00b4t"
    became "can t"): hypothesis found it at once."""
    assert is_crisis(text)


@given(_variant(CRISIS_NEGATIVES))
def test_VUL_2_case_and_apostrophe_variants_of_ordinary_talk_stay_clean(text):
    assert not is_crisis(text)


def test_VUL_2_normalise_folds_case_apostrophes_and_punctuation():
    assert normalise("I CAN\u2019T  go-on\u200b!") == "i cant go on"


# VUL-1: military service, the debtor's or their family's.
MILITARY_POSITIVES = [
    "I'm on active duty",
    "I'm deployed overseas",
    "my husband is being deployed next month",
    "I'm in the Army",
    "i'm in the navy",
    "I'm in the marines",
    "I serve in the Air Force",
    "I'm in the Coast Guard",
    "I'm in the national guard",
    "I just joined the Space Force",
    "I'm in the reserves",
    "I live on base",
    "I'm stationed in Germany",
    "Does the SCRA apply to me?",
    "I'm a servicemember",
    "I have military orders",
    "we have PCS orders",
    "we're PCSing in June",
    "I'm a marine",
    "I'm a soldier",
    "I'm a veteran",
    "I'm at basic training",
    "US Army",
]

MILITARY_NEGATIVES = [
    "I have an army of bill collectors calling me",
    "I donate to the Salvation Army",
    "my navy blue car was repossessed",
    "I'm studying marine biology",
    "a customer service member told me it was paid",
    "I'll soldier on and pay",
    "you're way off base",
    "I bought 2 pcs of furniture",
    "I have money in reserve",
    "based on my last statement",
    "my vet bills are huge",
    "I lost my job",
]


@pytest.mark.parametrize("text", MILITARY_POSITIVES)
def test_VUL_1_military_phrasings_are_cues(text):
    """VUL-1. Mutation tried: military_cue searched `text` without `normalise` ("I'm in the Army" then missed,
    upper case and the apostrophe), and the "in the <branch>" pattern deleted: both made this test fail."""
    assert military_cue(text)


@pytest.mark.parametrize("text", MILITARY_NEGATIVES)
def test_VUL_1_everyday_uses_of_military_words_are_not_cues(text):
    """VUL-1. Mutation tried: bare `army` put back in the pattern list (the old check): "an army of bill
    collectors" and "the Salvation Army" then matched and this test failed."""
    assert not military_cue(text)


@given(_variant(MILITARY_POSITIVES))
def test_VUL_1_case_and_apostrophe_variants_of_military_cues_still_match(text):
    assert military_cue(text)


def test_VUL_1_and_VUL_2_replies_pass_the_tone_lint_and_never_mention_a_command():
    for reply in (MILITARY_REPLY.format(support="help@example.com"), CRISIS_LINE):
        assert tone.lint(reply) == []
        assert "command" not in reply.lower() and "officer" not in reply.lower()


# VUL-1 in Spanish, as US Spanish speakers text it: no accents, Spanglish, family members.
SPANISH_MILITARY_POSITIVES = [
    "mi esposo está en el ejército",
    "mi esposo esta en el ejercito",
    "Soy veterano de la marina",
    "estoy desplegado en Alemania hasta marzo",
    "a mi hijo lo deployaron el mes pasado",
    "mi esposo esta en el army y no puedo pagar",
    "vivimos en la base militar",
    "ahorita estoy en la base",
    "soy militar activo",
    "me mandaron ordenes de despliegue",
    "mi hija está en la Guardia Nacional",
    "sirvo en la fuerza aérea",
    "mi esposo es soldado",
    "está en la reserva del ejército",
    "mi papa es veterano",
    "me uni a los marines",
]
SPANISH_MILITARY_NEGATIVES = [
    "un ejército de cobradores me llama todos los días",
    "Marina es mi hermana y me ayuda a pagar",
    "la base de datos tiene mi dirección vieja",
    "tengo una reserva en el hotel",
    "quiero pagar la base de mi deuda",
    "me desespero con tantas llamadas",
    "no puedo pagar este mes",
]


@pytest.mark.parametrize("text", SPANISH_MILITARY_POSITIVES)
def test_VUL_1_spanish_military_phrasings_are_cues(text):
    """VUL-1 in Spanish (issue 23). Mutation tried: military_cue without the SPANISH_MILITARY_PATTERNS search
    (every Spanish phrasing but the ones with an English word such as "army" missed)."""
    assert military_cue(text)


@pytest.mark.parametrize("text", SPANISH_MILITARY_NEGATIVES)
def test_VUL_1_everyday_spanish_uses_of_military_words_are_not_cues(text):
    assert not military_cue(text)


def test_VUL_1_a_spanish_military_cue_is_flagged_handed_off_and_answered_in_spanish(sqlite_engine):
    """Through the inbound gate's call (sensitive_requests.military_cue): the same flag and handoff as in English,
    and the reply in the conversation's language, still never mentioning a command."""
    from datetime import datetime, timezone

    from sqlalchemy import select

    from bot import conversations, wording
    from bot.compliance import sensitive_requests
    from bot.db import session_scope
    from bot.db.models import AuditEvent, Handoff
    from tests.conftest import add_debtor

    with session_scope(sqlite_engine) as session:
        debtor, account = add_debtor(session)
        conv = conversations.get_or_create(session, "rest", "web-es")
        conv.debtor_id, conv.account_id, conv.verified_at = debtor.id, account.id, datetime.now(timezone.utc)
        conv.language = "es"
        replies = sensitive_requests.military_cue(session, conv.id, "mi esposo esta desplegado", "help@x.com")
        assert [e.rule_id for e in session.scalars(select(AuditEvent).where(AuditEvent.kind == "military_cue"))] \
            == ["VUL-1"]
        assert session.scalars(select(Handoff)).one().reason == "military"
    assert replies == [wording.say("military_reply", "es", support="help@x.com")]
    assert "fuerzas armadas" in replies[0] and "comandante" not in replies[0] and "mando" not in replies[0]
    assert tone.lint(replies[0]) == []
