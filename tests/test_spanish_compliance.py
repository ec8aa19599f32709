"""Compliance in Spanish (issue 23): crisis cues with the Spanish 988 option (VUL-2), the tone lint's banned claims
in Spanish (TONE-1, TBD-1), and every Spanish text of ours clean under that same lint."""

from __future__ import annotations

import pytest

from bot import conversations, language, wording
from bot.compliance import sensitive_requests, tone
from bot.compliance.cues import is_crisis
from bot.db import session_scope

CRISIS_ES = [
    "me quiero morir", "Ya no quiero vivir", "quiero matarme", "me voy a quitar la vida", "pienso en suicidarme",
    "no vale la pena seguir viviendo", "me voy a hacer daño", "me voy a hacer dano", "YA NO AGUANTO MÁS",
    "estarian mejor sin mi", "no puedo mas", "ojala me muriera", "voy a acabar con todo",
    "me quiero tirar de un puente", "me voy a tomar todas las pastillas... tomarme todas las pastillas",
]
NOT_CRISIS_ES = [
    "esta deuda me esta matando", "me muero de hambre", "me muero de risa", "se murio mi mama el mes pasado",
    "mi telefono se murio", "no puedo mas de 50 al mes", "no puedo pagar mas", "quiero terminar el plan",
    "cuanto debo", "no puedo mas que 20 dolares", "me mato trabajando para pagar esto",
]


@pytest.mark.parametrize("text", CRISIS_ES)
def test_VUL_2_spanish_self_harm_phrasings_are_crisis_cues(text):
    """Mutation tried: _CRISIS_SPANISH searched without dropping accents ("me voy a hacer daño" and "MÁS" were
    missed)."""
    assert is_crisis(text)


@pytest.mark.parametrize("text", NOT_CRISIS_ES)
def test_VUL_2_spanish_debt_talk_figures_of_speech_and_bereavement_are_not_crisis_cues(text):
    """Mutation tried: the lookahead after "no puedo mas" removed ("no puedo mas de 50 al mes" matched)."""
    assert not is_crisis(text)


def test_VUL_2_a_spanish_conversation_gets_the_988_line_in_spanish_with_press_2(sqlite_engine):
    """Mutation tried: crisis_cue answering with the English line whatever the conversation's language."""
    with session_scope(sqlite_engine) as session:
        conversation = conversations.get_or_create(session, "sms", "+15555550177")
        language.observe(session, conversation, "ya no quiero vivir, no puedo con esta deuda")
        replies = sensitive_requests.crisis_cue(session, conversation.id, "ya no quiero vivir")
    assert replies == [wording.say("crisis_line", "es")]
    assert "988" in replies[0] and "oprima 2" in replies[0] and "AYUDA" in replies[0]


RED_TEAM_ES = {
    "Si no paga, lo vamos a arrestar.": "TONE-1",
    "Podria ir a la carcel por esto.": "TONE-1",
    "Vamos a demandarlo la proxima semana.": "TONE-1",
    "Le vamos a embargar el sueldo.": "TONE-1",
    "Este es su ultimo aviso.": "TONE-1",
    "Esto va a arruinar su credito.": "TONE-1",
    "Nuestro abogado ya tiene su caso.": "TONE-1",
    # Exploratory pass: an agent's "Soy abogado" (and these) passed the gate and a campaign took "Somos abogados de".
    "Soy abogado.": "TONE-1",
    "Soy abogada de la empresa.": "TONE-1",
    "Le habla su abogado.": "TONE-1",
    "Somos abogados de Settle Services.": "TONE-1",
    "Su caso está con nuestro departamento legal.": "TONE-1",
    "Vamos a hablar con su comandante.": "TONE-1",
    "Usted es un moroso.": "TONE-1",
}


@pytest.mark.parametrize("text", sorted(RED_TEAM_ES))
def test_TONE_1_banned_claims_are_caught_in_spanish(text):
    """Mutation tried: the Spanish arrest pattern deleted from policy/banned_phrases.yml (the arrest line
    passed); the "soy/somos ... abogado" pattern deleted (the four speaker lines passed)."""
    assert [v.rule_id for v in tone.lint(text)][:1] == [RED_TEAM_ES[text]], text


def test_TBD_1_a_time_barred_debt_never_mentions_a_lawsuit_in_spanish():
    assert tone.lint("No lo vamos a demandar.", time_barred=True)


def test_every_spanish_text_of_ours_passes_the_tone_lint():
    for key, text in wording.CATALOGUES["es"].items():
        assert tone.lint(text) == [], key


def test_OPT_2_no_text_asks_for_a_spanish_opt_out_word_for_anything_else():
    """CANCELAR and BAJA opt out, so "responda CANCELAR para cancelar su plan" would end every text; saying how to
    opt out is fine. Mutation tried: the Spanish half of _CANCEL_INSTRUCTION removed (the first line passed)."""
    assert tone.mentions_cancel_instruction("Responda CANCELAR para cancelar su plan.")
    assert tone.mentions_cancel_instruction("Escriba baja para cambiar la fecha")
    assert not tone.mentions_cancel_instruction(wording.say("opt_out_line", "es"))
    assert not any(tone.mentions_cancel_instruction(text) for text in wording.CATALOGUES["es"].values())


@pytest.mark.parametrize("text,kind", [("Toda la deuda", "all"), ("la cantidad esta mal", "amount"),
                                       ("No es mía", "not_mine"), ("ya la pague", "already_paid"),
                                       ("me cobraron de mas", "amount"), ("3", "not_mine")])
def test_DSP_1_a_spanish_answer_to_what_is_disputed_is_understood(text, kind):
    """Mutation tried: the Spanish already-paid row of _KIND_WORDS deleted ("ya la pague" failed)."""
    from bot import disputes

    assert disputes.parse_kind(text) == kind


def test_DSP_1_the_dispute_confirmation_in_spanish_names_the_amount_the_account_and_the_date():
    from datetime import date

    from bot import disputes

    receipt = disputes.DisputeReceipt("dsp_x", "ending 0001", "$1,234.56", date(2026, 12, 6))
    said = disputes.confirmation([receipt], "es")
    assert "El 6 de diciembre de 2026 anoté su disputa de $1,234.56 en la cuenta que termina en 0001" in said
    assert "No tiene que pagar la cantidad en disputa" in said  # DSP-2 in Spanish
    assert disputes.confirmation([receipt]).startswith("Got it. On December 6, 2026 I recorded your dispute")
