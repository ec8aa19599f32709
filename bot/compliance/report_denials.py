"""Words that say the opposite of a report the NLU read in them (CEASE-1..4, ID-4).

The NLU reads one intent per message, from its words, without their sense: "I don't have a lawyer" is close to
"I have a lawyer" (attorney_represented), "I never filed for bankruptcy" to bankruptcy, "I don't know my SSN" to
"I don't know him" (wrong_person), "this is his mother, he's not home" to a death. Read as reports they lock the
debtor out of their own account. These pure functions read the words before a report takes effect; the session
side (what is said instead, what is recorded) is sensitive_requests.denied_report.

The decision is one-sided on purpose: a report is overruled only when its words plainly deny it (or ask about us),
and only when nothing else in the message still reports it ("I don't have a lawyer yet, my brother's lawyer is
helping" keeps CEASE-2). A real report missed costs a legal duty; a denial missed costs a person's time. Every
phrasing the model was trained on for these intents (data/nlu) is still a report (tests/test_denied_reports.py).

Matching is on cues.normalise(text) without accents: lower case, no apostrophes ("dont", "im", "hes"), single
spaces, so the patterns are written that way."""

from __future__ import annotations

import re

from bot.compliance import cues

plain = cues.folded  # the text as these patterns see it


_NOT = r"(?:dont|do not|didnt|did not|never|havent|have not|hasnt|has not|aint|not|no)"

# CEASE-2: no lawyer ("I don't have a lawyer", "I never hired an attorney", "no tengo abogado").
_NO_LAWYER = re.compile(
    rf"\b{_NOT} (?:even )?(?:have|had|got|get|hire|hired|need|retain|retained|use|using|talk(?:ed)? to|"
    r"spoke to|speak to|know)(?: (?:a|an|any|no))? (?:lawyer|attorney|abogad[oa])s?\b"
    r"|\bno (?:lawyer|attorney)s?\b|\bnot represented\b|\bnobody represents me\b|\bno one represents me\b"
    r"|\bi dont have one\b(?=.*\b(?:lawyer|attorney)s?\b)"
    r"|\bno (?:tengo|tenemos|he contratado|contrate)(?: (?:un|una|ningun|ninguna))? abogad[oa]s?\b")
# A lawyer of the writer's own still named after any denial: the report stands.
_OWN_LAWYER = re.compile(r"\b(?:my|our) (?:lawyer|attorney)s?\b|\bi (?:have|got|hired|retained) (?:a|an) "
                         r"(?:lawyer|attorney)\b|\brepresented by\b|\bmi abogad[oa]\b|\btengo (?:un |una )?abogad")

# DISC-4: a question whether we are lawyers ("is this a law firm?", "are you lawyers?", "¿son abogados?"). Asked of
# us, it reports nothing about the person's own representation.
_ABOUT_US = re.compile(
    r"\b(?:is this|are you|r u|are u|you are|youre|is it|is that|are yall|are you guys|is this from|is this with)"
    r"(?: all| guys| people)? (?:a |an |with a |from a |with |from )?(?:law ?firm|law office|lawyers?|attorneys?|"
    r"legal firm)\b"
    r"|\b(?:son|es|eres) (?:ustedes |usted )?(?:abogad[oa]s?|un (?:despacho|bufete)(?: de abogados)?)\b"
    r"|\b(?:asking|asked|wondering) (?:if|whether) (?:you|u|this) (?:are|is|r)(?: all| guys)? (?:a |an )?"
    r"(?:law ?firm|lawyers?|attorneys?)\b")

# CEASE-3: never filed ("I never filed for bankruptcy", "I'm not bankrupt", "no me declaré en bancarrota").
_NO_BANKRUPTCY = re.compile(
    rf"\b{_NOT} (?:ever |even )?(?:file|filed|filing|declare|declared|declaring|go|gone|went|going)"
    r"(?: for| into| through)? (?:a |for )?(?:bankruptcy|bankrupt|chapter (?:7|13|seven|thirteen))\b"
    r"|\b(?:im|i am|were|we are) not (?:in |filing |going )?(?:bankrupt|bankruptcy)\b|\bno bankruptcy\b"
    r"|\bnever been bankrupt\b"
    r"|\bno (?:me )?(?:he |hemos )?(?:declare|declaramos|declarado|estoy|estamos)(?: en)? (?:bancarrota|quiebra)\b")
_OWN_BANKRUPTCY = re.compile(r"\b(?:i|we) (?:filed|declared|am filing|are filing|have filed)\b"
                             r"|\bmy (?:bankruptcy|case number|chapter)\b|\bme declare en\b|\bmi bancarrota\b")

