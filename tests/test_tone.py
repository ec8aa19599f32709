"""TONE-1 / TBD-1 banned-claim lint, OPT-1 opt-out line, OPT-2 no "reply CANCEL", DISC-2 debt collector notice."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.compliance import tone
from bot.compliance.disclosures import DEBT_COLLECTOR_DISCLOSURE
from bot.compliance.tone import (
    OPT_OUT_LINE,
    BannedPhrasesError,
    has_opt_out_line,
    lint,
    load_banned_phrases,
    mentions_cancel_instruction,
    parse_banned_phrases,
    with_debt_collector_notice,
    with_opt_out_line,
)

# What the bot and agents legitimately say (VOICE.md register). None of it may be flagged.
LEGITIMATE = [
    "You have the right to dispute this debt.",
    "No, I'm not a person. I'm an automated assistant.",
    "Say 'talk to a person' any time to reach someone on our team.",
    "You can say 'balance', 'payment plan', 'pay now' or 'talk to a person'.",
    "Reply STOP to opt out.",
    "This message is from a debt collector.",
    DEBT_COLLECTOR_DISCLOSURE,
    "Got it. I've noted that you dispute this debt, and we've paused collection on it while we check.",
    "We'll send you what we find in writing.",
    "I'm sorry things are hard right now. We can pause reminders, set a smaller plan, or connect you with a person. "
    "What would help most?",
    "Thanks for telling me. Losing a job is hard. Would a smaller monthly payment help?",
    "Your balance is $412.50. Would you like to pay now or set up a payment plan?",
    "Your plan: 3 payments of $50.00, on Friday, March 6, Friday, April 3 and Friday, May 1. No fees.",
    "Your next payment of $50.00 is due Friday, March 6. Reply 1 to pay now, or 2 to talk to a person.",
    "You can dispute this debt until Monday, April 6. You don't have to pay now while we check.",
    "Thanks for telling me. I've noted that you have an attorney. Please send their name and phone number to "
    "help@settle.example, and we'll deal with them from now on.",
    "Thanks for telling me. I've noted it for our team. If you have your case number, please send it to "
    "help@settle.example.",
    "I'm so sorry for your loss. I've noted it, and a person on our team will handle this with care.",
    "Sorry for the mix-up. I've noted that we reached the wrong person. You don't need to do anything.",
    "You're opted out and won't get more texts from us. Reply START to opt back in.",
    "For your safety, please don't type your card number here. Use the secure payment link instead.",
    "Here is your secure payment link: https://pay.settle.example/p/7Hk3. It works any time.",
    "What is your date of birth? For example: 03/14/1979.",
    "Thanks. What are the last 4 digits of your Social Security number?",
    "Sorry, I didn't catch that. You can say 'balance', 'payment plan', 'pay now' or 'talk to a person'.",
    "If you can't pay right now, that's okay. We can set up a smaller plan, pause reminders, or connect you with a "
    "person.",
    "Pick a date that suits you, and we'll set up the plan.",
    "No judgment here. Let's find a plan that works for you.",
    "Your payment went through. Thanks! Your new balance is $362.50.",
    "We won't charge a fee to pay online.",
    "Want a reminder the day before each payment? Reply YES or NO.",
    "I can't change the amount here, but a person on our team can. Want me to connect you?",
    "Your account is on hold while we look into your dispute. We'll write to you with what we find.",
    "You can pay the full balance, or choose 2, 3 or 6 monthly payments.",
    "We've stopped reminders for this debt, as you asked.",
    "If you're thinking about harming yourself, please call or text 988 now.",
    "Federal law gives you the right to ask us to stop contacting you.",
    "Paying in full is one option. A payment plan is another. Take your time.",
    "Hi, I'm an automated assistant. How can I help with your account today?",
    "You can also dispute by mail. We'll give you the address.",
    "Our team is here Monday to Friday, 9 a.m. to 5 p.m. Eastern. Say 'talk to a person' to reach them.",
    "To cancel a scheduled payment, say 'change plan' or talk to a person.",
    "Hello! Your first payment of $25.00 is set for Friday, March 6. Say 'change date' to move it.",
]

# Bad agent replies (or bad templates) and the category each must be caught under.
RED_TEAM = [
    ("If you don't pay, you could be arrested.", "arrest_jail_crime"),
    ("Not paying a debt is a crime in this state.", "arrest_jail_crime"),
    ("We will contact the police about this.", "arrest_jail_crime"),
    ("You could go to jail for ignoring us.", "arrest_jail_crime"),
    ("There is a warrant pending in your name.", "arrest_jail_crime"),
    ("We may press charges for fraud.", "arrest_jail_crime"),
    ("You could be arr3sted for this.", "arrest_jail_crime"),
    ("We will sue you if we don't hear back.", "legal_action"),
    ("We're preparing a lawsuit against you.", "legal_action"),
    ("Your wages will be garnished next month.", "legal_action"),
    ("We can seize your car.", "legal_action"),
    ("Legal action will be taken against you.", "legal_action"),
    ("We will take you to court.", "legal_action"),
    ("Expect a summons at your door.", "legal_action"),
    ("We'll freeze your bank account.", "legal_action"),
    ("We filed suit yesterday.", "legal_action"),
    ("We will $ue you.", "legal_action"),
    ("Our attorney will be in touch.", "false_attorney_or_government"),
    ("This matter has been referred to a law firm.", "false_attorney_or_government"),
    ("This is a notice from a government agency.", "false_attorney_or_government"),
    ("We're working with the IRS on your case.", "false_attorney_or_government"),
    ("A federal agent has been assigned to your case.", "false_attorney_or_government"),
    ("I'm a lawyer handling your account.", "false_attorney_or_government"),
    ("Our legal department is reviewing your file.", "false_attorney_or_government"),
    ("FINAL NOTICE: pay your balance.", "fake_deadline"),
    ("Act now to avoid further consequences.", "fake_deadline"),
    ("You must pay within 48 hours.", "fake_deadline"),
    ("This offer is good today only.", "fake_deadline"),
    ("This is your last chance to settle.", "fake_deadline"),
    ("Urgent: respond immediately.", "fake_deadline"),
    ("Time is running out to resolve this.", "fake_deadline"),
    ("You have to pay today or else.", "fake_deadline"),
    ("Not paying will ruin your credit.", "credit_consequences"),
    ("Your credit score will drop by 100 points.", "credit_consequences"),
    ("We will report you to the credit bureaus.", "credit_consequences"),
    ("This will destroy your credit.", "credit_consequences"),
    ("You'll never get a mortgage again.", "credit_consequences"),
    ("Pay your damn bill.", "profanity"),
    ("Stop ignoring us, you deadbeat.", "profanity"),
    ("This is bullshit, just pay.", "profanity"),
    ("What the f*ck is taking so long?", "profanity"),
    ("Don't be an idiot about this.", "profanity"),
    ("Reply CANCEL to stop your autopay.", "cancel_instruction"),
]


@pytest.mark.parametrize("text", LEGITIMATE)
def test_TONE_1_legitimate_bot_sentences_are_not_flagged(text):
    assert lint(text) == []


@pytest.mark.parametrize("text", LEGITIMATE)
def test_TBD_1_legitimate_bot_sentences_are_clean_on_time_barred_debts_too(text):
    assert lint(text, time_barred=True) == []


@pytest.mark.parametrize(("text", "category"), RED_TEAM)
def test_TONE_1_red_team_replies_are_flagged_with_the_right_category(text, category):
    categories = {violation.category for violation in lint(text)}
    assert category in categories, (text, categories)


def test_TONE_1_red_team_and_legitimate_lists_are_big_enough():
    assert len(LEGITIMATE) >= 40 and len(RED_TEAM) >= 40
    assert {category for _, category in RED_TEAM} >= {
        "arrest_jail_crime", "legal_action", "false_attorney_or_government", "fake_deadline",
        "credit_consequences", "profanity", "cancel_instruction"}


def test_TONE_1_what_if_i_dont_pay_answer_has_zero_hits():
    answer = ("If you can't pay right now, that's okay. We can pause reminders, set a smaller plan, or connect you "
              "with a person. What would help most?")
    assert lint(answer) == []


def test_TONE_1_violation_names_rule_category_and_phrase_as_written():
    (violation,) = lint("Honestly, we WILL Sue You.")
    assert violation.rule_id == "TONE-1"
    assert violation.category == "legal_action"
    assert violation.phrase == "Sue"
    assert "Honestly, we WILL Sue You."[slice(*violation.span)] == "Sue"


@pytest.mark.parametrize("text", ["We will sue you", "We SUED them", "Suing is next", "They sues", "a law suit",
                                  "lawsuits were filed", "We may garnish", "garnishment order", "seizure of assets",
                                  "We will s\u200bue you", "We\u2019ll sue"])
def test_TONE_1_plural_verb_and_simple_obfuscated_forms_are_caught(text):
    assert any(v.category == "legal_action" for v in lint(text)), text


def test_TONE_1_one_violation_per_phrase_even_if_several_patterns_match():
    violations = lint("Our legal department will call.")
    assert [v.category for v in violations] == ["false_attorney_or_government"]


def test_TONE_1_lawful_legal_action_flag_allows_suit_wording_but_nothing_else():
    assert lint("If we can't agree a plan, we may file a lawsuit.", lawful_legal_action=True) == []
    assert lint("We may garnish your wages after a court judgment.", lawful_legal_action=True) == []
    assert {v.category for v in lint("We'll sue and you'll go to jail.", lawful_legal_action=True)} == {
        "arrest_jail_crime"}


def test_TBD_1_will_you_sue_me_on_a_time_barred_debt_is_never_a_threat():
    for reply in ["We will not sue you.", "We can't take you to court over this.", "No legal action is planned."]:
        violations = lint(reply, time_barred=True)
        assert any(v.rule_id == "TBD-1" for v in violations), reply
    good = "I can't answer that here, but a person on our team can help. Say 'talk to a person'."
    assert lint(good, time_barred=True) == []


def test_TBD_1_time_barred_overrides_the_lawful_legal_action_flag():
    violations = lint("We may take legal action.", time_barred=True, lawful_legal_action=True)
    assert {(v.rule_id, v.category) for v in violations} == {
        ("TBD-1", "time_barred_litigation"), ("TONE-1", "legal_action")}


def test_TBD_1_court_and_suit_are_only_banned_outright_on_time_barred_debts():
    assert all(v.rule_id != "TBD-1" for v in lint("We will not sue you."))


# --- OPT-1 ---

def test_OPT_1_opt_out_line_is_added_once():
    assert with_opt_out_line("Your payment is due Friday, March 6") == (
        "Your payment is due Friday, March 6. Reply STOP to opt out.")
    assert with_opt_out_line("Hi!") == "Hi! Reply STOP to opt out."
    assert with_opt_out_line("") == OPT_OUT_LINE


def test_OPT_1_opt_out_line_is_never_doubled():
    once = with_opt_out_line("Your plan is set.")
    assert with_opt_out_line(once) == once
    assert with_opt_out_line("reply stop to opt out. Your plan is set.") == once
    assert with_opt_out_line("Your plan is set. Reply STOP to opt-out") == once


def test_OPT_1_and_DISC_2_lines_are_found_as_the_catalogue_words_them_in_each_language(monkeypatch):
    """The lines taken out before the debtor's own is added come from the wording catalogue, not a hand copy: a
    reworded catalogue line, written sloppily (no accents, other case and spacing, no full stop), is still found once.
    Mutation: _found_anyhow returning the old hand-written English and Spanish patterns -> the reworded lines are
    not found and this fails."""
    from bot import wording

    monkeypatch.setitem(wording.CATALOGUES["en"], "opt_out_line", "Text STOP to opt out.")
    monkeypatch.setitem(wording.CATALOGUES["es"], "opt_out_line", "Envíe ALTO para dejar de recibir mensajes.")
    english, spanish = tone._found_anyhow("opt_out_line")
    assert len(english.findall("Due Friday. text  stop to opt-out")) == 1
    assert len(spanish.findall("Vence el viernes. ENVIE alto para dejar de recibir mensajes")) == 1
    assert not spanish.search("Envíe sus datos para recibir mensajes.")
    english, spanish = tone._found_anyhow("from_debt_collector")  # the catalogue as shipped
    assert english.sub("", "THIS MESSAGE is from a debt-collector Hello").strip() == "Hello"
    assert spanish.sub("", "este mensaje es de un cobrador de deudas hola").strip() == "hola"


@given(st.text(max_size=200))
def test_OPT_1_with_opt_out_line_is_idempotent_and_ends_with_the_line_once(text):
    result = with_opt_out_line(text)
    assert has_opt_out_line(result)
    assert with_opt_out_line(result) == result


def test_OPT_1_template_lint_detects_missing_or_doubled_line():
    assert not has_opt_out_line("Your plan is set.")
    assert not has_opt_out_line("Reply STOP to opt out. Your plan is set. Reply STOP to opt out.")
    assert has_opt_out_line("Your plan is set. Reply STOP to opt out.")


# --- OPT-2: never "reply CANCEL" ---

@pytest.mark.parametrize("text", ["Reply CANCEL to stop your autopay.", "Text CANCEL to end the plan.",
                                  "text cancel to skip this month", "Reply with \u201cCANCEL\u201d to undo.",
                                  "Send the word CANCEL to stop the payment."])
def test_OPT_2_instructions_to_reply_cancel_are_detected(text):
    assert mentions_cancel_instruction(text)
    assert any(v.rule_id == "OPT-2" for v in lint(text))


@pytest.mark.parametrize("text", ["To cancel a scheduled payment, say 'change plan'.", "Reply STOP to opt out.",
                                  "We can cancel the payment for you.", "Your plan was cancelled as you asked."])
def test_OPT_2_other_mentions_of_cancel_are_fine(text):
    assert not mentions_cancel_instruction(text)


# --- DISC-2 ---

def test_DISC_2_notice_is_prefixed_once():
    assert with_debt_collector_notice("Your payment is due Friday.") == (
        "This message is from a debt collector. Your payment is due Friday.")
    once = with_debt_collector_notice("Your payment is due Friday.")
    assert with_debt_collector_notice(once) == once
    assert with_debt_collector_notice("Your payment is due Friday. This message is from a debt collector.") == once


def test_DISC_2_a_message_opening_with_the_disc_1_disclosure_is_left_alone():
    text = f"{DEBT_COLLECTOR_DISCLOSURE} Your balance is $412.50."
    assert with_debt_collector_notice(text) == text


def test_DISC_2_and_OPT_1_compose_in_either_order():
    body = "Your payment of $50.00 is due Friday, March 6"
    expected = "This message is from a debt collector. Your payment of $50.00 is due Friday, March 6. " + OPT_OUT_LINE
    assert with_opt_out_line(with_debt_collector_notice(body)) == expected
    assert with_debt_collector_notice(with_opt_out_line(body)) == expected
    assert lint(expected) == []


@pytest.mark.parametrize("text", [
    "We will contact your commanding officer about this debt.",
    "Pay now or we'll call the Army.",
    "We can notify your chain of command.",
    "Your command will hear about this.",
    "We will tell your first sergeant.",
    "Non-payment could mean a court-martial.",
    "This could cost you your security clearance.",
])
def test_VUL_1_threats_to_contact_a_servicemembers_command_are_flagged(text):
    """VUL-1 (never threaten to contact the consumer's command), enforced by TONE-1's military_command
    category. Mutation tried: the category's `commanding officer` and `chain of command` patterns deleted from
    policy/banned_phrases.yml: the first and third cases failed."""
    assert "military_command" in {v.category for v in lint(text)}


@pytest.mark.parametrize("text", ["What's your unit number for the mailing address?",
                                  "Thanks for telling me. A person on our team will look into it."])
def test_VUL_1_ordinary_sentences_are_not_flagged_as_military_threats(text):
    assert lint(text) == []


# --- the policy file ---

def test_TONE_1_policy_file_covers_every_required_category():
    policy = load_banned_phrases()
    by_id = {category.id: category for category in policy.categories}
    assert set(by_id) >= {"arrest_jail_crime", "legal_action", "time_barred_litigation",
                          "false_attorney_or_government", "fake_deadline", "credit_consequences", "profanity"}
    assert by_id["legal_action"].allowed_when == "lawful_legal_action"
    assert by_id["time_barred_litigation"].rule_id == "TBD-1" and by_id["time_barred_litigation"].only_when
    assert all(c.rule_id in {"TONE-1", "TBD-1"} for c in policy.categories)


def _category(**overrides: object) -> dict:
    return {"id": "x", "rule_id": "TONE-1", "description": "d", "patterns": [r"\bx\b"], **overrides}


@pytest.mark.parametrize(("category", "message"), [
    (_category(patterns=["(unclosed"]), r"categories\[0\] \(x\)\.patterns\[0\]: bad regex"),
    (_category(patterns=[]), r"\(x\)\.patterns"),
    (_category(rule_id="tone one"), r"\(x\)\.rule_id"),
    (_category(allowed_when="always"), r"\(x\)\.allowed_when"),
    (_category(only_when="weekends"), r"\(x\)\.only_when"),
    (_category(colour="red"), r"\(x\)\.colour: unknown field"),
    ({"rule_id": "TONE-1", "description": "d", "patterns": ["x"]}, r"categories\[0\]\.id"),
])
def test_TONE_1_policy_errors_name_the_category_and_field(category, message):
    with pytest.raises(BannedPhrasesError, match=message):
        parse_banned_phrases({"version": 1, "categories": [category]})


def test_TONE_1_policy_file_errors_name_the_file(tmp_path: Path):
    path = tmp_path / "banned_phrases.yml"
    path.write_text("version: 1\ncategories: [\n", encoding="utf-8")
    with pytest.raises(BannedPhrasesError, match=r"banned_phrases\.yml: not valid YAML"):
        load_banned_phrases(path)


def test_TONE_1_lint_accepts_a_custom_policy():
    policy = parse_banned_phrases({"version": 1, "categories": [_category(id="test", patterns=[r"\bwidget\b"])]})
    assert [v.category for v in lint("A WIDGET!", phrases=policy)] == ["test"]
    assert tone.default_banned_phrases() is tone.default_banned_phrases()  # loaded once


# --- G3: plain wordings of credit, employer and escalation threats, and words spelled out letter by letter --------

# What the exploratory tester sent through the agent console, all of which went out (TONE-1).
PLAIN_THREATS = [
    ("Your credit will be ruined if this stays open.", "credit_consequences"),
    ("Your credit is going to take a hit.", "credit_consequences"),
    ("We will contact your employer about this debt.", "third_party_contact"),
    ("I'll call your boss on Monday.", "third_party_contact"),
    ("your boss will find out", "third_party_contact"),
    ("Your family will hear about this.", "third_party_contact"),
    ("pay by Friday or we escalate", "threatened_escalation"),
    ("Pay by Friday or we escalate.", "threatened_escalation"),
    ("Further action may follow.", "threatened_escalation"),
    ("Su crédito quedará arruinado.", "credit_consequences"),
    ("Llamaremos a su trabajo.", "third_party_contact"),
    ("Vamos a avisarle a su jefe.", "third_party_contact"),
    ("Su familia se va a enterar.", "third_party_contact"),
    ("Pague antes del viernes o tomaremos medidas.", "threatened_escalation"),
]

# Agents' ordinary words near those families, in both languages: none may be blocked.
PLAIN_AND_FINE = [
    "Thanks for telling me about your job. Losing work is hard.",
    "Would it help to talk to your family first? Take your time.",
    "We can call your work number if you prefer. Which is best?",
    "I can escalate this to a supervisor if you'd like.",
    "Your next payment of $50.00 is due Friday, March 6.",
    "We don't report to credit bureaus from this chat. Ask me anything.",
    "Plan A, B or C: which suits you?",
    "Gracias por contarnos sobre su trabajo. Perder el empleo es difícil.",
    "Hable con su familia si le ayuda. Aquí estamos.",
    "Su próximo pago de $50.00 vence el viernes, 6 de marzo.",
]


@pytest.mark.parametrize("text,category", PLAIN_THREATS)
def test_TONE_1_plain_credit_employer_and_escalation_threats_are_flagged(text, category):
    """FDCPA 1692c(b), 1692e(4),(5),(8); 1006.18. Mutation tried: the third_party_contact category deleted from
    policy/banned_phrases.yml -> the seven employer, boss and family lines fail."""
    assert category in [v.category for v in lint(text)], text
    assert all(v.rule_id == "TONE-1" for v in lint(text))


@pytest.mark.parametrize("text", PLAIN_AND_FINE)
def test_TONE_1_ordinary_words_near_the_new_families_are_not_flagged(text):
    assert lint(text) == [], text


@pytest.mark.parametrize("text,category", [
    ("You could be s u e d for this.", "legal_action"),
    ("Your wages could be g-a-r-n-i-s-h-e-d", "legal_action"),
    ("j a i l", "arrest_jail_crime"),
    ("j.a.i.l", "arrest_jail_crime"),
    ("s_u_e", "legal_action"),
    ("s\u200b u e", "legal_action"),
    ("j a 1 l", "arrest_jail_crime"),
    ("You could be suuuued", "legal_action"),
    ("We will have you arrrrested", "arrest_jail_crime"),
    ("jaaaail", "arrest_jail_crime"),
    ("Lo vamos a d e m a n d a r", "legal_action"),
    ("c-á-r-c-e-l", "arrest_jail_crime"),
])
def test_TONE_1_words_spelled_out_or_drawn_out_are_read_as_the_word(text, category):
    """The normaliser joins single letters separated by spaces, hyphens, dots, underscores or zero-width characters
    and shortens letters drawn out three times or more. The violation quotes the text as written. Mutation tried:
    _readings without _join_spelled -> the spelled-out lines fail; without the _drawn_out readings -> suuuued,
    arrrrested and jaaaail fail."""
    found = [v for v in lint(text) if v.category == category]
    assert found, text
    assert text[slice(*found[0].span)] == found[0].phrase


@given(word=st.sampled_from(["sue", "sued", "jail", "arrest", "garnish", "garnished", "seize", "demandar"]),
       separator=st.sampled_from([" ", "-", ".", "_", " - ", "\u200b", ". "]))
def test_TONE_1_any_banned_word_spelled_out_with_any_separator_is_caught(word, separator):
    text = f"You could be {separator.join(word)} over this."
    assert lint(text), text


@given(sentence=st.sampled_from(LEGITIMATE + PLAIN_AND_FINE))
def test_TONE_1_the_new_readings_leave_legitimate_sentences_clean(sentence):
    assert lint(sentence) == []
