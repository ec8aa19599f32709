"""What a report of representation (CEASE-2) or bankruptcy (CEASE-3) says about itself, read from the debtor's own
words: the attorney's name and phone given with the report ("my lawyer is handling this. her name is Dana Price,
617-555-0142"), a bankruptcy case number as it is written ("1:26-bk-12345"), and whether an answer is a question
rather than the detail asked for ("can I still pay you directly?" is never an attorney's name). Pure functions, no
database and no Rasa: the form actions (actions/sensitive.py) take and check the details with them."""

from __future__ import annotations

import re

from bot.compliance import cues, person_request

# "her name is Dana Price", "the lawyer's name is dana price", "su nombre es Dana Price", "se llama Dana Price": the
# words say a name follows, so it may be typed in lower case; up to four words of letters after the phrase, ending
# at punctuation, a digit or a word that starts the next clause.
_NAME_LEAD = re.compile(
    r"(?:\b(?:her|his|their|the|my)\s+(?:attorney'?s?\s+|lawyer'?s?\s+)?name(?:\s+is|'s|:)|\bname\s*:"
    r"|\b(?:se\s+llama|su\s+nombre\s+es))\s+",
    re.IGNORECASE,
)
_NAME_WORDS = re.compile(r"[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ'.\-]*(?:\s+[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ'.\-]*){0,3}")
# Words that end a name: what follows it in a sentence ("Dana Price and her number is ...").
_STOP_WORDS = frozenset("and at her his their number phone is from of with in on y su el la numero telefono "
                        "handling handles who she he esq".split())
# Not names: "my lawyer is handling this", "my lawyer is out", "mi abogado es de ...".
_NOT_A_NAME = frozenset("handling dealing taking working out away busy on in not the a an my her his this that going "
                        "representing calling contacting de el la un una mi".split())
# Everyday words that are never taken as (part of) a name, however they are capitalised ("Please call", "Thanks",
# "I have a lawyer Monday"): the words a report is written in, in English and Spanish.
_COMMON_WORDS = _STOP_WORDS | _NOT_A_NAME | frozenset(
    "please pls call text reach talk speak contact you them him me can could now thanks thank ok okay so i im ive "
    "we our your it its they them she he yes no hi hello hey sorry just also too already really very good great "
    "fine sure well here there then when what why how who if but or for to by be been being am are was were will "
    "would should shall do does did done dont have has had got get lawyer lawyers attorney attorneys counsel law "
    "legal office firm group esq llc pc call calls texts number cell mobile phone email name named called is "
    "monday tuesday wednesday thursday friday saturday sunday january february march april may june july august "
    "september october november december today tomorrow tonight morning afternoon evening night week "
    "hola gracias por favor llame llamen hable hablen tengo tiene abogado abogada abogados es con mi su ya ahora "
    "lunes martes miercoles jueves viernes sabado domingo hoy manana".split())
# A name written as a name: capitalised words ("Susan Park", "SUSAN PARK", "O'Neil", "Mary-Jo"), up to four.
_CAPITALISED = r"[A-ZÀ-Þ][A-Za-zÀ-ÿ'.\-]*"
_NAME_RUN = re.compile(rf"{_CAPITALISED}(?:\s+{_CAPITALISED}){{0,3}}")
# Right after the attorney: "my lawyer is Susan Park", "attorney Susan Park, 555-...", "I have a lawyer now, Susan
# Park 555-...", "mi abogada es Rosa Diaz"; the name must then be written as a name (_NAME_RUN).
_AFTER_ATTORNEY = re.compile(
    r"\b(?:attorney|lawyer|counsel|abogad[oa])(?:\s+(?:now|already|too|also|ahora|ya))?"
    r"(?:\s*[,:\-]\s*|\s+(?:is|es|named|called|se\s+llama)\s+|\s+)",
    re.IGNORECASE,
)
# Before words that are a place or a state, not a person: "a lawyer in Boston, 617-...", "he is Out Of Town".
_PLACE_BEFORE = re.compile(r"\b(?:in|from|at|near|of|on|out|en|de|del|por)\s*$", re.IGNORECASE)
_PHONE = re.compile(r"(?<!\d)(?:\+?1[\s.\-]?)?\(?(\d{3})\)?[\s.\-]?(\d{3})[\s.\-]?(\d{4})(?!\d)")


