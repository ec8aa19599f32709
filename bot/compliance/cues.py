"""What a debtor's words tell us about them: self-harm (VUL-2) and military service (VUL-1).

Pure functions of the text, with no database, so the inbound gate can ask them about every message before the NLU
(whatever intent Rasa picks) and tests can table them. The session-level handling (audit, handoff, the reply the
debtor sees) is in bot/compliance/sensitive_requests.py; every cue pattern lives here and only here.

Matching is done on `normalise(text)`: NFKC, case folded, invisible characters dropped, apostrophes of every
typographic kind removed ("can’t", "can't" and "cant" are all "cant"), and every other run of punctuation or
whitespace made one space ("end-it-all" is "end it all"). Patterns are therefore written in lower case, without
apostrophes, with single spaces.

VUL-2 decisions (stricter reading where it is ambiguous, per COMPLIANCE.md):
- Debt or money "killing me" ("this debt is killing me", "these fees are killing me") is hardship, not a crisis:
  it is left to the NLU's hardship intent, which pauses collection and offers a person.
- Dying rather than paying ("I'll die before I pay", "I'd rather die than pay this") is treated as a crisis: it
  may be a figure of speech, but a wrong 988 line costs little and a missed one may cost a life.
- "Hurt myself" is a crisis even when it might mean an injury ("I hurt myself at work"); a person sorts it out.
- Not crisis cues: a death in the family (bereavement, the deceased intent), "my phone died", "dead tired",
  "dying to pay this off", "I give up on this plan", "I want to end it" (usually the plan; "end it all" is one).

VUL-1 decisions: any mention of serving, a deployment, a base posting, orders or the SCRA, for the debtor or a
family member, is a cue (SCRA protection can reach dependants and run past discharge, and a person decides).
Bare "army", "navy" and "marine" are not, because of "an army of collectors", "navy blue" and "marine biology";
they count in service phrasing ("in the army", "US Navy", "I'm a marine"). The Spanish cues follow the same
decisions (SPANISH_MILITARY_PATTERNS).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Apostrophe look-alikes people's phones and keyboards produce: ’ ‘ ‛ ′ ʼ ` ´ ＇ and the ASCII one.
_APOSTROPHES = "'\u2019\u2018\u201b\u2032\u02bc`\u00b4\uff07"
_DROP = str.maketrans("", "", _APOSTROPHES + "\u00ad\u200b\u200c\u200d\u2060\ufeff")
_NOT_WORD = re.compile(r"[\W_]+")


def normalise(text: str) -> str:
    """The text as the cue patterns see it: NFKC, case folded, no apostrophes, single spaces between words."""
    # Apostrophes go before NFKC too: NFKC turns ´ into a space and a combining accent.
    folded = unicodedata.normalize("NFKC", text.translate(_DROP)).casefold().translate(_DROP)
    return _NOT_WORD.sub(" ", folded).strip()


def folded(text: str) -> str:
    """normalise(text) with accents dropped ("falleció" is "fallecio", "cuánto" is "cuanto"), as people type Spanish
    without them: what the word readers outside this module match on (report_denials, help_request, payments.ways)."""
    return "".join(c for c in unicodedata.normalize("NFKD", normalise(text or "")) if not unicodedata.combining(c))


def _compile(patterns: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


# VUL-2: self-harm and suicide as people text it. Each line is one way of saying it; keep negatives in mind
# (tests/test_cues.py) when adding one.
_I_WILL = r"(?:ill|i will|i would|id|i should|i might as well|i may as well|let me)"
CRISIS_PATTERNS: list[str] = [
    r"\bkill(?:ing|ed)? my ?self\b",
    r"\bsuicid\w*",
    r"\bunalive\b",
    r"(?<!\d)(?<!\d )\bkms\b",  # "kill myself"; not "50 kms"
    r"\bend(?:ing)? (?:it all|my life|my own life)\b",
    r"\btak(?:e|ing) my (?:own )?life\b",
    # "can't go on" but not "can't go on a trip / vacation / the website"
    r"\b(?:cant|cannot|can not) go on\b(?! (?:a|an|the|my|your|vacation|holiday|trips?|line|online|leave)\b)",
    r"\b(?:cant|cannot|can not) (?:do|take) (?:this|it) any ?more\b",
    r"\b(?:cant|cannot|can not) (?:live|keep living|keep going) like this\b",
    r"\b(?:dont|do not|no longer|never) (?:want|wanna) (?:to )?(?:live|be alive|be here|exist|wake up)\b",
    r"\b(?:hope|pray) i (?:dont|do not|never) wake up\b",
    r"\b(?:hurt|hurting|harm|harming|cut|cutting|hang|hanging|shoot|shooting|stab|stabbing|drown|drowning|"
    r"poison|poisoning|starve|starving) my ?self\b",
    r"\bself ?harm\w*",
    r"\boverdos(?:e|ed|ing)\b",
    r"\bslit(?:ting)? my wrists?\b",
    r"\bjump(?:ing)? off (?:a|the) (?:bridge|building|roof)\b",
    r"\b(?:take|taking|took|swallow|swallowing|swallowed) (?:all|a bottle|a whole bottle) (?:of )?(?:my |the )?pills\b",
    r"\bno (?:reason|point) (?:to|in) (?:live|living|go on|going on|being alive|be alive)\b",
    r"\bnothing (?:left )?to live for\b",
    r"\bnot worth living\b|\blifes? (?:is )?(?:not|isnt) worth (?:it|living)\b",
    r"\bbetter off (?:dead|without me)\b",
    r"\bwish i (?:was|were) dead\b",
    r"\bwish i (?:wasnt|werent|was not|were not) (?:alive|here|around)\b",
    r"\bwish i (?:had|d) never been born\b",
    r"\b(?:want|wanna|wanted|wants|ready|deserve|deserves) (?:to )?(?:just )?die\b",
    # "I'm going to die" but not "my phone is about to die": the speaker is the subject.
    r"\b(?:i|im|i am|ill|i will)\b (?:\w+ ){0,2}?(?:going to|gonna|about to|planning to|plan to|fixing to) "
    r"(?:just )?die\b",
    rf"\b(?:rather|{_I_WILL}) (?:just )?(?:die|be dead)\b",
    r"\b(?:giv(?:e|ing)|gave|given) up on (?:everything|life|living|myself)\b",
    r"\b(?:tired of|done with|sick of) (?:living|life|being alive)\b",
    r"\bdone living\b",
]
_CRISIS = _compile(CRISIS_PATTERNS)

# VUL-2 in Spanish, as US Spanish speakers text it: matched on the normalised text with its accents dropped ("dano"
# and "daño", "mas" and "más" are one). Same decisions as in English: the debt "killing me" ("esta deuda me esta
# matando") is hardship, not a crisis; "me muero de hambre / de risa / de pena" are figures of speech; a death in the
# family ("se murio mi mama") is bereavement; "no puedo mas de $50" is about money.
SPANISH_CRISIS_PATTERNS: list[str] = [
    r"\bmatarme\b|\bme (?:voy a|quiero|pienso|podria|deberia) matar\b|\bme mato\b(?! (?:trabajando|de))",
    r"\bquitarme la vida\b|\bme (?:voy a|quiero) quitar la vida\b",
    r"\b(?:acabar|terminar) con (?:mi vida|todo)\b",
    r"\b(?:me quiero|quiero|me voy a|ya me quiero) morir\b|\bquiero morirme\b|\bmorirme ya\b",
    r"\b(?:no|ya no) (?:quiero|tengo ganas de|deseo) (?:seguir )?(?:vivir|viviendo|despertar|estar aqui|existir)\b",
    r"\bno (?:vale|tiene sentido) (?:la pena )?(?:seguir )?(?:vivir|viviendo)\b|\bno tengo (?:razon|razones|nada) "
    r"(?:para|por) (?:vivir|seguir)\b",
    r"\b(?:hacerme|me voy a hacer|me quiero hacer) dano\b|\blastimarme\b|\bme (?:voy a|quiero) lastimar\b",
    r"\bcortarme las venas\b|\bme (?:corto|corte|voy a cortar) las venas\b",
    r"\bahorcarme\b|\bme (?:voy a|quiero) ahorcar\b|\bdispararme\b|\bpegarme un tiro\b|\bme pego un tiro\b",
    r"\b(?:tirarme|aventarme|lanzarme|me (?:voy a|quiero) (?:tirar|aventar|lanzar)) (?:de|del|desde) "
    r"(?:un|una|el|la) (?:puente|edificio|techo|azotea|ventana)\b",
    r"\bsobredosis\b|\btomarme (?:todas )?(?:las|mis) pastillas\b",
    r"\b(?:estarian|estarias|estaria|estan) mejor sin mi\b|\bmejor (?:estar )?muert[oa]\b",
    r"\bojala (?:me muriera|me muera|estuviera muert[oa]|no despertar|no haber nacido)\b",
    r"\bya no aguanto (?:mas|esta vida|vivir)\b|\bno puedo (?:mas|seguir asi|seguir viviendo)\b(?! (?:de|que)\b)",
    r"\bsuicid\w*",
]
_CRISIS_SPANISH = _compile(SPANISH_CRISIS_PATTERNS)


def _without_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def is_crisis(text: str) -> bool:
    """VUL-2: the message carries a self-harm or suicide cue, in English or Spanish, so the debtor gets 988 (in
    their language: bot/wording) and a person."""
    plain = normalise(text)
    return _CRISIS.search(plain) is not None or _CRISIS_SPANISH.search(_without_accents(plain)) is not None


# VUL-1: military service, for the debtor or a family member.
_BRANCH = r"(?:army|navy|marines?|marine corps|air force|coast guard|national guard|air national guard|space force|" \
          r"military|armed forces|army reserves?|navy reserves?|naval reserves?)"
MILITARY_PATTERNS: list[str] = [
    r"\bactive duty\b",
    r"\bdeploy(?:ed|ing|ment|ments)\b",
    r"\b(?:getting|got|being|been) (?:re)?deployed\b",
    r"\bstationed\b",
    r"\bscra\b",
    r"\bservice ?members? civil relief\b|\bsoldiers and sailors\b",
    r"(?<!customer )\bservice ?members?\b",
    r"\bmilitary\b",
    rf"\b(?:in|join|joined|joining|enlist|enlisted|enlisting|serve|served|serving|with|from|leave) (?:in )?"
    rf"(?:the )?(?:us |u s )?{_BRANCH}\b",
    rf"\b(?:us|u s) {_BRANCH}\b",
    r"\b(?:in|join|joined|joining) the reserves\b",  # not "money in reserve"
    r"\b(?:air force|coast guard|national guard|space force|marine corps|armed forces|usmc|usaf|usn|uscg)\b",
    r"\b(?:im|i am|hes|he is|shes|she is|theyre|they are|was|is) (?:a |an )?(?:us )?(?:soldier|sailor|airman|"
    r"marine(?! biolog)|guardsman|reservist|national guardsman|navy seal|veteran|service ?member)\b",
    r"\b(?:army|navy|naval|military|marine) (?:base|post|orders|pay|unit|reserves?|reservist|officer)\b",
    r"\bair (?:force )?base\b",
    r"\bon (?:the )?base\b|\bbase housing\b",
    r"\bveterans?\b",
    r"\b(?:military|deployment|pcs|tdy) orders\b",
    r"(?<!\d)(?<!\d )\bpcs(?:ing|ed)?\b",
    r"\bpermanent change of station\b",
    r"\btdy\b",
    r"\bbasic training\b",
    r"\bcommanding officer\b|\bchain of command\b|\bfirst sergeant\b|\bmy command\b",
    r"\bsoldiers?\b(?! on\b)",
    r"\b(?:sailors?|airmen|guardsmen|reservists?)\b",
]
_MILITARY = _compile(MILITARY_PATTERNS)

# VUL-1 in Spanish, as US Spanish speakers text it (Spanglish too: "mi esposo esta en el army", "lo deployaron"),
# matched on the normalised text with its accents dropped. Same decisions as in English: a branch counts in service
# phrasing ("en el ejercito", "de la marina"), not alone ("un ejercito de cobradores", "Marina" is a name); "la base"
# only where someone lives or is posted ("estoy en la base", not "la base de datos").
_RAMA = r"(?:ejercito|armada|marina|fuerza aerea|fuerzas aereas|guardia nacional|guardia costera|" \
        r"infanteria de marina|marines|army|navy|air force|national guard|coast guard|military)"
SPANISH_MILITARY_PATTERNS: list[str] = [
    rf"\b(?:en|del|de la|de los|para|con|dentro de|sirvo en|servi en|sirve en|sirvio en|me uni a|se unio a|"
    rf"entre a|entro a|enlistado en|enlistada en|alistado en|alistada en) (?:el |la |los |las )?(?:us |u s )?{_RAMA}\b",
    r"\ben (?:la|las) reservas?\b",
    r"\bmilitar(?:es)?\b|\bfuerzas armadas\b",
    r"\b(?:soy|es|era|fue|fui|somos|son|sigo siendo|sigue siendo) (?:un |una )?(?:soldad[oa]|veteran[oa]|reservista|"
    r"marine|sargento|marinero de la armada)\b",
    r"\bsoldad[oa]s?\b",
    r"\bveteran[oa]s?\b",
    r"\bdesplegad[oa]s?\b|\bdespliegue\b|\b(?:me|lo|la|nos|los|las) (?:van a |vana )?(?:desplegar|desplegaron|"
    r"despliegan|deployaron|deployan|van a deployar)\b|\bdeployad[oa]\b",
    r"\bbase (?:militar|aerea|naval)\b|\b(?:estoy|esta|estamos|estan|vivo|vive|vivimos|viven) en (?:la|una) "
    r"base\b(?! de\b)",
    r"\bordenes (?:militares|de despliegue|de traslado)\b",
    r"\bentrenamiento basico\b",
]
_MILITARY_SPANISH = _compile(SPANISH_MILITARY_PATTERNS)


def military_cue(text: str) -> bool:
    """VUL-1: the message says the debtor (or their family) serves or served, in English or Spanish: flag it and
    hand off to a person."""
    plain = normalise(text)
    return _MILITARY.search(plain) is not None or _MILITARY_SPANISH.search(_without_accents(plain)) is not None


# VUL-2: hardship (job loss, money, illness, a pause asked for), decided by the words whatever intent the NLU picks:
# "I just lost my job, can I pause my payments for 2 months?" read as nothing at all once (F37). The answer is the
# hardship rule's own (bot/compliance/sensitive_requests.py): a pause, no payment talk, a person offered.
# Decisions: a hardship the same message says is over ("I lost my job last year but I'm working now and want to
# pay") is not a cue: pausing would block a payment the debtor is asking to make, and the NLU still reads the
# message (its hardship intent can still pause). "Can't afford to miss/be late" is about keeping up, not a cue.
HARDSHIP_PATTERNS: list[str] = [
    r"\b(?:lost|losing|lose) (?:my|our|his|her) (?:job|work|income|paycheck|business)\b",
    r"\b(?:laid|layed) off\b|\blayoffs?\b|\bfurlough\w*|\bgot (?:fired|let go|sacked)\b|\blet me go\b",
    r"\bunemploy\w*|\bout of (?:work|a job)\b|\bjobless\b|\bno (?:job|income|paycheck) (?:right )?now\b",
    r"\b(?:cant|cannot|can not|couldnt|unable to) afford\b(?! to (?:miss|be late|lose|fall behind))",
    r"\bmedical (?:bills?|debt|expenses|emergency)\b|\bhospital (?:bills?|stay)\b|\bin (?:the )?hospital\b",
    # Asking for a pause is itself a hardship request; "stop" or "skip" a payment only beside a reason or a
    # length of time ("stop the automatic payments" alone is about autopay, not hardship).
    r"\b(?:pause|freeze|suspend|defer) (?:my |our |the |all )?(?:auto ?pay |automatic |monthly )?"
    r"(?:payments?|plan|instal+ments?)\b",
    r"\b(?:stop|hold|skip|delay) (?:my |our |the |all )?(?:auto ?pay |automatic |monthly )?(?:payments?|plan|"
    r"instal+ments?)\b(?=.*\b(?:job|work|afford|money|sick|hospital|medical|months?|weeks?|until|struggl\w*)\b)",
]
_HARDSHIP = _compile(HARDSHIP_PATTERNS)
SPANISH_HARDSHIP_PATTERNS: list[str] = [
    r"\bperdi (?:mi|el) (?:trabajo|empleo|chamba)\b|\bme quede sin (?:trabajo|empleo|chamba)\b",
    r"\bme (?:despidieron|corrieron|echaron)\b|\bdesemplead[oa]\b|\bsin (?:trabajo|empleo)\b",
    r"\bno me alcanza\b|\bno (?:puedo|podemos) (?:costear|permitirme)\b",
    r"\b(?:facturas|cuentas|gastos|deudas) (?:medic[oa]s|del hospital)\b|\ben el hospital\b",
    r"\b(?:pausar|suspender|congelar|aplazar|posponer) (?:mis |los |el |mi )?(?:pagos?|plan)\b",
]
_HARDSHIP_SPANISH = _compile(SPANISH_HARDSHIP_PATTERNS)
# The same message saying the hardship is over (decision above).
_RECOVERED = re.compile(r"\b(?:im|i am|were|we are) (?:back )?(?:working|employed)\b|\b(?:found|got|have) a (?:new )?"
                        r"job\b|\bback (?:at|to) work\b|\bya (?:estoy trabajando|tengo trabajo|encontre trabajo)\b")


def is_hardship(text: str) -> bool:
    """VUL-2: the message tells of a hardship now (English or Spanish), so collection pauses and a person is
    offered, whatever the NLU reads."""
    plain = normalise(text)
    if _RECOVERED.search(_without_accents(plain)):
        return False
    return _HARDSHIP.search(plain) is not None or _HARDSHIP_SPANISH.search(_without_accents(plain)) is not None


# VUL-2 beside HO-1: words that tell of a hardship only inside a message the NLU already read as a request for a person
# ("I'm struggling, can I talk to someone?": bot/compliance/person_request.rule_intents adds the hardship half). Too
# common to pause collection on alone ("I can't pay $500 but I can pay $200", "sick of these texts"), enough beside a
# request for a person, where a false reading costs only a pause that person lifts.
HARDSHIP_BESIDE_A_PERSON_PATTERNS: list[str] = [
    r"\b(?:lost (?:my|our|his|her) job|laid off|got fired|unemploy\w*|out of (?:work|a job))\b",
    r"\bno (?:job|income|money)\b|\b(?:cant|cannot|can not) (?:afford|pay)\b|\bdo(?:nt| not) have (?:any )?money\b",
    r"\b(?:broke|struggl\w*|hard time|hardship|hospital\w*|sick|illness|cancer|chemo\w*|surgery|disab\w*)\b",
    r"\b(?:medical bills?|evict\w*|divorce\w*|fixed income|barely getting by)\b",
]
_HARDSHIP_BESIDE_A_PERSON = _compile(HARDSHIP_BESIDE_A_PERSON_PATTERNS)


def mentions_hardship(text: str) -> bool:
    """VUL-2: the message tells of a hardship now, in the stronger words `is_hardship` acts on alone or in the
    looser ones above (for a message already read as a request for a person)."""
    if _RECOVERED.search(_without_accents(normalise(text))):
        return False
    return is_hardship(text) or _HARDSHIP_BESIDE_A_PERSON.search(normalise(text)) is not None


# ID-1, ID-4: someone other than the verified debtor is writing now, on a shared phone or a handed-over one
# ("hi this is Maria now, Luis handed me the phone", "I'm his wife"). Decisions: a false reading costs the debtor
# one more identity check, a missed one tells a debt to someone else (ID-1), so any of these withdraws the
# verification. Saying who they are to the debtor (wife, son, executor) makes them a third party, who goes to a person
# (ID-1: a spouse, guardian or executor goes to a human); a name alone may be another debtor on file, who may verify.
_RELATION = (r"(?:wife|husband|spouse|partner|son|daughter|mom|mother|dad|father|brother|sister|girlfriend|boyfriend|"
             r"fiance|fiancee|roommate|friend|caregiver|carer|guardian|executor|executrix|grandson|granddaughter|"
             r"niece|nephew|aunt|uncle|cousin)")
_RELACION = (r"(?:esposa|esposo|mujer|marido|pareja|hija|hijo|mama|madre|papa|padre|hermana|hermano|novia|novio|"
             r"prometida|prometido|amiga|amigo|albacea|tutora?|cuidadora?|nieta|nieto|sobrina|sobrino|tia|tio|prima|primo)")
THIRD_PARTY_PATTERNS: list[str] = [
    rf"\b(?:im|i am|this is|its|it is|here is|heres)(?: \w+)?,? (?:his|her|their|the debtors|\w+s) {_RELATION}\b",
    rf"\bsoy (?:su|la|el) {_RELACION}\b",
]
_THIRD_PARTY = _compile(THIRD_PARTY_PATTERNS)
_PHONE = r"(?:phone|cell|cellphone|mobile|telefono|celular|cel)"
HANDED_OVER_PATTERNS: list[str] = [
    rf"\b(?:handed|gave|passed|lent|loaned|handing|giving|passing) (?:me )?(?:the|his|her|their|this|my) {_PHONE}\b",
    rf"\b(?:handed|gave|passed) (?:the|his|her|their) {_PHONE} (?:to|over to) me\b",
    rf"\b(?:im|i am) (?:on|using|texting from|writing from) (?:his|her|their|\w+s) {_PHONE}\b",
    r"\bsome ?one else (?:is )?(?:writing|texting|typing|here|now)\b",
    r"\b(?:this|it) (?:isnt|is not) \w+ any ?more\b",
    rf"\bme (?:paso|dio|presto|entrego) (?:el|su|este) {_PHONE}\b",
    rf"\b(?:estoy usando|uso|escribo desde) (?:el|su) {_PHONE} de\b",
]
_HANDED_OVER = _compile(HANDED_OVER_PATTERNS)
# "this is Maria now", "ahora habla Maria": the name is kept so that the verified debtor saying their own name
# ("this is Luis now") changes nothing.
_NAMED = re.compile(r"\b(?:this is|its|it is|im|i am|now its|now this is) (?P<name>[a-z]+) (?:now|here now|instead|"
                    r"speaking|writing|texting)\b|\b(?:soy|habla|le escribe|escribe) (?P<nombre>[a-z]+) ahora\b|"
                    r"\bahora (?:soy|habla|le escribe|escribe) (?P<nombre2>[a-z]+)\b")
# Words that fill the name's place without naming anyone ("it's me now", "this is ridiculous now").
_NOT_NAMES = frozenset("""me him her them us you it that this what who someone somebody fine ok okay good better
worse done ready here there home back late early over all just really so too very different confusing confused
ridiculous crazy annoying urgent important serious sure free available busy working paying calling online yo el
ella ellos nosotros usted alguien""".split())


@dataclass(frozen=True)
class SpeakerChange:
    """Someone other than the verified debtor says they are writing: `third_party` when they said who they are to
    the debtor (a spouse, a child, an executor), `name` when they gave one."""

    third_party: bool
    name: str | None = None


def speaker_change(text: str) -> SpeakerChange | None:
    """ID-1, ID-4: the message says another person is writing now, in English or Spanish; None otherwise."""
    plain = _without_accents(normalise(text))
    named = _NAMED.search(plain)
    name = next((n for n in (named.groupdict().values() if named else ()) if n and n not in _NOT_NAMES), None)
    if _THIRD_PARTY.search(plain):
        return SpeakerChange(third_party=True, name=name)
    if name is not None or _HANDED_OVER.search(plain):
        return SpeakerChange(third_party=False, name=name)
    return None


# ID-1, ID-4: before any verification, the writer asks about someone else's debt ("I'm calling on behalf of my son,
# what does he owe?", "how much does my husband owe?"): a third party, whom no identity check may turn into the
# debtor (they may well know the debtor's date of birth). Decisions: the stricter reading, since a missed one tells a
# debt to someone else; a clause that denies it ("it's not my husband's debt") is no cue, nor is the writer's own
# debt told beside a relative ("my husband and I owe", "I owe my mother money", "can my wife pay for me?").
_DEBT_WORDS = r"(?:debt|debts|balance|account|accounts|bill|bills|loan|loans|card|payments?|collections?)"
ASKING_FOR_ANOTHER_PATTERNS: list[str] = [
    r"\bon behalf of\b(?! (?:me|myself)\b)",
    rf"\b(?:does|did|do|will|would|is|much) my {_RELATION} (?:still |really |actually )?(?:owe|owes|owed)\b",
    rf"\bmy {_RELATION} (?:still |really |actually )?(?:owes|owed)\b",
    rf"\bmy {_RELATION}s {_DEBT_WORDS}\b",
    rf"\b(?:asking|calling|writing|texting|checking|inquiring|here) (?:for|about) my {_RELATION}\b",
    rf"\ben nombre de (?:mi|su) {_RELACION}\b|\b(?:cuanto|que) debe mi {_RELACION}\b|\bla deuda de mi {_RELACION}\b",
]
_ASKING_FOR_ANOTHER = _compile(ASKING_FOR_ANOTHER_PATTERNS)
_NOT_SO = re.compile(r"\b(?:not|no|isnt|dont|doesnt|didnt|never|nunca)\b")


def asks_about_someone_elses_debt(text: str) -> bool:
    """ID-1, ID-4: the writer says they ask about another person's debt (English or Spanish), in a clause that does
    not deny it."""
    for clause in re.split(r"[.!?;,\n]|\bbut\b|\bpero\b", text):
        plain = _without_accents(normalise(clause))
        if any(not _NOT_SO.search(plain[: m.start()]) for m in _ASKING_FOR_ANOTHER.finditer(plain)):
            return True
    return False
