"""SMS keywords handled before NLU (OPT-2): a whole message that is one of these words, in any case, with or
without accents and with any punctuation, is acted on directly. Natural phrasing ("stop texting me", "ya no me
manden mensajes") goes through NLU to the same service.

The Spanish keywords (ALTO, PARAR, BAJA, CANCELAR, AYUDA) work alongside the English ones, which always work
whatever the conversation's language. A keyword is a sure sign of its language (ALTO Spanish, STOP English):
bot/language.observe makes it the conversation's, so the confirmation and every later answer (OPT-3's one reply
after an opt-out, HELP, START) are in words the sender just used; the wording is in bot/wording/.

Per channel. A text (and an email reply) keeps every keyword the carrier rules list (CTIA, Twilio: CANCEL, END and
QUIT opt out). In a live chat the person opened (the web widget, the REST/terminal chat) a lone CANCEL, END, QUIT or
CANCELAR mid-flow usually means "cancel this", and opting the whole chat out on it would leave them with one answer
and no way forward. There it opts nothing out silently either: the answer asks which they mean, with STOP one tap
away (CHAT_AMBIGUOUS, ASK). The unambiguous words (STOP, STOPALL, UNSUBSCRIBE, REVOKE, OPT OUT, ALTO, PARAR, BAJA)
opt out in every channel, and natural language ("stop messaging me") still does through NLU (OPT-2)."""

from __future__ import annotations

import re
import unicodedata

from bot import wording
from bot.compliance import cues
from bot.config import Settings

# OPT-2: 47 CFR 64.1200(a)(10)-(12), CTIA, Twilio Advanced Opt-Out.
STOP_KEYWORDS = frozenset({"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"})
START_KEYWORDS = frozenset({"start", "unstop"})
HELP_KEYWORDS = frozenset({"help", "info"})
# OPT-2 in Spanish: "any reasonable means" (FCC 24-24) includes the words a Spanish speaker texts.
SPANISH_STOP_KEYWORDS = frozenset({"alto", "parar", "baja", "cancelar"})
SPANISH_HELP_KEYWORDS = frozenset({"ayuda"})

STOP, START, HELP = "stop", "start", "help"
ASK = "ask"  # a live chat's lone CANCEL: "cancel this, or stop messages here?" asked, nothing opted out
# OPT-2 per channel: live chats the person started, where these lone words mostly mean "cancel what we're doing".
CHAT_CHANNELS = frozenset({"web", "rest"})
CHAT_AMBIGUOUS = frozenset({"cancel", "end", "quit", "cancelar"})


def _word(text: str) -> str:
    """The message as one bare word: accents dropped ("Bajá" is "baja"), then anything not a letter."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))
    return re.sub(r"[^a-z]", "", plain)


# OPT-2 by email: a short reply that asks, in so many words, for no more email ("Please stop emailing me.", "no more
# emails", "unsubscribe me"), signed or not, is the email's STOP; the model may read it as a cease or not at all.
_THANKS = r"(?:\s*,?\s*(?:please|thanks?|thank\s+you|por\s+favor|gracias))?[\s.!]*$"
_EMAIL_STOP_EN = re.compile(
    r"^(?:please\s+)?(?:stop\s+(?:e-?mailing(?:\s+me)?|sending\s+(?:me\s+)?(?:e-?mails?|these(?:\s+e-?mails?)?))|"
    r"unsubscribe\s+me|remove\s+me\s+from\s+(?:your|the|this)\s+(?:e-?mail(?:ing)?\s+)?list|no\s+more\s+e-?mails?)"
    + _THANKS, re.IGNORECASE)
_EMAIL_STOP_ES = re.compile(r"^(?:ya\s+)?no\s+me\s+(?:manden|envien)\s+(?:mas\s+)?(?:correos|e-?mails?)" + _THANKS,
                            re.IGNORECASE)
_SIGN_OFF = re.compile(r"\n\s*(?:[A-Za-zÀ-ÿ.'-]+\s*){1,3}$")  # "Grace", "Thanks, Grace" on a last line of its own


def classify(text: str, channel: str) -> str | None:
    """STOP, START or HELP when the whole message is that keyword ("Stop.", "OPT OUT", "¡ALTO!"), ASK for a live
    chat's lone CANCEL, END, QUIT or CANCELAR, else None. By email, a short reply asking for no more email is STOP."""
    if channel == "email" and _email_stop_language(text):
        return STOP
    if len(text) > 40:
        return None  # a sentence, not a keyword: NLU decides
    word = _word(text)
    if channel in CHAT_CHANNELS and word in CHAT_AMBIGUOUS:
        return ASK
    if word in STOP_KEYWORDS or word in SPANISH_STOP_KEYWORDS:
        return STOP
    if word in START_KEYWORDS:
        return START
    if word in HELP_KEYWORDS or word in SPANISH_HELP_KEYWORDS:
        return HELP
    return None


