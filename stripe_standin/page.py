"""The hosted test checkout page: server-rendered HTML, no JavaScript, where a person types a test card. It plays
Stripe Checkout's part in the demo and the browser tests; the card goes from the browser to the stand-in only,
never to Settle's gateway (PCI-1). Nothing typed is ever echoed back or logged: after an error the card fields
come back empty.

Like Checkout, the page speaks the session's `locale` (https://docs.stripe.com/js/appendix/supported_locales), or
with "auto" (and when none was given) the browser's language. The stand-in writes English and Spanish only: "es"
and "es-419" get Spanish, every other locale Stripe accepts gets English."""

from __future__ import annotations

from html import escape
from typing import Any

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#f6f9fc;color:#1a1f36;margin:0}
main{max-width:26rem;margin:2rem auto;background:#fff;border-radius:8px;box-shadow:0 2px 8px #0002;padding:1.5rem}
.test{background:#ffde92;color:#5f3b00;font-size:.8rem;padding:.3rem .6rem;border-radius:4px;display:inline-block}
h1{font-size:1.1rem;margin:.8rem 0 .2rem}.amount{font-size:2rem;font-weight:600;margin:.2rem 0 1rem}
label{display:block;font-size:.85rem;margin:.7rem 0 .2rem}input[type=text],input[type=email],select{width:100%;
box-sizing:border-box;padding:.55rem;border:1px solid #c4cdd5;border-radius:4px;font-size:1rem}
.row{display:flex;gap:.6rem}.row>div{flex:1}button{width:100%;margin-top:1.2rem;padding:.75rem;border:0;
border-radius:4px;background:#635bff;color:#fff;font-size:1rem;font-weight:600;cursor:pointer}
.error{background:#fde8e8;color:#9b1c1c;padding:.6rem;border-radius:4px;margin-top:.8rem}
.note{font-size:.8rem;color:#4f566b;margin-top:.8rem}.consent{display:flex;gap:.5rem;align-items:flex-start;
font-size:.85rem;margin-top:1rem}.consent input{margin-top:.2rem}a{color:#635bff}
"""


# The locales Stripe Checkout accepts; anything else is refused when the session is created, as Stripe does.
CHECKOUT_LOCALES = ("auto", "bg", "cs", "da", "de", "el", "en", "en-GB", "es", "es-419", "et", "fi", "fil", "fr",
                    "fr-CA", "hr", "hu", "id", "it", "ja", "ko", "lt", "lv", "ms", "mt", "nb", "nl", "pl", "pt",
                    "pt-BR", "ro", "ru", "sk", "sl", "sv", "th", "tr", "vi", "zh", "zh-HK", "zh-TW")

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "test": "TEST MODE: local Stripe stand-in", "save_intro": "Save a card for later payments.",
        "agree": "I agree to the terms.", "choose": "Choose one",
        "reuse": "By providing your card information, you allow this business to charge your card for future "
                 "payments in accordance with their terms.",
        "pay": "Pay {amount}", "save": "Save card", "back": "&larr; Back", "email": "Email",
        "card_number": "Card number", "expiry": "Expiry (MM / YY)", "expiry_placeholder": "MM / YY", "cvc": "CVC",
        "name": "Name on card", "postal": "ZIP",
        "test_cards": "Test cards: 4242 4242 4242 4242 succeeds, 4000 0000 0000 0002 is declined, "
                      "4000 0027 6000 3184 asks for authentication. Any future expiry, any 3 digits.",
        "pay_title": "Pay {product}", "confirm": "Confirm this payment",
        "confirm_text": "Your bank wants to check that it's you. This is a test page: choose what the bank says.",
        "complete": "Complete authentication", "fail": "Fail authentication", "authenticate": "Authenticate",
        "done": "This payment is complete. You can close this page.",
        "expired": "This checkout has expired. Please go back and start again.",
        "back_to_business": "Back to the business", "checkout": "Checkout", "not_found": "Not found",
        "no_page": "This checkout page doesn't exist.",
    },
    "es": {
        "test": "MODO DE PRUEBA: Stripe local de prueba", "save_intro": "Guarde una tarjeta para pagos futuros.",
        "agree": "Acepto los términos.", "choose": "Elija una opción",
        "reuse": "Al dar la información de su tarjeta, permite que esta empresa cobre pagos futuros a su tarjeta "
                 "según sus términos.",
        "pay": "Pagar {amount}", "save": "Guardar tarjeta", "back": "&larr; Volver", "email": "Correo electrónico",
        "card_number": "Número de tarjeta", "expiry": "Vencimiento (MM / AA)", "expiry_placeholder": "MM / AA",
        "cvc": "CVC", "name": "Nombre en la tarjeta", "postal": "Código postal",
        "test_cards": "Tarjetas de prueba: 4242 4242 4242 4242 se aprueba, 4000 0000 0000 0002 se rechaza, "
                      "4000 0027 6000 3184 pide autenticación. Cualquier vencimiento futuro, cualquier número de 3 "
                      "dígitos.",
        "pay_title": "Pagar {product}", "confirm": "Confirme este pago",
        "confirm_text": "Su banco quiere comprobar que es usted. Esta es una página de prueba: elija lo que dice el "
                        "banco.",
        "complete": "Completar la autenticación", "fail": "Fallar la autenticación", "authenticate": "Autenticación",
        "done": "Este pago está completo. Puede cerrar esta página.",
        "expired": "Este pago venció. Vuelva e inténtelo de nuevo.",
        "back_to_business": "Volver a la empresa", "checkout": "Pago", "not_found": "No encontrada",
        "no_page": "Esta página de pago no existe.",
    },
}

# The card errors the stand-in gives (stripe_standin/cards.py, state.py), as Checkout shows them in Spanish.
ERRORS_ES = {
    "Your card was declined.": "Su tarjeta fue rechazada.",
    "Your card has insufficient funds.": "Su tarjeta no tiene fondos suficientes.",
    "Your card has expired.": "Su tarjeta está vencida.",
    "Your card's security code is incorrect.": "El código de seguridad de su tarjeta es incorrecto.",
    "Your card was declined. Your request was in test mode, but used a non test (live) card. For a list of valid test "
    "cards, visit: https://stripe.com/docs/testing.": "Su tarjeta fue rechazada. Su solicitud estaba en modo de "
    "prueba, pero usó una tarjeta real. Vea las tarjetas de prueba válidas en https://stripe.com/docs/testing.",
    "Your card was declined. This transaction requires authentication.":
        "Su tarjeta fue rechazada. Esta operación necesita autenticación.",
    "We are unable to authenticate your payment method. Please choose a different payment method and try again.":
        "No pudimos autenticar su método de pago. Elija otro método de pago e inténtelo de nuevo.",
    "This checkout is no longer open.": "Este pago ya no está abierto.",
    "Please tick the box to agree before you pay.": "Marque la casilla para aceptar antes de pagar.",
    "Your card number is invalid.": "El número de su tarjeta no es válido.",
    "Your card's expiration date is incomplete or in the past.":
        "La fecha de vencimiento de su tarjeta está incompleta o ya pasó.",
    "Your card's security code is incomplete.": "El código de seguridad de su tarjeta está incompleto.",
    "There is nothing to authenticate.": "No hay nada que autenticar.",
}


def language(session: dict[str, Any] | None, accept_language: str | None) -> str:
    """"en" or "es": the session's locale when it names one, else (auto, or none) the browser's first language
    that the stand-in writes in."""
    locale = (session or {}).get("locale") or "auto"
    if locale != "auto":
        return "es" if locale.split("-")[0] == "es" else "en"
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary in TEXTS and params.replace(" ", "") not in ("q=0", "q=0.0"):
            return primary
    return "en"


def _error_text(message: str, lang: str) -> str:
    if lang != "es":
        return message
    if message.startswith('Please choose an answer for "'):
        return "Elija una respuesta para " + message.removeprefix("Please choose an answer for ")
    return ERRORS_ES.get(message, message)


def _money(amount: int, currency: str) -> str:
    symbol = "$" if currency == "usd" else ""
    suffix = "" if symbol else f" {currency.upper()}"
    return f"{symbol}{amount // 100:,}.{amount % 100:02d}{suffix}"


def _page(title: str, body: str, lang: str = "en") -> str:
    return (f"<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
            f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body><main>"
            f"<span class=\"test\">{TEXTS[lang]['test']}</span>{body}</main></body></html>")


def checkout_form(session: dict[str, Any], product: str, error: str | None = None,
                  email: str | None = None, name: str | None = None, email_locked: bool = False,
                  lang: str = "en") -> str:
    """The payment form, in `lang` (language()). Like Checkout, it starts empty but for the email Stripe already
    has (the session's customer_email, or the email of its Customer), which is then shown read-only; after a failed
    attempt the email and name typed come back, never the card."""
    mode = session["mode"]
    t = TEXTS[lang]
    heading = escape(product)
    amount = (f"<div class=\"amount\" data-testid=\"amount\">{_money(session['amount_total'], session['currency'])}"
              f"</div>") if mode == "payment" else f"<p>{t['save_intro']}</p>"
    tos = (session.get("custom_text") or {}).get("terms_of_service_acceptance") or {}
    needs_consent = (session.get("consent_collection") or {}).get("terms_of_service") == "required"
    agreement = escape(tos.get("message") or t["agree"])
    consent = (f"<div class=\"consent\"><input type=\"checkbox\" id=\"consent\" name=\"consent\" value=\"yes\" "
               f"required><label for=\"consent\" style=\"margin:0\">{agreement}</label></div>") if needs_consent else ""
    fields = ""
    for custom in session.get("custom_fields") or []:
        # The key names the form field only: the person sees the label Stripe requires, never the key.
        label = escape(custom["label"]["custom"])
        control = f"field_{escape(custom['key'])}"  # not `name`: that is the name on card typed before
        required = "" if custom["optional"] else " required"
        if custom["dropdown"] is not None:
            choices = "".join(f"<option value=\"{escape(o['value'])}\">{escape(o['label'])}</option>"
                              for o in custom["dropdown"]["options"])
            fields += (f"<label for=\"{control}\">{label}</label>"
                       f"<select id=\"{control}\" name=\"{control}\"{required}>"
                       f"<option value=\"\">{t['choose']}</option>{choices}</select>")
        else:
            fields += (f"<label for=\"{control}\">{label}</label>"
                       f"<input type=\"text\" id=\"{control}\" name=\"{control}\"{required}>")
    reuse = ""
    position = ((session.get("consent_collection") or {}).get("payment_method_reuse_agreement") or {}).get("position")
    if position and position != "hidden":
        reuse = f"<p class=\"note\">{t['reuse']}</p>"
    submit = (session.get("custom_text") or {}).get("submit") or {}
    submit_note = f"<p class=\"note\">{escape(submit['message'])}</p>" if submit.get("message") else ""
    problem = f"<div class=\"error\" role=\"alert\">{escape(_error_text(error, lang))}</div>" if error else ""
    button = t["pay"].format(amount=_money(session["amount_total"], session["currency"])) if mode == "payment" \
        else t["save"]
    readonly = " readonly" if email_locked else ""
    cancel = (f"<p class=\"note\"><a href=\"{escape(session['cancel_url'])}\">{t['back']}</a></p>"
              if session.get("cancel_url") else "")
    body = f"""
<h1>{heading}</h1>{amount}{problem}
<form method="post" action="/checkout/{escape(session['id'])}" autocomplete="off">
  <label for="email">{t['email']}</label>
  <input type="email" id="email" name="email" value="{escape(email or '')}"{readonly}>
  <label for="card_number">{t['card_number']}</label>
  <input type="text" id="card_number" name="card_number" inputmode="numeric" placeholder="1234 1234 1234 1234"
         required>
  <div class="row">
    <div><label for="exp">{t['expiry']}</label><input type="text" id="exp" name="exp"
         placeholder="{t['expiry_placeholder']}" required></div>
    <div><label for="cvc">{t['cvc']}</label><input type="text" id="cvc" name="cvc" inputmode="numeric" placeholder="123"
         required></div>
  </div>
  <label for="name">{t['name']}</label><input type="text" id="name" name="name" value="{escape(name or '')}">
  <label for="postal">{t['postal']}</label><input type="text" id="postal" name="postal" inputmode="numeric">
  {fields}{consent}{reuse}{submit_note}
  <button type="submit">{escape(button)}</button>
</form>
<p class="note">{t['test_cards']}</p>{cancel}"""
    return _page(t["pay_title"].format(product=product), body, lang)


def challenge(session: dict[str, Any], lang: str = "en") -> str:
    """3-D Secure, as Stripe's test page shows it: the person completes or fails the challenge."""
    t = TEXTS[lang]
    sid = escape(session["id"])
    body = f"""
<h1>{t['confirm']}</h1>
<p>{t['confirm_text']}</p>
<form method="post" action="/checkout/{sid}/authenticate"><input type="hidden" name="result" value="complete">
<button type="submit">{t['complete']}</button></form>
<form method="post" action="/checkout/{sid}/authenticate"><input type="hidden" name="result" value="fail">
<button type="submit" style="background:#9b1c1c">{t['fail']}</button></form>"""
    return _page(t["authenticate"], body, lang)


def closed(session: dict[str, Any], lang: str = "en") -> str:
    t = TEXTS[lang]
    if session["status"] == "complete":
        text = t["done"]
        link = (f"<p><a href=\"{escape(session['success_url'].replace('{CHECKOUT_SESSION_ID}', session['id']))}\">"
                f"{t['back_to_business']}</a></p>")
    else:
        text = t["expired"]
        link = (f"<p><a href=\"{escape(session['cancel_url'])}\">{t['back_to_business']}</a></p>"
                if session.get("cancel_url") else "")
    return _page(t["checkout"], f"<h1>{escape(text)}</h1>{link}", lang)


def not_found(lang: str = "en") -> str:
    return _page(TEXTS[lang]["not_found"], f"<h1>{TEXTS[lang]['no_page']}</h1>", lang)