# "my lawyer", "our attorney", "mi abogada": the debtor's own attorney named in the message.
_OWN_ATTORNEY = re.compile(r"\b(?:my|our|mi|nuestr[oa])\s+(?:attorney|lawyer|abogad[oa])\b", re.IGNORECASE)


def reports_own_attorney(text: str) -> bool:
    """CEASE-2: whether the words say the debtor has an attorney and give the attorney's name or phone ("my lawyer
    is handling this. her name is Dana Price, 617-555-0142"): an attorney report, whatever the model reads (it read
    this one as an identity answer, the name and the phone number outweighing the lawyer)."""
    return bool(_OWN_ATTORNEY.search(text)) and bool(attorney_details(text))


def _everyday(word: str) -> bool:
    return word.lower().strip(".").replace("'", "") in _COMMON_WORDS


def _written_name(words: list[str]) -> str | None:
    """The leading words that can be a name (none of them an everyday word), or None."""
    kept: list[str] = []
    for word in words:
        if _everyday(word):
            break
        kept.append(word.rstrip("."))
    return " ".join(kept)[:120] if kept else None


def attorney_name(text: str) -> str | None:
    """CEASE-2: the attorney's name given in the report, or None: after words that say a name follows ("her name is
    Susan Park"), written as a name right after the attorney ("my lawyer is Susan Park", "attorney Susan Park,
    555-..."), or written as a name right before the phone ("Susan Park at 555-..."). Everyday words are never a
    name ("my lawyer is really busy", "I have a lawyer, please call 555-...")."""
    for lead in _NAME_LEAD.finditer(text):  # "my lawyer is handling this. her name is Dana Price": the second
        words = _NAME_WORDS.match(text, lead.end())
        kept: list[str] = []
        for word in words.group(0).split() if words else []:
            if word.lower().strip(".") in _STOP_WORDS:
                break
            kept.append(word.rstrip("."))
        if kept and not _everyday(kept[0]):
            return " ".join(kept)[:120]
    for lead in _AFTER_ATTORNEY.finditer(text):
        run = _NAME_RUN.match(text, lead.end())
        name = _written_name(run.group(0).split()) if run else None
        if name:
            return name
    phone = _PHONE.search(text)
    if phone is not None:
        before = _BEFORE_A_PHONE.sub("", text[: phone.start()])
        run = re.search(rf"(?:{_CAPITALISED}\s+){{0,3}}{_CAPITALISED}$", before)
        if run:
            words = list(re.finditer(r"\S+", run.group(0)))
            first = len(words)  # the end of the run: "Call Susan Park" is Susan Park
            while first > 0 and not _everyday(words[first - 1].group(0)):
                first -= 1
            if first < len(words) and not _PLACE_BEFORE.search(before[: run.start() + words[first].start()]):
                return " ".join(w.group(0).rstrip(".") for w in words[first:])[:120]  # not "in Boston, 617-..."
    return None


def attorney_phone(text: str) -> str | None:
    """CEASE-2: a US phone number given in the report, as +1 and ten digits, or None."""
    match = _PHONE.search(text)
    return "+1" + "".join(match.groups()) if match else None


def attorney_details(text: str) -> dict[str, str]:
    """CEASE-2: the attorney's name and phone that the report itself gives (either, both or none)."""
    found = {"attorney_name": attorney_name(text), "attorney_phone": attorney_phone(text)}
    return {key: value for key, value in found.items() if value}


# What joins a name to the phone number after it ("Sam Ortiz, and his number is 212-...", "Rosa Diaz y su numero es").
_BEFORE_A_PHONE = re.compile(r"(?:[\s,;:\-]|\b(?:and|y|at|al|his|her|their|su|the|cell|mobile|celular|phone|number|"
                             r"numero|n[uú]mero|tel|is|es)\b)+$", re.IGNORECASE)