# OPT-3's way back, asked for in words ("please start sending me emails again", "opt me back in", "vuelvan a mandarme
# mensajes"): the model read such a request as opt_out, the opposite. It opts nothing out (asks_to_resume).
_RESUME = re.compile(
    r"\b(?:start|resume|restart|continue)\s+(?:sending|texting|emailing|e-mailing|messaging|contacting|writing)\b"
    r"|\b(?:send|text|e-?mail|message|contact|write)\s+(?:to\s+)?me\s+(?:\w+\s+){0,4}?(?:again|once\s+more)\b"
    r"|\b(?:opt|sign|subscribe|put)\s+(?:me\s+)?back\s+(?:in|on)\b|\bopt\s+me\s+in\b|\bre-?subscribe\b"
    r"|\b(?:vuelvan|vuelva|empiecen|empiece|comiencen|comience)\s+a\s+(?:enviar|mandar|escribir)"
    r"|\b(?:envien|manden|escriban)(?:me|le)?\s+(?:\w+\s+){0,4}?(?:otra\s+vez|de\s+nuevo|nuevamente)\b",
    re.IGNORECASE)
# Words that stop something in the same message ("stop texting me, email me again instead"): then the opt-out stands.
_STOPS_TOO = re.compile(r"\b(?:stop|quit|no\s+more|don'?t|do\s+not|never|ya\s+no|no\s+me)\b", re.IGNORECASE)