# CEASE-1: the person wants contact to go on ("I don't want you to stop texting", "keep texting me", "I'm not
# refusing to pay"). "I don't want you to keep texting me" is the opposite and is caught by _STILL_CEASE.
_KEEP_CONTACT = re.compile(
    r"\b(?:dont|do not|didnt|did not|never) (?:want|need|ask(?:ed)?|mean(?:t)?|say|said)(?: (?:you|u|yall))?"
    r"(?: to)? stop(?:ping)? (?:contacting|texting|calling|emailing|messaging|writing|contact)\b"
    r"|\b(?:please |you can |u can |go ahead and |its fine to |its ok to )?(?:keep|continue) (?:contacting|texting|"
    r"calling|emailing|messaging|writing to) me\b"
    r"|\bnot (?:refusing|saying i wont|saying im not going) to pay\b"
    r"|\bno (?:quiero|pido|dije) que (?:dejen|deje|paren) de\b|\bsigan (?:escribiendome|llamandome|contactandome)\b")
# "I don't want you to keep texting me" asks us to stop, whatever "keep texting me" inside it says.
_NO_MORE_CONTACT = re.compile(r"\b(?:dont|do not|never) (?:want|need|like)(?: (?:you|u|yall|them))?(?: to)? "
                              r"(?:keep|continue|ever)\b|\bno (?:quiero|queremos) que (?:sigan|me sigan)\b")
_STILL_CEASE = re.compile(
    r"\bstop (?:contacting|calling|texting|emailing|messaging|writing|bothering)\b|\bcease\b"
    r"|\bno more (?:calls|texts|messages|letters|contact)\b"
    r"|\bleave me alone\b|\brefuse to pay\b|\b(?:wont|will not|not going to|not gonna) pay\b"
    r"|\b(?:do not|dont|never) (?:contact|call|text|email|write|message) me\b|\bno voy a pagar\b|\bdejen de\b")

# CEASE-4: the words of a death, in either language. Any of them keeps the NLU's deceased reading.
_DEATH = re.compile(
    r"\b(?:died|dies|dead|death|deceased|decease|passed|passd|pased|passsed|passing|killed|funeral|buried|"
    r"widow|widowed|widower|executor|executrix|estate|rip|heaven|obituary|hospice|coroner)\b"
    r"|\blate (?:husband|wife|mother|father|mom|dad|son|daughter|brother|sister|partner|spouse)s?\b"
    r"|\bno longer (?:with us|living|alive|here)\b|\bnot (?:with us|alive|living) any ?more\b"
    r"|\b(?:isnt|is not|arent) with us\b|\b(?:lost|lose) (?:him|her|them|my|mom|dad|our)\b"
    r"|\b(?:hes|shes|is|been) gone\b(?! (?:out|to|for|away|at|on|until|till|shopping|fishing|camping))"
    r"|\bgone since\b|\blaid (?:him|her) to rest\b|\bwith (?:god|the lord)\b|\bto be with the lord\b"
    r"|\bdidnt make it\b|\blost (?:his|her|their) battle\b|\bleft us\b"
    r"|\b(?:falleci\w*|muri\w*|muerto|muerta|difunt[oa]|defuncion|albacea|velorio|entierro|sepelio|herencia|"
    r"sucesion)\b|\ben paz descanse\b|\bya no (?:vive|esta con nosotros)\b|\bq e p d\b")

# ID-4: words that say the writer is not the person, or the number is not theirs. Any of them keeps the report.
_WRONG_PARTY = re.compile(
    r"\bwrong (?:number|person|guy|girl|lady|individual|recipient|contact|phone|#|one|man|woman)\b"
    r"|\bnot me\b|\b(?:im|i am) not (?!sure|paying|going|gonna|able|working|home|ready|refusing|saying|asking|"
    r"bankrupt|in\b|a\b|trying|lying)\w+|\bisnt me\b"
    r"|\b(?:dont|do not) know (?:him|her|them|who|anyone|anybody|any|that|this|you|why)\b"
    r"|\bno (?:one|body) (?:by|named|here|with|called)\b|\bnobody (?:by|named|here|called)\b|\bno such person\b"
    r"|\bnever heard of\b|\bno idea who\b|\bidk who\b|\bnot (?:my|their|his|her) (?:name|number|phone)\b"
    r"|\b(?:new|reassigned) number\b|\bthis number (?:was|is) (?:reassigned|mine)\b|\bjust got this number\b"
    r"|\bsomeone else\b|\bsomebody else\b|\bwho dis\b|\bnot (?:the )?(?:account holder|right person)\b"
    r"|\b(?:equivoca\w*|no soy|no conozco|no es (?:mi|de el|de ella|su|aqui)|no vive|por error|marcaron mal|"
    r"otra persona|no se quien|no tengo idea de quien|no me llamo)\b")