def name_answer(text: str) -> dict[str, str]:
    """CEASE-2: the answer to "What is your attorney's name?", which often carries the phone too ("Sam Ortiz,
    212-555-0100"): the name before the number, and the number, so the phone is not asked for again. Only the name
    (the answer as typed) when it holds no phone number; nothing taken for a name when the number is all it holds."""
    phone = _PHONE.search(text)
    if phone is None:
        return {"attorney_name": text.strip()}
    name = _BEFORE_A_PHONE.sub("", text[: phone.start()]).strip()
    details = {"attorney_phone": "+1" + "".join(phone.groups())}
    return {"attorney_name": name, **details} if name else details


_QUESTION_START = re.compile(
    r"^\s*(?:can|could|may|do|does|did|should|would|will|is|are|am|what|why|how|when|where|who|which|puedo|puede|"
    r"podemos|debo|tengo|que|qué|por\s*qu[eé]|c[oó]mo|cu[aá]ndo|d[oó]nde|qui[eé]n)\b",
    re.IGNORECASE,
)


def is_question(text: str) -> bool:
    """Whether an answer is a question ("can I still pay you directly?"), which is answered, never stored as a
    detail (CEASE-2, CEASE-3)."""
    stripped = text.strip()
    return stripped.endswith("?") or stripped.startswith("¿") or bool(_QUESTION_START.match(stripped))


# CEASE-3: a federal bankruptcy case number as courts write it: an optional office code ("1:"), the two-digit year,
# "bk" (or "b"), the number, and optional judge's initials ("1:26-bk-12345-ABC"). Kept whole, as written.
_CASE_NUMBER = re.compile(r"\b(?:\d{1,2}\s*:\s*)?\d{2}\s*-\s*(?:bk|b|br)\s*-\s*\d{3,6}(?:\s*-\s*[a-z]{2,4})?\b",
                          re.IGNORECASE)
# A bare number ("26-12345", "12345"), when that is all the debtor has.
_BARE_NUMBER = re.compile(r"\b\d{1,2}[-:]?\d{3,6}\b")


def asks_instead_of_case_number(text: str) -> bool:
    """CEASE-3: whether an answer to "what is the case number?" is a question instead ("what is a case number?", "do
    I have to tell you?"): answered, never stored as the number. A question that carries a number ("is it
    26-bk-12345?") gives the number."""
    return is_question(text) and case_number(text) is None


def case_number(text: str) -> str | None:
    """CEASE-3: the case number in the answer, whole (district office, year, bk, number, judge), or None."""
    match = _CASE_NUMBER.search(text) or _BARE_NUMBER.search(text)
    return re.sub(r"\s+", "", match.group(0)) if match else None


# What the case-number question itself is about ("what is a case number?", "where do I find the case number?", "do
# I have to tell you?", "¿qué es el número de caso?"), and nothing else: "can someone else handle my case?" is not.
_ABOUT_CASE_NUMBER = re.compile(
    r"\b(?:case|bankruptcy|docket)\s*(?:number|no\b\.?|#)|\bn[uú]mero\s+(?:de(?:l)?\s+)?(?:caso|bancarrota|quiebra)\b"
    r"|\b(?:have|need)\s+to\s+(?:tell|give)\b|\btengo\s+que\s+(?:dar|decir)",
    re.IGNORECASE,
)


def asks_about_case_number(text: str) -> bool:
    """CEASE-3 and HO-1: whether a message that the model read as a request for a person, typed where the case number
    was asked, is really a question about that number ("what is a case number?"): then it is answered and the number
    asked for again, as validate_bankruptcy_case_number answers it. A message with a person's words in it ("what
    is a case number? I want to talk to someone") stays a request for a person."""
    return (asks_instead_of_case_number(text) and bool(_ABOUT_CASE_NUMBER.search(text))
            and not person_request.asks_for_person(text))