def asks_to_resume(text: str) -> bool:
    """OPT-3: whether the words ask for our messages again, and stop nothing. Not an opt-out, whatever the model
    reads; the way back itself is START by text, or a compliance reviewer for email (README "Email")."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return bool(_RESUME.search(plain)) and not _STOPS_TOO.search(plain)


def language_of(text: str, channel: str) -> str | None:
    """The language an opt-out or help keyword message is in: "es" for a Spanish keyword, "en" for an English one,
    else None. START is no sign (the Spanish wording says START too: "Responda START"), nor is a live chat's lone
    CANCEL (ASK: not acted on as a keyword)."""
    word = classify(text, channel)
    if word not in (STOP, HELP):
        return None
    if _word(text) in SPANISH_STOP_KEYWORDS or _word(text) in SPANISH_HELP_KEYWORDS:
        return wording.SPANISH
    return (_email_stop_language(text) if channel == "email" else None) or wording.ENGLISH


def _email_stop_language(text: str) -> str | None:
    """The language of an email asking in words for no more email (without its sign-off line), else None."""
    plain = _SIGN_OFF.sub("", text.strip()).strip().replace("\u2019", "'")
    if _EMAIL_STOP_ES.match(plain):
        return wording.SPANISH
    return wording.ENGLISH if _EMAIL_STOP_EN.match(plain) else None


# OPT-3: email has its own opt-out words, since START by email never opts back in (bot/mail/inbound.py).
_OWN_WORDING = {"sms": ("stop_reply", "start_reply", "opted_out_reply"), "email": ("stop_reply", "opted_out_reply")}


def _per_channel(key: str, channel: str, language: str | None) -> str:
    return wording.say(f"{key}_{channel if key in _OWN_WORDING.get(channel, ()) else 'other'}", language)


def stop_reply(channel: str, language: str | None = wording.ENGLISH) -> str:
    # OPT-3: one confirmation with nothing else in it: no balance, no link, no other ask.
    return _per_channel("stop_reply", channel, language)


def stop_replies(channel: str) -> frozenset[str]:
    """The OPT-3 confirmation in every language (how the pipeline recognises it among replies)."""
    return frozenset(stop_reply(channel, language) for language in wording.LANGUAGES)


def start_reply(channel: str, language: str | None = wording.ENGLISH) -> str:
    return _per_channel("start_reply", channel, language)


def opted_out_reply(channel: str, language: str | None = wording.ENGLISH) -> str:
    # OPT-3: the one answer a consumer who writes in after STOP gets; nothing more until START.
    return _per_channel("opted_out_reply", channel, language)


def cancel_or_stop_reply(language: str | None = wording.ENGLISH) -> str:
    # OPT-2 in a live chat: a lone CANCEL asks; STOP (its button) opts out, anything else carries on.
    return wording.say("cancel_or_stop_reply", language)


def help_reply(settings: Settings, language: str | None = wording.ENGLISH) -> str:
    # OPT-2: HELP gives the company name, a support contact and how to stop.
    return wording.say("help_reply", language, business=settings.business_name, support=settings.support_contact)


# OPT-2: "stop texting me" inside a longer message ("what do I owe? also pls stop texting me"): "any reasonable means"
# (FCC 24-24) revokes consent, and the model, reading the whole message, picked the other request. Matched on the
# message with accents, apostrophes and punctuation folded (cues.normalise). Per channel: texts and messages on a
# phone or a chat, email by email. Strict: a clause that denies or supposes it ("don't stop texting me", "if I say
# stop texting me...") is no opt-out, nor one that only limits when or where ("stop texting me at work / before
# noon": TIME-1 reads those), nor a message that also ceases contact or refuses to pay (CEASE-1, the wider request,
# which the NLU and its rule take: a text opt-out would leave the other channels open).
_MESSAGES = r"(?:texts?|text messages?|messages|msgs|sms)"
_EMAILS = r"(?:e ?mails?)"
_QUALIFIED = (r"(?!(?: me)? (?:at|before|after|during|on|in|until|till|so early|so late|late|early|every|so much"
              r"|so often)\b)")
_ASKS_STOP = {
    "text": re.compile(
        rf"\b(?:stop|quit|cease) (?:texting|messaging|sending (?:me )?(?:these |any |more )?{_MESSAGES}){_QUALIFIED}"
        rf"(?: me)?\b|\bno more {_MESSAGES}\b{_QUALIFIED}|\bunsubscribe me\b|\b(?:take|remove) me off (?:your|the|this)"
        rf" (?:text(?:ing)? |sms |messaging )?list\b|\b(?:dont|do not|never) (?:text|message) me (?:again|any ?more)\b"
        r"|\b(?:dejen|deje) de (?:mandarme|enviarme) (?:mensajes|textos)\b|\bya no me (?:manden|envien|escriban) "
        r"(?:mas )?(?:mensajes|textos)\b"),
    "email": re.compile(
        rf"\b(?:stop|quit|cease) (?:e ?mailing|sending (?:me )?(?:these |any |more )?{_EMAILS}){_QUALIFIED}(?: me)?\b"
        rf"|\bno more {_EMAILS}\b|\bunsubscribe me\b|\bya no me (?:manden|envien) (?:mas )?(?:correos|e ?mails?)\b"),
}
_STOP_DENIED = re.compile(r"\b(?:dont|do not|didnt|did not|never|not|if|when|whether|why|would|should|said|say|says)\b")
_CEASES_TOO = re.compile(r"\b(?:leave me alone|stop (?:contacting|calling|bothering|harass\w*)|cease (?:all )?contact"
                         r"|refuse to pay|not (?:going to |gonna )?pay\w*|wont pay|never pay|dont (?:contact|call) "
                         r"(?:me|us)|dejen de (?:llamarme|molestarme|contactarme)|no voy a pagar)\b")


def asks_to_stop_messages(text: str, channel: str) -> bool:
    """OPT-2: the message asks, anywhere in it and in plain words, for no more messages on this channel ("what do I
    owe? also stop texting me"), so it opts out like STOP (OPT-3: the confirmation is the only reply). False for a
    whole-message keyword (classify reads those), a denial or supposition, a limit of time or place, a message that
    also asks us to cease contact or refuses to pay (CEASE-1), and one with a crisis cue (VUL-2: 988 and a person
    come first; the person sees the request)."""
    pattern = _ASKS_STOP["email" if channel == "email" else "text"]
    whole = cues.normalise(text)
    if _CEASES_TOO.search(whole) or cues.is_crisis(text):
        return False  # the wider request, or VUL-2's crisis line and a person, which the confirmation would silence
    for clause in re.split(r"[.!?;,\n]|\bbut\b|\bpero\b", text):
        plain = cues.normalise(clause)
        if any(not _STOP_DENIED.search(plain[: m.start()]) for m in pattern.finditer(plain)):
            return True
    return False