# ID-2, not ID-4: the writer's own details ("I don't know my SSN", "you have my address wrong", "is that the wrong
# ssn or the wrong birthday?"). A debtor without an answer, or correcting one, is no wrong party.
_DETAIL = (r"(?:ssn|social|social security(?: number)?|ss number|last (?:4|four)|address|birthday|birth ?date|"
           r"date of birth|dob|zip(?: code)?|postal code|account number)")
_OWN_DETAIL = re.compile(
    rf"\b(?:my|wrong|the|that|your) {_DETAIL}\b|\b{_DETAIL} (?:is |was )?wrong\b"
    r"|\bmi (?:seguro social|numero de seguro social|seguro|direccion|domicilio|fecha de nacimiento|"
    r"codigo postal|numero de cuenta)\b|\b(?:seguro social|direccion|fecha de nacimiento) (?:esta |es )?"
    r"(?:mal|equivocad[oa])\b")
# A bare "I don't know" with nothing it is about: no person is named, so no one is denied.
_BARE_UNKNOWN = re.compile(r"(?:(?:no|sorry|um|uh|hmm|honestly)\s)*(?:i dont know|i do not know|dont know|idk|"
                           r"no idea|not sure|i have no idea|no se|no lo se|ni idea|no tengo idea|no lo tengo)"
                           r"(?:\s(?:sorry|it|that|one|lol))*")

# ID-1, ID-4: someone answering for the person, who is alive ("this is his mother, he's not home"); cues.speaker_change
# reads "I'm his wife" and the like.
_ANSWERS_FOR = re.compile(r"\b(?:he|she|hes|shes|they|theyre)(?: is| are)? not (?:home|here|in|available|around|"
                          r"there)\b|\b(?:he|she)s? (?:is )?(?:at work|out|away|asleep|sleeping)\b"
                          r"|\bno (?:esta|se encuentra)(?: en casa| aqui)?\b")


def _denied_with(deny: re.Pattern[str], still: re.Pattern[str], words: str) -> bool:
    """The denial is there, and with its denials taken out nothing in the message still makes the report."""
    if not deny.search(words):
        return False
    return not still.search(deny.sub(" ", words))


def asks_about_us(text: str) -> bool:
    """DISC-4: "is this a law firm?", "are you lawyers?": a question about us, not a report of a lawyer."""
    return bool(_ABOUT_US.search(plain(text)))


def tells_of_death(text: str) -> bool:
    """CEASE-4: the message has words of a death (died, passed away, executor, estate, falleció, murió...)."""
    return bool(_DEATH.search(plain(text)))


def says_wrong_party(text: str) -> bool:
    """ID-4: the message says the writer is not the person, or the number is not theirs."""
    return bool(_WRONG_PARTY.search(plain(text)))


def speaks_of_own_details(text: str) -> bool:
    """ID-2: the writer speaks of their own identity details, or says only that they don't know (an answer they
    lack), and nothing says they are someone else."""
    words = plain(text)
    if _WRONG_PARTY.search(_OWN_DETAIL.sub(" ", words)):
        return False
    return bool(_OWN_DETAIL.search(words) or _BARE_UNKNOWN.fullmatch(words))


def is_bare_unknown(text: str) -> bool:
    """"idk", "I don't know", "no sé": nothing but not knowing."""
    return bool(_BARE_UNKNOWN.fullmatch(plain(text)))


def answers_for_someone(text: str) -> bool:
    """ID-1, ID-4: a relative or someone else answering for the person, who is not there (and not dead)."""
    change = cues.speaker_change(text)
    return bool((change is not None and change.third_party) or _ANSWERS_FOR.search(plain(text)))


def denies(intent: str | None, text: str) -> bool:
    """Whether the words overrule the NLU's reading of a report: no lawyer or a question whether we are lawyers
    (CEASE-2), never filed (CEASE-3), contact wanted (CEASE-1, OPT-2), no death (CEASE-4), the writer's own details and
    no wrong party (ID-4). False for any other intent."""
    words = plain(text)
    if intent == "attorney_represented":
        return bool(_ABOUT_US.search(words) and not _OWN_LAWYER.search(_ABOUT_US.sub(" ", words))) \
            or _denied_with(_NO_LAWYER, _OWN_LAWYER, words)
    if intent == "bankruptcy":
        return _denied_with(_NO_BANKRUPTCY, _OWN_BANKRUPTCY, words)
    if intent in ("cease_contact", "opt_out"):  # OPT-2's natural-language opt-out denied the same way
        return not _NO_MORE_CONTACT.search(words) and _denied_with(_KEEP_CONTACT, _STILL_CEASE, words)
    if intent == "deceased":
        return not _DEATH.search(words)
    if intent == "wrong_person":
        return speaks_of_own_details(text)
    return False
