"""Spanish (US): the texts the Python side sends, under the keys of bot/wording/en.py. VOICE.md holds in Spanish
too: "usted", short sentences, everyday words (tests/test_wording.py measures each text with Fernandez-Huerta).
The keywords stay the ones a phone recognises: ALTO, AYUDA, and START (no Spanish one is standard)."""

from __future__ import annotations

TEXTS: dict[str, str] = {
    # DISC-1 (1006.18(e)(1)), in the wording of the CFPB's Spanish model validation notice.
    "debt_collector_disclosure": ("Esta es una comunicación de un cobrador de deudas. Es un intento de cobrar una "
                                  "deuda, y cualquier información que obtengamos se usará para ese fin."),
    # DISC-2 (1006.18(e)(2)).
    "from_debt_collector": "Este mensaje es de un cobrador de deudas.",
    # OPT-1: the English keyword still works (bot/compliance/keywords.py); the line names the Spanish one.
    "opt_out_line": "Responda ALTO para no recibir más mensajes.",
    # OPT-3: one confirmation with nothing else in it.
    "stop_reply_sms": "Ya no le enviaremos más mensajes de texto. Responda START si quiere recibirlos otra vez.",
    "stop_reply_other": "Ya no le enviaremos más mensajes por este medio. Escriba START si quiere recibirlos otra vez.",
    "start_reply_sms": "Va a recibir nuestros mensajes otra vez. Responda ALTO cuando quiera dejar de recibirlos.",
    "start_reply_other": "Va a recibir nuestros mensajes otra vez. Escriba ALTO cuando quiera dejar de recibirlos.",
    "opted_out_reply_sms": ("Usted pidió no recibir mensajes, así que esta es nuestra única respuesta. Responda START "
                            "si quiere respuestas aquí otra vez."),
    "opted_out_reply_other": ("Usted pidió no recibir mensajes, así que esta es nuestra única respuesta. Escriba "
                              "START si quiere respuestas aquí otra vez."),
    # OPT-2: the company, a contact and how to stop.
    "help_reply": ("{business}: para recibir ayuda, comuníquese con {support}. Responda ALTO para no recibir más "
                   "mensajes."),
    # VUL-2: 988 in Spanish: call and press 2, or text AYUDA to 988 (988 Lifeline en español).
    "crisis_line": ("Si está pensando en hacerse daño, llame al 988 y oprima 2 para hablar en español, o mande la "
                    "palabra AYUDA por texto al 988 (Lifeline en español). Es gratis y a toda hora."),
    "empty_message_reply": ("Perdón, no le entendí. Dígame en pocas palabras qué necesita, o escriba 'hablar con "
                            "una persona'."),
    "unavailable_reply": ("Perdón, tenemos un problema en este momento. Guardamos su mensaje. Intente otra vez en "
                          "unos minutos, o escriba 'hablar con una persona'."),
    "inconvenient_time_revoked": "Gracias, seguimos hablando ahora. ¿En qué le puedo ayudar?",
    "card_warning": ("Por su seguridad, no mande datos de su tarjeta por chat. Ya los borré. Aquí nunca pedimos "
                     "datos de tarjeta; solo le mandamos un enlace seguro nuestro."),
    "media_reply": ("Perdón, no puedo abrir fotos ni archivos que llegan por texto. Escriba su mensaje, o escriba "
                    "'hablar con una persona'. Por su seguridad, no mande fotos de tarjetas ni de identificaciones."),
    "language_question": "¿Prefiere español? Responda ESPAÑOL. / Prefer English? Reply ENGLISH.",
    "language_now": "Claro, seguimos en español. Escriba 'English' cuando quiera cambiar.",
}
