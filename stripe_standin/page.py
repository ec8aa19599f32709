"""The hosted test checkout page: server-rendered HTML, no JavaScript, where a person types a test card. It plays
Stripe Checkout's part in the demo and the browser tests; the card goes from the browser to the stand-in only,
never to Settle's gateway (PCI-1). Nothing typed is ever echoed back or logged: after an error the card fields
come back empty."""

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


def _money(amount: int, currency: str) -> str:
    symbol = "$" if currency == "usd" else ""
    suffix = "" if symbol else f" {currency.upper()}"
    return f"{symbol}{amount // 100:,}.{amount % 100:02d}{suffix}"


def _page(title: str, body: str) -> str:
    return (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
            f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body><main>"
            f"<span class=\"test\">TEST MODE: local Stripe stand-in</span>{body}</main></body></html>")


def checkout_form(session: dict[str, Any], product: str, error: str | None = None,
                  email: str | None = None, name: str | None = None, email_locked: bool = False) -> str:
    """The payment form. Like Checkout, it starts empty but for the email Stripe already has (the session's
    customer_email, or the email of its Customer), which is then shown read-only; after a failed attempt the
    email and name typed come back, never the card."""
    mode = session["mode"]
    heading = escape(product)
    amount = (f"<div class=\"amount\" data-testid=\"amount\">{_money(session['amount_total'], session['currency'])}"
              f"</div>") if mode == "payment" else "<p>Save a card for later payments.</p>"
    tos = (session.get("custom_text") or {}).get("terms_of_service_acceptance") or {}
    needs_consent = (session.get("consent_collection") or {}).get("terms_of_service") == "required"
    agreement = escape(tos.get("message") or "I agree to the terms.")
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
                       f"<option value=\"\">Choose one</option>{choices}</select>")
        else:
            fields += (f"<label for=\"{control}\">{label}</label>"
                       f"<input type=\"text\" id=\"{control}\" name=\"{control}\"{required}>")
    reuse = ""
    position = ((session.get("consent_collection") or {}).get("payment_method_reuse_agreement") or {}).get("position")
    if position and position != "hidden":
        reuse = ("<p class=\"note\">By providing your card information, you allow this business to charge your card "
                 "for future payments in accordance with their terms.</p>")
    submit = (session.get("custom_text") or {}).get("submit") or {}
    submit_note = f"<p class=\"note\">{escape(submit['message'])}</p>" if submit.get("message") else ""
    problem = f"<div class=\"error\" role=\"alert\">{escape(error)}</div>" if error else ""
    button = f"Pay {_money(session['amount_total'], session['currency'])}" if mode == "payment" else "Save card"
    readonly = " readonly" if email_locked else ""
    cancel = (f"<p class=\"note\"><a href=\"{escape(session['cancel_url'])}\">&larr; Back</a></p>"
              if session.get("cancel_url") else "")
    body = f"""
<h1>{heading}</h1>{amount}{problem}
<form method="post" action="/checkout/{escape(session['id'])}" autocomplete="off">
  <label for="email">Email</label><input type="email" id="email" name="email" value="{escape(email or '')}"{readonly}>
  <label for="card_number">Card number</label>
  <input type="text" id="card_number" name="card_number" inputmode="numeric" placeholder="1234 1234 1234 1234"
         required>
  <div class="row">
    <div><label for="exp">Expiry (MM / YY)</label><input type="text" id="exp" name="exp" placeholder="MM / YY"
         required></div>
    <div><label for="cvc">CVC</label><input type="text" id="cvc" name="cvc" inputmode="numeric" placeholder="123"
         required></div>
  </div>
  <label for="name">Name on card</label><input type="text" id="name" name="name" value="{escape(name or '')}">
  <label for="postal">ZIP</label><input type="text" id="postal" name="postal" inputmode="numeric">
  {fields}{consent}{reuse}{submit_note}
  <button type="submit">{escape(button)}</button>
</form>
<p class="note">Test cards: 4242 4242 4242 4242 succeeds, 4000 0000 0000 0002 is declined,
4000 0027 6000 3184 asks for authentication. Any future expiry, any 3 digits.</p>{cancel}"""
    return _page(f"Pay {product}", body)


def challenge(session: dict[str, Any]) -> str:
    """3-D Secure, as Stripe's test page shows it: the person completes or fails the challenge."""
    sid = escape(session["id"])
    body = f"""
<h1>Confirm this payment</h1>
<p>Your bank wants to check that it's you. This is a test page: choose what the bank says.</p>
<form method="post" action="/checkout/{sid}/authenticate"><input type="hidden" name="result" value="complete">
<button type="submit">Complete authentication</button></form>
<form method="post" action="/checkout/{sid}/authenticate"><input type="hidden" name="result" value="fail">
<button type="submit" style="background:#9b1c1c">Fail authentication</button></form>"""
    return _page("Authenticate", body)


def closed(session: dict[str, Any]) -> str:
    if session["status"] == "complete":
        text = "This payment is complete. You can close this page."
        link = (f"<p><a href=\"{escape(session['success_url'].replace('{CHECKOUT_SESSION_ID}', session['id']))}\">"
                f"Back to the business</a></p>")
    else:
        text = "This checkout has expired. Please go back and start again."
        link = (f"<p><a href=\"{escape(session['cancel_url'])}\">Back to the business</a></p>"
                if session.get("cancel_url") else "")
    return _page("Checkout", f"<h1>{escape(text)}</h1>{link}")


def not_found() -> str:
    return _page("Not found", "<h1>This checkout page doesn't exist.</h1>")