# CEASE-2 in the writer's own plain words, with or without the attorney's details: "I have a lawyer now, please talk
# to him", "I have an attorney. Her name is Susan Park", "I've hired a lawyer", "talk to my attorney", "tengo
# abogado". Matched on cues.normalise(text) (lower case, no apostrophes, single spaces). The model read such messages
# as an identity answer or as nothing at all; the words decide instead. Strict: a clause that denies it, asks it
# or supposes it ("I don't have a lawyer", "do I need a lawyer?", "if I have a lawyer...") is no report, nor is a
# lawyer who is only a friend or an appointment.
_LAWYER = r"(?:an? |my |our )?(?:own )?(?:lawyer|attorney|attorney at law|legal counsel|counsel)"
_NOT_MINE = r"(?! (?:friend|buddy|pal|in the family|appointment|consultation|meeting|referral)\b)"
_REPRESENTED = re.compile(
    rf"\b(?:(?:i|we) (?:now |already |also |just )?(?:have|got|hired|retained|have hired|have retained)|"
    rf"(?:ive|weve) (?:now |already |also |just )?(?:got|hired|retained)) (?:now )?{_LAWYER}\b{_NOT_MINE}"
    rf"|\b(?:im|i am|were|we are) (?:now |already )?represented\b"
    rf"|\b(?:talk|speak|speak with|talk with|deal|deal with|contact|call|go through) (?:to )?(?:my|our) "
    rf"(?:lawyer|attorney)\b{_NOT_MINE}"
    rf"|\b(?:my|our) (?:lawyer|attorney) (?:is|will be) (?:handling|dealing with|taking care of) (?:this|it|that)\b"
    r"|\b(?:tengo|tenemos|contrate|contratamos) (?:a )?(?:un |una )?abogad[oa]\b"
    r"|\b(?:hablen|hable|comuniquense|comuniquese) con mi abogad[oa]\b"
)
# Before the match in its clause: a denial, a question or a supposition ("I don't think I have a lawyer", "maybe I
# will talk to my lawyer"); "you can talk to my lawyer" is a report, so "can" alone is not here.
_DENIED = re.compile(r"\b(?:not|no|dont|do not|didnt|did not|never|nor|if|whether|when|once|should|would|could|do|does"
                     r"|cant|cannot|need|needs|want|wish|might|maybe|may|will|gonna|going to|si|cuando|tampoco"
                     r"|nunca|ni)\b")
# A clause: up to a stop, a comma or a line break (with that mark, so a question keeps its "?"), or "but" ("pero").
_CLAUSE = re.compile(r"[^.!?;,:\n]+[.!?;,:\n]?")
_BUT = re.compile(r"\b(?:but|pero)\b", re.IGNORECASE)


def states_representation(text: str) -> bool:
    """CEASE-2: the writer says, in so many words, that they have an attorney ("I have a lawyer now, please talk to
    him"), whatever else the message says and whatever the model reads; never a denial, a question or a supposition
    ("I don't have a lawyer", "should I get an attorney?", "if I had a lawyer would you call them?")."""
    for sentence in _CLAUSE.findall(text):
        if sentence.rstrip().endswith("?"):
            continue
        for clause in _BUT.split(sentence):
            plain = cues.normalise(clause)
            if any(not _DENIED.search(plain[: m.start()]) for m in _REPRESENTED.finditer(plain)):
                return True
    return False


def representation_details(text: str) -> dict[str, str]:
    """CEASE-2: the attorney's name and phone given with a plain report (states_representation: "I have a lawyer
    now, Susan Park 555-201-3344"), on the live path and while a person owns the chat: attorney_details, whose
    name reader takes the usual ways of giving one and never everyday words."""
    return attorney_details(text)


# A number the report itself names as its case number: "case number 24-12345", "case no. 2412345", "case #24-12345",
# "número de caso 24-12345". A figure with no such words ("I filed in 2019") is a year or anything else, never taken.
_CASE_LABELLED = re.compile(
    r"\b(?:case|caso|docket)\s*(?:(?:number|num|no)\b\.?|#|n[uú]mero\b)?\s*(?:is|es|:)?\s*#?\s*"
    r"(?P<number>\d{1,2}[-:]?\d{3,6})\b(?!\s*[-/.]?\s*\d)",
    re.IGNORECASE,
)


def case_number_in_report(text: str) -> str | None:
    """CEASE-3: the case number given with the bankruptcy report ("I filed for bankruptcy, case number 24-12345",
    "... Case 1:24-bk-10234"), so the form does not ask for it again: a federal case number as courts write it, or a
    number the words call the case number; None otherwise (a bare year or amount is never a case number here)."""
    formal = _CASE_NUMBER.search(text)
    if formal:
        return re.sub(r"\s+", "", formal.group(0))
    labelled = _CASE_LABELLED.search(text)
    return labelled.group("number") if labelled else None
