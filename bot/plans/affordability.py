"""What a debtor says they can pay, read from free text ("i can do 50 a month", "$25/wk", "every other Friday").

Anything unclear comes back as None rather than as a guess: the conversation then asks again, which is far
better than proposing a plan built on a misread number. Amounts are exact cents (Decimal and ints, never float).

Choices worth knowing:
- "twice a month" / "semi-monthly" is read as biweekly (every 2 weeks). It is the closest schedule we offer;
  the debtor sees and confirms every date before anything is set up.
- "biweekly" means every 2 weeks (the usual US sense), not twice a week.
- A period we don't offer ("a day", "a year", "an hour", "twice a week", "every 3 weeks") makes the whole answer
  None: the number that goes with it is not a per-payment amount we could use.
- "every friday" is weekly on Fridays and "every other friday" biweekly on Fridays; "on fridays" or "I get paid
  friday" only sets the weekday. "on the 15th" only sets the day of the month.
- "$50 each paycheck" gives the amount only. Two different amounts, frequencies, weekdays or days in one message
  are ambiguous, so that field is None.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from bot.money import parse_dollars

# A larger figure typed into a chat is far more likely a phone or account number than a payment.
MAX_AMOUNT_CENTS = 100_000_000

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY_STEMS = {"mon": 0, "tues": 1, "tue": 1, "wednes": 2, "wed": 2, "thurs": 3, "thur": 3, "thu": 3, "fri": 4,
                  "satur": 5, "sat": 5, "sun": 6}
# After "every"/"each"/"other" an abbreviation is safe ("every fri"); elsewhere "sat" or "sun" may be other words.
_WEEKDAY_FULL = (r"(?P<wd>monday|tuesday|wednesday|thursday|friday|saturday|sunday"
                 r"|mon|tues?|wed|thu(?:rs?)?|fri|sat|sun)(?:s\b|\b)\.?")

_UNITS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
          "nine": 9}
_TEENS = {"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
          "seventeen": 17, "eighteen": 18, "nineteen": 19}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
         "eighty": 80, "ninety": 90}
_SCALES = {"thousand": 1000, "million": 1_000_000}
_NUMBER_WORD = "|".join(sorted([*_UNITS, *_TEENS, *_TENS, "hundred", *_SCALES], key=len, reverse=True))
_NUMBER_RUN = re.compile(
    rf"\b(?:{_NUMBER_WORD}|a(?=\s+(?:hundred|thousand|million)\b))"
    rf"(?:(?:\s+and)?\s+(?:{_NUMBER_WORD}|a(?=\s+(?:hundred|thousand|million)\b)))*\b"
)

_ORDINAL_UNITS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
                  "eighth": 8, "ninth": 9}
_ORDINAL_OTHER = {"tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
                  "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19,
                  "twentieth": 20, "thirtieth": 30}
_ORDINAL_WORD = (rf"(?:(?P<otens>twenty|thirty)[\s-]+)?(?P<ounit>{'|'.join(_ORDINAL_UNITS)})"
                 rf"|(?P<oother>{'|'.join(_ORDINAL_OTHER)})")
_OF_MONTH = r"\s+of\s+(?:the|each|every)\s+month"

_FREQ = [
    # Most specific first; each match is cut out of the text so "twice a month" never also reads as "a month".
    (rf"\bevery\s+(?:other|second|2nd|2)\s+{_WEEKDAY_FULL}", "biweekly"),
    (r"\bevery\s+(?:other|second|2nd|2|couple\s+(?:of\s+)?)\s*(?:weeks?|wks?)\b", "biweekly"),
    (r"\bevery\s+14\s+days\b", "biweekly"),
    (r"\bbi[\s-]?(?:weekly|wkly)\b|\bfortnight(?:ly|s)?\b", "biweekly"),
    (r"\b(?:twice|2\s*x|2\s+times)\s+(?:a|per|each|every)\s+month\b|\btwice\s+monthly\b|\bsemi[\s-]?monthly\b",
     "biweekly"),
    (r"\b(?:twice|2\s*x|2\s+times)\s+(?:a|per|each|every)\s+(?:week|wk)\b", None),
    (rf"\b(?:every|each)\s+{_WEEKDAY_FULL}", "weekly"),
    (r"(?<!\bin )(?<!\bwithin )(?<!\bnext )\b(?:once\s+)?(?:a|per|each|every|1)\s+(?:week|wk)\b", "weekly"),
    (r"\b(?:weekly|wkly)\b|/\s*(?:week|wk|w)\b|\bevery\s+7\s+days\b", "weekly"),
    (r"(?<!\bin )(?<!\bwithin )(?<!\bnext )\b(?:once\s+)?(?:a|per|each|every|1)\s+(?:month|mo|mnth|mth)\b",
     "monthly"),
    (r"\b(?:monthly|mthly)\b|/\s*(?:month|mo|mth|m)\b", "monthly"),
    # Spanish as people text it (issue 23): "150 al mes", "mensuales", "cada quincena", "50 a la semana". A
    # quincena (twice a month) is read as biweekly, as "twice a month" is above.
    (r"\bcada\s+(?:dos|2)\s+semanas\b|\bcada\s+(?:15|quince)\s+d[ií]as\b|\b(?:cada|por|a\s+la)\s+quincena\b"
     r"|\bquincenal(?:es|mente)?\b|\b(?:dos|2)\s+veces\s+al\s+mes\b", "biweekly"),
    (r"\b(?:cada|por|a\s+la|una\s+vez\s+a\s+la)\s+semana\b|\bsemanal(?:es|mente)?\b", "weekly"),
    (r"\b(?:cada|por|al)\s+mes\b|\bmensual(?:es|mente)?\b|\bmensualidad(?:es)?\b", "monthly"),
    # Periods we don't offer: the amount with them is not a per-payment amount.
    (r"\b(?:daily|yearly|annually|quarterly|hourly)\b|\b(?:a|an|per|each|every)\s+(?:day|year|yr|hour|hr|quarter)\b"
     r"|/\s*(?:day|year|yr|hour|hr|d|h)\b|\bevery\s+[0-9]+\s+(?:days?|weeks?|wks?|months?|years?)\b", None),
]
_FREQ_PATTERNS = [(re.compile(p), f) for p, f in _FREQ]

_WORD_DAY_PATTERNS = [
    re.compile(rf"\b(?:on\s+)?(?:the\s+)?(?:{_ORDINAL_WORD})(?={_OF_MONTH})"),
    re.compile(rf"\bon\s+the\s+(?:{_ORDINAL_WORD})(?=\s*(?:$|[,.;!?)]|and\b|each\b|every\b|of\b|if\b|when\b))"),
]
_DAY_PATTERNS = [
    re.compile(r"\b(?:on\s+)?(?:the\s+)?(?P<num>[0-9]{1,2})(?:st|nd|rd|th)\b"),
    re.compile(r"\bon\s+the\s+(?P<num>[0-9]{1,2})\b(?!\s*(?:[.,$%][0-9]?|dollars?|bucks|k\b))"),
    re.compile(r"\b(?:the\s+)?(?:last\s+day|end)\s+of\s+(?:the\s+|each\s+|every\s+)?month\b"),
]
_WEEKDAY_PATTERN = re.compile(
    r"\b(?:(?P<full>monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?"
    r"|(?:on|every|each)\s+(?P<abbr>mon|tues?|wed|thu(?:rs?)?|fri|sat|sun)s?\.?)\b"
)

_AMOUNT = re.compile(
    r"(?P<dollar>\$\s*)?(?<![\w.,/:+#-])"
    r"(?P<num>[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?|\.[0-9]+)"
    r"(?![0-9,]*[0-9])(?P<k>\s*k\b)?"
    r"(?P<after>\s*\$|\s*(?:us\s+)?(?:dollars?|bucks|usd)\b)?"
    r"(?:\s+and\s+(?P<cents>[0-9]{1,2})\s*cents?\b)?"
)
_CENTS_ONLY = re.compile(r"(?<![\w.$])(?P<num>[0-9]{1,2})\s*cents?\b")
# A number right before these is a count, time or rate, not money.
_NOT_MONEY_AFTER = re.compile(
    r"\s*(?:[%:/0-9-]|percent|cents?\b|am\b|pm\b|x\b|payments?\b|installments?\b|instalments?\b|times?\b|weeks?\b|wks?\b"
    r"|months?\b|days?\b|years?\b|yrs?\b|hours?\b|hrs?\b|kids?\b|children\b|people\b|of\s+them\b|st\b|nd\b|rd\b"
    r"|th\b)"
)
_NOT_MONEY_BEFORE = {"january", "february", "march", "april", "june", "july", "august", "september", "october",
                     "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct",
                     "nov", "dec", "ending", "account", "acct", "number", "ref", "zip", "code", "pin", "year", "room",
                     "apt", "unit", "ext", "dob", "ssn", "born", "age", "aged"}


@dataclass(frozen=True)
class Affordability:
    """What the debtor offered. Every field is None when they didn't say it (or said it ambiguously).

    weekday: 0 = Monday .. 6 = Sunday. day_of_month: 1..31 (31 means the last day of each month)."""

    amount_cents: int | None = None
    frequency: str | None = None
    weekday: int | None = None
    day_of_month: int | None = None

    @property
    def is_empty(self) -> bool:
        return self == Affordability()


def parse_affordability(text: str) -> Affordability:
    """Read an amount, frequency, weekday and day of the month from what the debtor typed. Never raises on text."""
    if not isinstance(text, str):
        raise TypeError(f"parse_affordability takes text, got {type(text).__name__}")
    s = _normalise(text)
    if not s:
        return Affordability()
    # Spelled-out days first, before "twenty first" can become "20 first".
    days: set[int] = set()
    s = _take_days(s, _WORD_DAY_PATTERNS, days)
    s = _NUMBER_RUN.sub(_number_words_to_digits, s)
    s = re.sub(r"(?<![\w.])([0-9]+(?:\.[0-9]+)?)\s*(hundred|thousand)\b", _scaled, s)

    frequencies: set[str | None] = set()
    weekdays: set[int] = set()
    for pattern, frequency in _FREQ_PATTERNS:
        for match in pattern.finditer(s):
            frequencies.add(frequency)
            if match.groupdict().get("wd"):
                weekdays.add(_weekday_index(match["wd"]))
        s = pattern.sub(" ; ", s)
    if None in frequencies:
        # We don't offer that period, so the number that came with it isn't usable either.
        return Affordability()

    s = _take_days(s, _DAY_PATTERNS, days)

    for match in _WEEKDAY_PATTERN.finditer(s):
        weekdays.add(_weekday_index(match["full"] or match["abbr"]))
    s = _WEEKDAY_PATTERN.sub(" ; ", s)

    return Affordability(
        amount_cents=_amount(s),
        frequency=next(iter(frequencies)) if len(frequencies) == 1 else None,  # type: ignore[arg-type]
        weekday=next(iter(weekdays)) if len(weekdays) == 1 else None,
        day_of_month=next(iter(days)) if len(days) == 1 else None,
    )


def _take_days(s: str, patterns: list[re.Pattern[str]], days: set[int]) -> str:
    """Collect the days of the month the patterns find, and cut them out of the text."""
    for pattern in patterns:
        for match in pattern.finditer(s):
            day = _day_from(match)
            if day is not None:
                days.add(day)
        s = pattern.sub(" ; ", s)
    return s


def _weekday_index(word: str) -> int:
    return _WEEKDAYS.index(word) if word in _WEEKDAYS else _WEEKDAY_STEMS[word]


def _normalise(text: str) -> str:
    s = text.casefold()
    s = re.sub(r"[\u2010-\u2015\u2212]", "-", s)  # typographic dashes and minus
    s = s.replace("\u00a0", " ").replace("’", "'")
    s = re.sub(r"(?<=[a-z])-(?=[a-z])", " ", s)  # "twenty-five" -> "twenty five"
    return " ".join(s.split())


def _number_words_to_digits(match: re.Match[str]) -> str:
    """Replace a run of number words with digits ("one hundred and fifty" -> "150")."""
    words = match.group(0).split()
    out: list[str] = []
    i = 0
    while i < len(words):
        value, j = _parse_number(words, i)
        if value is None:
            out.append(words[i])
            i += 1
            continue
        # A lone "one" is nearly always "one payment" or "that one", not an amount, unless money follows.
        if words[i:j] == ["one"] and not re.match(r"\s*(?:dollars?|bucks)\b", match.string[match.end():]):
            out.append("one")
        else:
            out.append(str(value))
        i = j
    return " ".join(out)


def _below_hundred(words: list[str], i: int) -> tuple[int | None, int]:
    if i >= len(words):
        return None, i
    word = words[i]
    if word in _TENS:
        if i + 1 < len(words) and words[i + 1] in _UNITS and words[i + 1] != "zero":
            return _TENS[word] + _UNITS[words[i + 1]], i + 2
        return _TENS[word], i + 1
    if word in _TEENS:
        return _TEENS[word], i + 1
    if word in _UNITS:
        return _UNITS[word], i + 1
    return None, i


def _below_thousand(words: list[str], i: int) -> tuple[int | None, int]:
    if i < len(words) and words[i] == "a" and i + 1 < len(words) and words[i + 1] == "hundred":
        value, j = 100, i + 2
    elif i < len(words) and words[i] == "hundred":
        value, j = 100, i + 1
    else:
        value, j = _below_hundred(words, i)
        if value is None:
            return None, i
        if j < len(words) and words[j] == "hundred" and value > 0:
            value, j = value * 100, j + 1  # "one hundred", "twelve hundred"
        else:
            return value, j
    # After "hundred": an optional "and", then 1..99.
    k = j + 1 if j < len(words) and words[j] == "and" else j
    rest, after = _below_hundred(words, k)
    if rest is not None:
        return value + rest, after
    return value, j


def _parse_number(words: list[str], i: int) -> tuple[int | None, int]:
    total = 0
    last_scale = None
    found = False
    j = i
    while j < len(words):
        if words[j] == "a" and j + 1 < len(words) and words[j + 1] in _SCALES:
            part, after = 1, j + 1
        else:
            part, after = _below_thousand(words, j)
        if part is None:
            break
        scale = _SCALES.get(words[after]) if after < len(words) else None
        if scale is not None and (last_scale is None or scale < last_scale):
            total, j, last_scale, found = total + part * scale, after + 1, scale, True
            if j < len(words) and words[j] == "and" and _below_thousand(words, j + 1)[0] is not None:
                j += 1
            continue
        if found and last_scale is not None and part >= last_scale:
            break  # "two thousand three thousand" is two numbers, not one
        total, j, found = total + part, after, True
        break
    if not found:
        return None, i
    return total, j


def _scaled(match: re.Match[str]) -> str:
    try:
        value = Decimal(match[1]) * (100 if match[2] == "hundred" else 1000)
    except InvalidOperation:  # pragma: no cover - the pattern only passes digits
        return match[0]
    return str(int(value)) if value == value.to_integral_value() else f"{value:f}"


def _day_from(match: re.Match[str]) -> int | None:
    groups = match.groupdict()
    if groups.get("num"):
        day = int(groups["num"])
    elif groups.get("ounit"):
        day = _ORDINAL_UNITS[groups["ounit"]] + (20 if groups.get("otens") == "twenty" else 0)
        day += 30 if groups.get("otens") == "thirty" else 0
    elif groups.get("oother"):
        day = _ORDINAL_OTHER[groups["oother"]]
    else:
        day = 31  # "the last day of the month" / "end of the month": the engine clamps 31 to the month's end
    return day if 1 <= day <= 31 else None


def _amount(s: str) -> int | None:
    explicit: set[int] = set()
    bare: set[int] = set()
    for match in _AMOUNT.finditer(s):
        if not match["dollar"] and not match["after"] and not match["k"] and not match["cents"]:
            if _NOT_MONEY_AFTER.match(s, match.end("num")) or _word_before(s, match.start("num")) in _NOT_MONEY_BEFORE:
                continue
        if s[:match.start()].rstrip().endswith("-"):
            continue  # "-50": a negative amount is nonsense, not fifty dollars
        cents = _to_cents(match["num"], bool(match["k"]), match["cents"])
        if cents is None:
            return None
        (explicit if match["dollar"] or match["after"] or match["k"] else bare).add(cents)
    for match in _CENTS_ONLY.finditer(s):
        if not re.search(r"and\s*$", s[:match.start()]):
            explicit.add(int(match["num"]))
    found = explicit or bare
    if len(found) != 1:
        return None
    cents = found.pop()
    return cents if 0 < cents <= MAX_AMOUNT_CENTS else None


def _to_cents(number: str, thousands: bool, extra_cents: str | None) -> int | None:
    try:
        if thousands:
            value = Decimal(number.replace(",", "")) * 1000
            if value != value.quantize(Decimal("0.01")):
                return None
            return int(value * 100)
        cents = parse_dollars(number)
    except (ValueError, InvalidOperation):
        return None  # more than 2 decimals and the like: unclear, so no amount
    if extra_cents is not None:
        if "." in number:
            return None
        cents += int(extra_cents)
    return cents


def _word_before(s: str, index: int) -> str:
    match = re.search(r"([a-z#]+)\W*$", s[:index])
    return match[1] if match else ""


# PLAN-4: at the plan's options, "I can pay 50", "I can only do $50 a month", "can I do 75 every two weeks" offer
# other terms, which the plan flow must weigh; the model read them as pay_now and sent the debtor to pay now. A
# payment today is still a payment ("I can pay 50 today"), and a denial ("I can't pay 50 a month") offers nothing.
_PAYS_NOW = re.compile(r"\b(?:today|tonight|now|right away|this (?:morning|afternoon|evening)|in full|full (?:balance|"
                       r"amount)|the whole (?:thing|balance|amount)|all of it|hoy|ahora|ya mismo|todo de una vez)\b")
_DENIES_PAYING = re.compile(r"\b(?:cant|cannot|can not|couldnt|wont|will not|dont|do not|not able|unable|never|"
                            r"no puedo|no podemos|no voy a|no tengo)\b")
# Words that offer: "I can pay", "can I do", "how about", "only", "I could", "puedo pagar"...; a bare "50 a month"
# (an amount with its schedule) offers too.
_OFFERS = re.compile(r"\b(?:can|could|would|will|able|afford|how about|what about|only|max|maximum|at most|up to|"
                     r"puedo|podria|podemos|que tal|solo|nada mas|maximo|hasta)\b")


def offers_terms(text: str) -> bool:
    """PLAN-4: the words offer an amount (and maybe how often) to pay by instalments: "I can pay 50", "50 a month",
    "can I do 75 every two weeks", "puedo pagar 50 al mes". False for a payment today ("I can pay 50 today"), a
    denial ("I can't pay 50"), and anything without an amount. Never raises on text."""
    said = parse_affordability(text)
    if said.amount_cents is None:
        return False
    plain = "".join(c for c in unicodedata.normalize("NFKD", _normalise(text).replace("'", ""))
                    if not unicodedata.combining(c))
    if _PAYS_NOW.search(plain) or _DENIES_PAYING.search(plain):
        return False
    return said.frequency is not None or bool(_OFFERS.search(plain))
