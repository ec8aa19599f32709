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
    # OPT-3 por email: START por email no vuelve a activar los emails (bot/wording/en.py).
    "stop_reply_email": ("Ya no le enviaremos más emails. Responder START no los vuelve a activar: si quiere "
                         "recibirlos otra vez, escriba a la dirección de ayuda que está abajo."),
    "opted_out_reply_email": ("Usted pidió no recibir emails, así que esta es nuestra única respuesta. Responder START "
                              "no los vuelve a activar: si quiere recibirlos otra vez, escriba a la dirección de "
                              "ayuda que está abajo."),
    "start_reply_sms": "Va a recibir nuestros mensajes otra vez. Responda ALTO si ya no quiere mensajes.",
    "start_reply_other": "Va a recibir nuestros mensajes otra vez. Escriba ALTO si ya no quiere mensajes.",
    "opted_out_reply_sms": ("Usted pidió no recibir mensajes, así que esta es nuestra única respuesta. Responda START "
                            "si quiere respuestas aquí otra vez."),
    "opted_out_reply_other": ("Usted pidió no recibir mensajes, así que esta es nuestra única respuesta. Escriba "
                              "START si quiere respuestas aquí otra vez."),
    # OPT-2 in a live chat: a lone CANCELAR asks; ALTO opts out.
    "cancel_or_stop_reply": ("¿Quiere que dejemos de escribirle en este chat? Escriba ALTO para no recibir más "
                             "mensajes. Si no, dígame qué quiere hacer, o escriba 'hablar con una persona'."),
    # OPT-2: the company, a contact and how to stop.
    "help_reply": ("{business}: si necesita ayuda, use este contacto: {support}. Responda ALTO si ya no quiere "
                   "mensajes."),
    # VUL-2: 988 in Spanish: call and press 2, or text AYUDA to 988 (988 Lifeline en español).
    "crisis_line": ("Si está pensando en hacerse daño, llame al 988 y oprima 2 para hablar en español, o mande la "
                    "palabra AYUDA por texto al 988 (Lifeline en español). Es gratis y a toda hora. También le pedí "
                    "a una persona de nuestro equipo que le escriba aquí. Puede responder cuando quiera."),
    "empty_message_reply": ("Su mensaje llegó vacío. Dígame en pocas palabras qué necesita, o escriba 'hablar con "
                            "una persona'."),
    "unavailable_reply": ("Perdón, tenemos un problema en este momento. Guardamos su mensaje y le responderé lo "
                          "antes posible. Para hablar antes con una persona, responda AYUDA."),
    "saved_identity_answer_again": ("Perdón por la espera. Por su seguridad no guardo las respuestas a las preguntas "
                                    "de seguridad. Envíe esa respuesta otra vez, por favor."),
    "notice_summary": ("Aviso de validación. {creditor} dice que usted debe {amount} en la cuenta que termina en "
                       "{last4}. Usted tiene derecho a impugnar toda la deuda o parte de ella. Si la impugna a más "
                       "tardar el {ends}, debemos dejar de cobrar hasta que le enviemos una verificación."),
    "inconvenient_time_question": ("Usted nos dijo que no es un buen momento para hablar, así que le contestamos lo "
                                   "demás más tarde. Responda SÍ si ahora está bien."),
    "inconvenient_time_revoked": "Gracias, seguimos hablando ahora. ¿En qué le puedo ayudar?",
    # PLAN-2: the debtor stopped automatic payments in the chat (bot/payments/autopay.revoke_on_request).
    "autopay_revoked": ("Listo. Los pagos automáticos del plan {reference} ya están apagados. No vamos a cobrar nada "
                        "más a su tarjeta por nuestra cuenta."),
    "autopay_revoked_next": ("Su plan sigue. Próximo pago: {amount} el {date}. Para pagarlo, escriba 'pagar ahora' "
                             "y le mando un enlace."),
    "autopay_stop_after_verify": "Entendido. Anoté lo que me pide, y lo haré en cuanto confirme quién es usted.",
    "autopay_revoked_plan_person": "Para terminar el plan, escriba 'hablar con una persona'.",
    "autopay_none": ("No tiene pagos automáticos: no cobramos nada a su tarjeta por nuestra cuenta. Escriba 'mi "
                     "plan' o 'hablar con una persona'."),
    # TIME-1: the debtor told us when not to text them (bot/contact_preferences.mark_inconvenient_times).
    "inconvenient_marked": "Entendido. No le vamos a escribir ni llamar {times}, en su hora.",
    "inconvenient_before": "antes de las {time}",
    "inconvenient_after": "después de las {time}",
    "inconvenient_between": "entre las {start} y las {end}",
    "inconvenient_day": "los {day}",
    "inconvenient_and": " ni ",
    "inconvenient_place": "Gracias. Lo anoté para nuestro equipo y una persona lo va a ver. ¿En qué más le ayudo?",
    "card_warning": ("Por su seguridad, no mande datos de su tarjeta por chat. Ya los borré. Aquí nunca pedimos "
                     "datos de tarjeta; solo le mandamos un enlace seguro nuestro."),
    "media_reply": ("Perdón, no puedo abrir fotos ni archivos que llegan por texto. Escriba su mensaje, o escriba "
                    "'hablar con una persona'. Por su seguridad, no mande fotos de tarjetas ni de identificaciones."),
    "verify_locked": ("Perdón, no pude confirmar sus datos. Por su seguridad, no puedo dar detalles de la cuenta "
                      "por chat en las próximas 24 horas. Escriba 'hablar con una persona' y alguien de nuestro "
                      "equipo le puede ayudar."),
    "verify_retry": ("Perdón, no pude confirmar esos datos. Si se intentaron 3 veces en el último día, en cualquier "
                     "chat, por su seguridad quedan bloqueados 24 horas: escriba 'hablar con una persona'. Si no, "
                     "{tries}"),
    "verify_tries_one": "este chat tiene 1 intento más.",
    "verify_tries_many": "este chat tiene {count} intentos más.",
    "verify_throttled": "Todavía no puedo revisar esos datos otra vez. Intente de nuevo en {minutes}.",
    "minute_one": "un minuto",
    "minutes_many": "{count} minutos",
    "verify_first": "Le puedo ayudar con eso. Primero necesito confirmar quién es usted.",
    "verify_start": "Gracias. Déjeme confirmar quién es usted.",
    "verify_question_first": "Le respondo eso en cuanto confirme quién es usted.",
    # LANG-1: day first, as bot/identity.parse_dob reads a Spanish conversation's dates.
    "ask_dob_again": "Perdón, no entendí la fecha. Escríbala así, con día, mes y año: 14/03/1979.",
    "verify_kept": "Gracias, lo anoté.",
    "ask_secret_again": ("Perdón, no le entendí. Escriba los últimos 4 números de su Seguro Social, o su código "
                         "postal de 5 números."),
    "ask_locator_again": ("Perdón, no le entendí. Escriba el número de cuenta de nuestra carta (como SET-100001), "
                          "o su nombre y apellido."),
    "ask_reference_again": ("Con el código postal también necesito el número de cuenta de nuestra carta (como "
                            "SET-100001). Si no lo tiene, escriba los últimos 4 números de su Seguro Social."),
    "balance_line": "Su saldo con {creditor} (cuenta que termina en {last4}) es {amount}.",
    "who_we_are": ("Le escribe {business}. Soy un asistente automático, no una persona. Escriba 'hablar con una "
                   "persona' cuando quiera hablar con alguien de nuestro equipo."),
    "payment_status_received": "Recibimos su pago de {amount} el {date} (referencia {reference}).",
    "payment_status_held": ("Recibimos su pago de {amount} el {date} (referencia {reference}). Está en espera mientras "
                            "revisamos su cuenta, así que todavía no se aplicó."),
    "payment_status_none": ("Todavía no veo un pago suyo en nuestros registros. Un pago con tarjeta suele aparecer "
                            "aquí en unos minutos."),
    "payment_status_next": ("Si falta un pago que hizo, escriba 'hablar con una persona' y alguien lo va a revisar. O "
                            "dígame qué más necesita."),
    "no_balance": "No encontré un saldo abierto a su nombre.",
    "balance_next": ("¿Qué quiere hacer ahora? Puede escribir 'plan de pagos', 'pagar ahora' o 'hablar con una "
                     "persona'."),
    "dispute_kind_all": "Toda la deuda",
    "dispute_kind_amount": "La cantidad está mal",
    "dispute_kind_not_mine": "No es mía",
    "dispute_kind_already_paid": "Ya la pagué",
    "dispute_ask_kind": "Siento mucho el problema. ¿Qué parte no reconoce?\n{choices}",
    "dispute_ask_account": "¿De qué cuenta se trata?\n{choices}",
    "dispute_account_item": "La cuenta que termina en {last4} ({creditor})",
    "dispute_account_all": "Todas",
    "dispute_account_again": ("Perdón, no le entendí. Escriba {numbers}, o los últimos 4 números de la cuenta."),
    "dispute_kind_again": "Perdón, no le entendí. Escriba 1, 2, 3 o 4.",
    "dispute_amount_again": "Perdón, no le entendí. Escriba una cantidad como $500, o escriba 'no sé'.",
    "dispute_no_account": ("No encontré una cuenta abierta para disputar. Escriba 'hablar con una persona' y alguien "
                           "le puede ayudar."),
    "dispute_item": "{amount} en la cuenta que termina en {last4}",
    "dispute_recorded": ("Listo. El {when} anoté su disputa de {disputed}. Paramos el cobro mientras revisamos, y le "
                         "mandamos por escrito lo que encontremos. No tiene que pagar la cantidad en disputa mientras "
                         "revisamos."),
    "must_pay_disputed": ("No. Usted disputó esta deuda, así que no le vamos a pedir ningún pago hasta que le "
                          "mandemos por escrito lo que encontremos. Escriba 'hablar con una persona' si tiene "
                          "preguntas."),
    "must_pay_until": ("Usted tiene derecho a disputar esta deuda. Si la disputa a más tardar el {date}, dejamos de "
                       "cobrar hasta que le mandemos la prueba. Escriba 'disputa' para disputarla, o pregúnteme otra "
                       "cosa."),
    "must_pay_any_time": ("Usted tiene derecho a disputar esta deuda cuando quiera. Escriba 'disputa' para "
                          "disputarla, o 'hablar con una persona' si tiene preguntas."),
    "must_pay_until_menu": ("Usted tiene derecho a disputar esta deuda. Si la disputa a más tardar el {date}, "
                            "dejamos de cobrar hasta que le mandemos la prueba. Elija qué disputa, o escriba "
                            "'olvídelo'."),
    "must_pay_any_time_menu": ("Usted tiene derecho a disputar esta deuda cuando quiera. Mientras revisamos una "
                               "disputa, pausamos el cobro. Elija qué disputa, o escriba 'olvídelo'."),
    "language_question": "¿Prefiere español? Responda ESPAÑOL. / Prefer English? Reply ENGLISH.",
    "language_now": "Claro, seguimos en español. Escriba 'English' cuando quiera cambiar.",
    "reminder_installment": ("Hola, le escribe {business}. El pago {number} de {count} de su plan {reference}, de "
                             "{amount}, vence el {due}. Para pagar, responda 'pagar ahora' y le mandamos un enlace "
                             "seguro. ¿Tiene preguntas? Responda 'hablar con una persona'."),
    "reminder_missed": ("Hola, le escribe {business}. No nos ha llegado el pago {number} de {count} de su plan "
                        "{reference}, de {amount}, que vencía el {due}. Si ya lo pagó, gracias. Si no, responda "
                        "'pagar ahora' para recibir un enlace seguro, o 'hablar con una persona' para hablar de su "
                        "plan."),
    "first_contact": ("Hola, este es un mensaje automático de {business}. Queremos hablar con usted de un asunto "
                      "personal. Responda a este mensaje, o escríbanos a {support}."),
    "no_cards_in_chat": "No mande datos de su tarjeta por chat.",
    "pay_ask_a_person": "Escriba 'hablar con una persona' si necesita ayuda.",
    "expiry_time": "el {date} a las {time}",
    "expiry_midnight": "al final del {date}",
    "pay_link": ("Este es su enlace seguro para pagar {amount}: {url} Sirve una sola vez y vence {expires}. No mande "
                 "datos de su tarjeta por chat."),
    "pay_link_autopay": ("En la página de pago puede elegir que los demás pagos del plan se cobren a esa tarjeta en "
                         "su fecha."),
    "receipt": ("Gracias. Recibimos su pago de {amount} el {date}{paid_with}. Su saldo con {creditor} ahora es "
                "{balance}. Número de recibo: {reference}."),
    "receipt_paid_with": " con su {card}",
    "settled": "Su cuenta con {creditor} ya está pagada por completo. Gracias.",
    "progress_done": "Ya quedó el pago {number} de {count} del plan {reference}.",
    "progress_complete": "Su plan está completo. Gracias.",
    "progress_next": "Próximo pago: {amount} el {date}.",
    "progress_autopay": "Lo vamos a cobrar de su {card}.",
    "progress_link": "Le mandamos un enlace antes de esa fecha.",
    "autopay_on": ("Los pagos automáticos están activos con su {card}. Su autorización, para que la guarde: "
                   "{authorisation}"),
    "authorisation": ("Autorizo a {business} a cobrar a esta tarjeta el resto del plan {reference}: {payments} de "
                      "{amount}, en cada fecha de pago del {first} al {last}, y a guardar la tarjeta para esos "
                      "pagos. Voy a recibir un aviso antes de cada pago. Puedo parar esto cuando quiera si escribo "
                      "'hablar con una persona' en el chat o si le escribo a {support} por lo menos 3 días hábiles "
                      "antes de un pago."),
    "authorisation_one": "un pago",
    "authorisation_many": "{count} pagos",
    "debit_notice": ("Le recordamos: el {date} vamos a cobrar {amount} de su {card} para su plan de pagos "
                     "{reference} (pago {number} de {count}). Para parar los pagos automáticos, escriba 'hablar con "
                     "una persona' por lo menos 3 días hábiles antes."),
    "autopay_declined": ("Su pago automático de {amount} del {due} no se pudo hacer: {reason} No se cobró nada. "
                         "Puede pagarlo con este enlace seguro: {url}"),
    "autopay_notice_blocked": ("Su pago automático de {amount} del {due} no se hizo: no pudimos darle el aviso que "
                               "pide la ley antes de cobrar un pago. No se cobró nada, y no vamos a cobrar este pago "
                               "de forma automática. Puede pagarlo con este enlace seguro: {url} Vence {expires}."),
    "autopay_retry": "Si no lo paga, vamos a intentar con su tarjeta otra vez el {date}.",
    "autopay_missed_on": "Si no se paga a más tardar el {date}, lo vamos a marcar como no pagado.",
    "missed": ("No pudimos cobrar su pago del plan de {amount} del {due}, así que quedó como no pagado. Todavía "
               "puede pagarlo con este enlace seguro: {url}"),
    "decline_authentication_required": "su banco pide que usted mismo confirme este pago.",
    "decline_insufficient_funds": "su banco dijo que no había suficiente dinero.",
    "decline_expired_card": "su tarjeta está vencida.",
    "decline_other": "su banco no lo aceptó.",
    "refund": ("Le devolvimos {amount}{to}. Su saldo con {creditor} ahora es {balance}. Puede tardar de 5 a 10 "
               "días en verse en su estado de cuenta."),
    "refund_to": " a su {card}",
    "payment_held": ("Recibimos un pago de {amount}. Como estamos revisando su disputa, no lo pusimos en esta "
                     "cuenta. Una persona de nuestro equipo lo va a revisar y le va a escribir."),
    "async_failed": ("Su pago de {amount} no se pudo hacer, así que no se cobró nada. Escriba 'pagar ahora' para "
                     "recibir un enlace nuevo."),
    "card_label": "tarjeta {brand} que termina en {last4}",
    "card_label_plain": "tarjeta que termina en {last4}",
    "card_word": "tarjeta",
    "authorisation_now": "Acepto pagar {amount} ahora.",
    "amount_range": "entre {low} y {high}",
    "hold_DSP-2": ("Esta cuenta está en pausa mientras revisamos su disputa, así que no hay nada que pagar por "
                   "ahora. Le mandamos por escrito lo que encontremos. Escriba 'hablar con una persona' si tiene "
                   "preguntas."),
    "hold_CEASE-1": ("Usted nos pidió no contactarle sobre esta cuenta, así que aquí no puedo recibir pagos de ella. "
                     "Escriba 'hablar con una persona' si quiere ayuda."),
    "hold_CEASE-2": ("Su abogado se encarga de esta cuenta, así que hable con su abogado sobre ella. Si ya no tiene "
                     "abogado, escriba 'hablar con una persona'."),
    "hold_CEASE-3": ("Esta cuenta es parte de una bancarrota, así que no la estamos cobrando. Escriba 'hablar con "
                     "una persona' si tiene preguntas."),
    "hold_CEASE-4": ("Una persona de nuestro equipo se encarga de esta cuenta. Escriba 'hablar con una persona' para "
                     "hablar con ella."),
    "hold_VUL-2": ("Como las cosas están difíciles, paramos el cobro de esta cuenta, así que por ahora no le pedimos "
                   "dinero. Una persona de nuestro equipo verá sus opciones con usted, como un plan por dificultad o "
                   "una pausa más larga. Escriba 'hablar con una persona' para hablar con alguien."),
    "hold_ACCOUNT-CLOSED": "No hay nada que pagar en esta cuenta. Escriba 'hablar con una persona' si tiene preguntas.",
    "pay_no_account": "No encontré una cuenta abierta a su nombre. Escriba 'hablar con una persona' si necesita ayuda.",
    "pay_choice_installment": "Próximo pago del plan: {amount}",
    "pay_choice_balance": "Saldo completo: {amount}",
    "pay_choice_settlement": "Cerrar la cuenta con {amount}",
    "pay_choice_amount": "{amount} para su saldo",
    "pay_amount_negative": "Solo puedo recibir una cantidad mayor que cero, como $50.00.",
    "pay_amount_inexact": "Perdón, no pude leer bien esa cantidad. Escríbala así: $12.50.",
    "pay_too_small": "El pago más pequeño que puedo recibir es de {amount}.",
    "pay_too_big": "Eso es más que su saldo de {amount}.",
    "pay_confirm_balance": "Quiere pagar su saldo completo de {amount}.",
    "pay_confirm_installment": "Quiere hacer su próximo pago del plan, de {amount}.",
    "pay_confirm_settlement": ("Quiere cerrar esta cuenta con un solo pago de {amount}. Cuando lo pague, su saldo de "
                               "{balance} queda pagado por completo."),
    "pay_confirm_amount": "Quiere pagar {amount}. Después de este pago, su saldo va a ser {left}.",
    "pay_confirm_ask": "¿Es correcto? Responda SÍ para recibir su enlace seguro de pago, o dígame otra cantidad.",
    "pay_below_card_minimum": ("Su saldo es {balance}. Es menos de los {minimum} que acepta nuestra página de pago "
                               "segura, así que no puedo hacer un enlace de pago. Una persona de nuestro equipo puede "
                               "resolverlo con usted: escriba 'hablar con una persona'."),
    "pay_refused_amount": ("Su saldo es {balance}, así que no puedo hacer un enlace por esa cantidad. Dígame otra "
                           "cantidad, o escriba 'hablar con una persona'."),
    "pay_balance_changed": "Su saldo acaba de cambiar. Escriba 'pagar ahora' para verlo otra vez.",
    "pay_settlement_changed": ("Su saldo acaba de cambiar, así que ese acuerdo ya no aplica. Escriba 'pagar ahora' "
                               "para ver sus opciones otra vez."),
    "pay_installment_changed": "Ese pago del plan ya está hecho o cambió. Escriba 'mi plan' para revisarlo.",
    # Short: with a first payment's link it is the longest reply of the plan (REPLY_SEGMENTS, bot/sms.py).
    "first_payment_next": ("Su primer pago de {amount} vence el {date}. {link} Escriba 'mi plan' para verlo o "
                           "'hablar con una persona'."),
    "or": "o",
    "sorry_again": "Perdón, no le entendí.",
    "pay_declined": ("Está bien. No se cobró nada. Escriba 'pagar ahora' cuando quiera, o 'hablar con una persona' si "
                     "necesita ayuda."),
    "pay_plan_instead": ("Parece que quiere pagar poco a poco. Escriba 'plan de pagos' y le muestro las opciones."),
    "pay_finish_plan_first": ("Primero terminemos de hacer su plan. Cuando esté listo, le mando un enlace seguro para "
                              "el primer pago."),
    "pay_yes_button": "Sí, mándeme el enlace",
    "pay_no_button": "No, quiero cambiarlo",
    "pay_pick": "Responda {numbers}, o escriba una cantidad como {example}. Escriba 'olvídelo' para parar.",
    "pay_pick_only": "Responda {numbers} para pagar su saldo. Si no quiere, escriba 'olvídelo'.",
    "pay_how_much": "Su saldo con {creditor} es {balance}. ¿Cuánto quiere pagar?",
    "pay_other_accounts": "También debe {others}. Para pagar esa, escriba su nombre.",
    "pay_lost_track": "Perdón, perdí la cantidad. Escriba 'pagar ahora' para empezar otra vez.",
    "pay_confirm_again": ("Para recibir su enlace seguro por {amount}, responda SÍ. O dígame otra cantidad, o "
                          "escriba 'olvídelo'."),
    "terms_settlement": ("Un pago de {total} el {date} cierra esta cuenta por completo. Es {discount} menos que el "
                         "saldo de {balance}. Total: {total}. {fees}"),
    "terms_single": "Un pago de {total} el {date}. Total: {total}. {fees}",
    "terms_head_equal": "{count} {counted} de {amount}",
    "terms_run": "{count} de {amount}",
    "terms_then": ", y luego ",
    "terms_head_runs": "{count} {counted}: {runs}",
    "terms_plan": "{head}, del {first} al {last}. Total: {total}. {fees}",
    "schedule_run": "Luego {amount} {every} hasta el {date} (pagos {first} a {last}).",
    "schedule_run_monthly": ("Luego {amount} el día {day} de cada mes{short} hasta el {date} (pagos {first} a "
                             "{last}). Si ese día es sábado o domingo, es el lunes siguiente."),
    "counted_weekly": "pagos semanales", "counted_biweekly": "pagos cada 2 semanas",
    "counted_monthly": "pagos mensuales", "counted_other": "pagos",
    "every_weekly": "cada semana", "every_biweekly": "cada 2 semanas", "every_monthly": "cada mes",
    "every_other": "cada vez",
    "no_fees": "No hay cargos.",
    "fees": "Incluye {amount} en cargos: {items}.",
    "fee_item": "{name} {amount} ({authority})",
    "authority_contract": "lo permite su contrato", "authority_state_law": "lo permite la ley del estado",
    "plan_next_step": "Si tiene preguntas, puede hablar con una persona.",
    "plan_refusal_disputed": ("Esta cuenta está en pausa mientras revisamos su disputa, así que por ahora no puedo "
                              "hacer un plan para ella."),
    "plan_refusal_ceased": "El cobro de esta cuenta está detenido, así que no puedo hacer un plan para ella.",
    "plan_refusal_attorney": "Su abogado se encarga de esta cuenta, así que aquí no puedo hacer un plan para ella.",
    "plan_refusal_bankrupt": "Esta cuenta es parte de una bancarrota, así que no puedo hacer un plan para ella.",
    "plan_refusal_deceased": "No puedo hacer un plan para esta cuenta.",
    "plan_refusal_paid": "Esta cuenta ya está pagada. No queda nada que pagar.",
    "plan_refusal_closed": "Esta cuenta está cerrada, así que no hay un plan que hacer.",
    "plan_refusal_other": "Por ahora no puedo hacer un plan para esta cuenta.",
    "plan_note_down_payment": "El primer pago tiene que ser de {amount} o más.",
    "plan_note_needs_person": ("Eso es más de lo que usted dijo que puede pagar. Una persona de nuestro equipo puede "
                               "ver otras opciones con usted."),
    "plan_note_one_payment": ("Su saldo es menor que el pago más pequeño de un plan, que es de {minimum}. Así que es "
                              "un solo pago de {balance}."),
    "plan_note_not_available_instead": ("{named} no se pueden usar en esta cuenta, así que este plan tiene un pago "
                                        "{every}."),
    "plan_note_not_available": "{named} no se pueden usar en esta cuenta.",
    "plan_note_minimum": "El pago más pequeño de un plan es de {amount}.",
    "plan_note_too_long": ("Con {amount} {per}, pagar esto tomaría más de {months} meses. Ese es el plan más largo "
                           "que le podemos dar."),
    "plan_note_fits": "Pagar {amount} {every} cabe en lo que usted ofreció.",
    "plan_note_closest": "El plan más cercano que le puedo dar es de {amount} {every}.",
    "plan_note_anchor": ("El primer pago tiene que ser a más tardar el {date}, así que vence ese día. Después, los "
                         "pagos son {rest}."),
    "named_weekly": "Los pagos semanales", "named_biweekly": "Los pagos cada 2 semanas",
    "named_monthly": "Los pagos mensuales",
    "per_weekly": "a la semana", "per_biweekly": "cada 2 semanas", "per_monthly": "al mes", "per_payment": "por pago",
    "per_once": "una vez",
    "weekdays_0": "los lunes", "weekdays_1": "los martes", "weekdays_2": "los miércoles", "weekdays_3": "los jueves",
    "weekdays_4": "los viernes", "weekdays_5": "los sábados", "weekdays_6": "los domingos",
    "day_of_month": "el día {day} de cada mes",
    "or_last_day": " (o el último día de un mes más corto)",
    "plan_how_to_pay": ("Le mandamos un enlace para hacer cada pago. No cobramos nada de forma automática, a menos "
                        "que usted elija pagos automáticos en la página del primer pago."),
    "plan_how_to_pay_once": "Le mandamos un enlace para hacer este pago. No cobramos nada de forma automática.",
    "plan_ask_a_person": "Escriba 'hablar con una persona' si tiene preguntas.",
    "talk_to_a_person": "hablar con una persona",
    "plan_refusal_hold": "No puedo hacer un plan para esta cuenta.",
    "plan_refusal_VUL-2": ("Como las cosas están difíciles, paramos el cobro, y una persona de nuestro equipo hará "
                           "el plan con usted. Puede ver sus opciones, como un plan más pequeño por dificultad o una "
                           "pausa más larga. Escriba 'hablar con una persona' para hablar con alguien."),
    "plan_refusal_VUL-2_queued": ("Como las cosas están difíciles, paramos el cobro, y una persona de nuestro equipo "
                                  "hará el plan con usted. Ya viene en camino, y puede ver sus opciones, como un plan "
                                  "más pequeño por dificultad o una pausa más larga."),
    "summary_settlement": "Cerrar la cuenta con {amount}",
    "summary_single": "Un pago de {amount}",
    "summary_head": "{count} {counted} de {amount}",
    "summary_first": "{head} (el primero de {amount})",
    "summary_last": "{head} (el último de {amount})",
    "plan_no_account": ("No encontré una cuenta abierta a su nombre. Escriba 'hablar con una persona' si tiene "
                        "preguntas."),
    "plan_existing": ("Usted ya tiene un plan con nosotros, con la referencia {reference}. Escriba 'mi plan' para "
                      "verlo, o 'hablar con una persona' si quiere cambiarlo."),
    "plan_existing_change": ("Usted ya tiene un plan con nosotros, con la referencia {reference}. Escriba 'hablar con "
                             "una persona' si quiere cambiarlo."),
    "plan_consent_required": "Para aceptar estos términos, responda SÍ.",
    "plan_changed_balance": "Su saldo cambió desde que le mostré estas opciones, así que aquí tiene opciones nuevas.",
    "plan_changed_dates": "Las fechas de esas opciones ya pasaron, así que aquí tiene opciones nuevas.",
    "plan_changed_terms": "Esos términos cambiaron desde que se los mostré, así que aquí tiene opciones nuevas.",
    "plan_human_review": ("Nuestro asistente hizo este plan. Si quiere que una persona lo revise, escriba 'hablar con "
                          "una persona'."),
    "plan_set_up": "Gracias. Su plan está listo. Su referencia es {reference}.",
    "plan_next_default": ("Lo que sigue: le mandamos un enlace para hacer su primer pago de {amount}, que vence el "
                          "{date}. Escriba 'mi plan' cuando quiera para revisarlo, o 'hablar con una persona' si "
                          "tiene preguntas."),
    "status_balance": "Su saldo con {creditor} es {amount}.",
    "status_suggest_plan": "Escriba 'plan de pagos' si quiere hacer uno.",
    "status_no_plan": "Por ahora no tiene un plan con nosotros.",
    "status_plan": "Su plan {reference}: {summary}",
    "status_all_done": "Ya están hechos todos los pagos de este plan. Gracias.",
    "status_not_recorded": ("Todavía no vemos su pago de {amount} que vencía el {date}. Si ya lo pagó, gracias; puede "
                            "tardar unos días en aparecer."),
    "status_pay_now": "Escriba 'pagar ahora' para recibir un enlace de pago.",
    "status_next": "Próximo pago: {amount} el {date}.",
    "count_one": "{count} pago", "count_many": "{count} pagos",
    "status_left": "Falta pagar en este plan: {amount} ({count}).",
    "plan_consent_prompt": "Responda SÍ para aceptar estos términos, o NO para volver a las opciones.",
    "plan_consent_again": ("Para aceptar estos términos, responda SÍ. Responda NO para volver a las opciones, o "
                           "escriba 'olvídelo' para parar."),
    "plan_declined": ("Está bien. No hice ningún plan. Si quiere otras opciones, dígame cuánto puede pagar, o escriba "
                      "'hablar con una persona'."),
    "plan_person_next": "Escriba 'hablar con una persona' para hablar con alguien.",
    "plan_yes_button": "Sí, acepto", "plan_no_button": "No, quiero volver",
    "plan_person_button": "Hablar con una persona",
    "plan_lost_track": "Perdón, perdí las opciones. Escriba 'plan de pagos' para verlas otra vez.",
    "plan_pick": "Responda {numbers} para elegir, o dígame otra cantidad. Escriba 'olvídelo' para parar.",
    "plan_person_note": "Una persona de nuestro equipo puede ver otras opciones con usted.",
    "plan_heading_one": "Esto es lo que le puedo dar:", "plan_heading_many": "Estas son sus opciones:",
    "plan_heading_one_again": "Esto es lo que le puedo dar, otra vez:",
    "plan_heading_many_again": "Estas son sus opciones otra vez:",
    "plan_amount_intro": "Le puedo ayudar a hacer un plan. {question} O escriba 'olvídelo' para parar.",
    "plan_ask_each": "¿Cuánto puede pagar {every}?",
    "plan_each_weekly": "cada semana", "plan_each_biweekly": "cada 2 semanas", "plan_each_monthly": "cada mes",
    "plan_each_other": "cada vez",
    "plan_ask_how_often": "¿Cuánto puede pagar, y cada cuándo? Por ejemplo: {examples}.",
    "plan_example_monthly": "$50 al mes", "plan_example_biweekly": "$25 cada 2 semanas",
    "plan_example_weekly": "$15 a la semana",
    "cease_reply": ("Entendido. Vamos a dejar de contactarle. Una persona de nuestro equipo se lo va a confirmar por "
                    "escrito."),
    "attorney_question_reply": ("Como un abogado le ayuda, hablaremos de esto con su abogado y no con usted. Su "
                                "abogado le puede decir sus opciones, y también cómo pagar."),
    "resume_request_noted": ("Anoté que quiere recibir nuestros mensajes otra vez. Por texto, responda START. Para "
                             "el correo, una persona de nuestro equipo revisará su pedido y los volverá a activar."),
    "attorney_reply": "Gracias por decirme. Vamos a hablar con su abogado en lugar de hablar con usted.",
    "bankruptcy_question_reply": ("Es el número en los papeles que recibió al pedir la bancarrota, como "
                                  "1:26-bk-12345. No tiene que dármelo. Una persona lo va a revisar de todas formas."),
    "bankruptcy_reply": "Gracias por decirme. Una persona de nuestro equipo lo va a revisar.",
    "bankruptcy_reply_verified": ("Gracias por decirme. Paramos el cobro, y una persona de nuestro equipo lo va a "
                                  "revisar."),
    "deceased_reply": ("Lo siento mucho por su pérdida. No tiene que hacer nada ahora. Una persona de nuestro equipo "
                       "se va a encargar de esto con cuidado y puede ayudar a la familia o al albacea. Puede hablar "
                       "con esa persona en {support}."),
    "third_party_handed_over": ("Solo puedo hablar de esto con la persona indicada, así que no puedo compartir nada "
                                "aquí. Una persona de nuestro equipo puede ayudarle. Puede comunicarse con ellos en "
                                "{support}."),
    "deceased_handed_over": ("Lamento mucho su pérdida. No necesita hacer nada, y no puedo compartir detalles aquí. "
                             "Una persona de nuestro equipo se encargará de esto con cuidado y puede ayudar a la "
                             "familia o al albacea. Puede comunicarse con ellos en {support}."),
    "wrong_person_reply": ("Perdón por la confusión. No vamos a volver a escribir a este número sobre esto. No tiene "
                           "que hacer nada."),
    "report_denied": "Entendido, gracias por decírmelo. No ha cambiado nada. ¿En qué le puedo ayudar?",
    "report_denied_verified": ("Entendido, gracias por decírmelo. No ha cambiado nada. Puede escribir 'saldo', 'plan "
                               "de pagos', 'pagar ahora' o 'hablar con una persona'."),
    "verify_secret_unknown": "No se preocupe. Su código postal de 5 números también sirve.",
    "verify_cant_say_which": "Por su seguridad, no puedo decirle cuál dato no coincidió.",
    "details_noted": ("Gracias por decírmelo. Una persona de nuestro equipo actualizará sus datos. ¿En qué más le "
                      "puedo ayudar?"),
    "hardship_reply": ("Siento mucho que las cosas estén difíciles. Una persona de nuestro equipo le puede ayudar. "
                       "Escriba 'hablar con una persona' para hablar con alguien, o escriba a {support}."),
    "hardship_reply_verified": ("Siento mucho que las cosas estén difíciles. Paramos los recordatorios. Una persona de "
                                "nuestro equipo puede ver opciones con usted, como un plan más pequeño. Escriba "
                                "'hablar con una persona' para hablar con alguien, o escriba a {support}."),
    "request_human_reply": ("Le pedí a una persona de nuestro equipo que le atienda. Le va a responder aquí. También "
                            "puede escribir a {support}."),
    "military_reply": ("Gracias por decirme. Si usted o su familia están en las fuerzas armadas, puede tener más "
                       "protecciones. Una persona de nuestro equipo lo va a revisar y le va a responder. También "
                       "puede escribir a {support}."),
    "hardship_reply_queued": ("Siento mucho que las cosas estén difíciles. Una persona de nuestro equipo ya viene en "
                              "camino y puede ver opciones con usted."),
    "hardship_reply_queued_verified": ("Siento mucho que las cosas estén difíciles. Paramos los recordatorios. Una "
                                       "persona de nuestro equipo ya viene en camino y puede ver opciones con usted, "
                                       "como un plan más pequeño."),
    "hardship_with_person": "Gracias por decirme. Siento mucho que las cosas estén difíciles.",
    "details_thanks": "Gracias. Una persona de nuestro equipo se va a encargar de esto.",
    # The marker "avisos que la ley nos pide enviar" finds the question (esign.QUESTION_MARKS): keep it word for word.
    "esign_question": ("¿Le podemos mandar por email los avisos que la ley nos pide enviar, como su aviso de "
                       "validación, a {address}? Necesita un aparato que abra emails y páginas web, y puede guardarlos "
                       "o imprimirlos. Igual puede pedir copias en papel gratis, o dejar de recibir emails, cuando "
                       "quiera."),
    "esign_yes_button": "Sí, por email", "esign_no_button": "No, por correo postal",
    "esign_consented": ("Gracias. Vamos a mandar sus avisos por email a {address}. También puede escribir 'mándeme "
                        "una copia' para recibir este chat por email."),
    "esign_declined": "Está bien. Le mandamos sus avisos por correo postal.",
    "feedback_question": ("Antes de irse: ¿cómo le atendimos hoy? Responda con un número del 1 (mal) al 5 (muy bien). "
                          "Si quiere, puede agregar unas palabras."),
    "feedback_thanks_score": ("Gracias por su respuesta. Si quiere contarnos más, escríbalo ahora. O díganos qué más "
                              "necesita."),
    "feedback_thanks_comment": "Gracias por contarnos. Nos puede escribir otra vez cuando quiera.",
    "subject_validation_notice": "Su aviso de validación: lo que tenemos registrado y sus derechos",
    "subject_debit_notice": "Su próximo pago automático",
    "subject_transcript_copy": "Una copia de su chat con nosotros",
    "subject_receipt": "Su recibo",
    "subject_plan_confirmation": "Su plan de pagos",
    "subject_campaign": "Un mensaje para usted",
    "subject_default": "Un mensaje sobre su cuenta",
    "email_questions": ("¿Tiene preguntas? Responda a este email o escriba a {support}. También puede hablar con una "
                        "persona."),
    "email_check_lead": "Para ver que nadie cambió esta copia, péguela en",
    "email_opt_out_lead": ("¿No quiere recibir estos emails? Responda {keyword} para no recibir más, o abra este "
                           "enlace:"),
    "email_opt_out_html_lead": "¿No quiere recibir estos emails? Responda",
    "email_opt_out_html_mid": "para no recibir más, o",
    "email_opt_out_html_link": "deje de recibir nuestros emails",
    "email_stops_only": ("Esto solo detiene los emails. No cuesta nada, y no cambia los mensajes de texto (si los "
                         "recibe)."),
    "email_keep_lead": "Guarde o imprima este aviso:",
    "email_keep_link": "abra la copia para imprimir",
    "callback_label": "{date}, de {start} a {end}, {zone}",
    "hours_always": "todos los días, a cualquier hora",
    "hours_day_range": "de {first} a {last}",
    "hours_span": "{days}, de {start} a {end}",
    "hours_zone": "{spans}, {zone}",
    "wait_minutes": "unos {minutes} minutos", "wait_hour": "más de una hora",
    "handoff_where_sms": "por mensaje de texto", "handoff_where_chat": "aquí mismo",
    "handoff_none_free": ("Le pedí a una persona de nuestro equipo que le atienda, pero ahora no hay nadie libre, así "
                          "que no sé cuánto va a tardar. Le va a responder {where} en cuanto alguien esté libre. "
                          "También puede escribir a {support}."),
    "handoff_choose_time": "O elija una hora para que una persona le responda:",
    "handoff_next": "Usted es el siguiente", "handoff_one_ahead": "Hay 1 persona antes que usted",
    "handoff_many_ahead": "Hay {count} personas antes que usted",
    "handoff_queued": ("Le pedí a una persona de nuestro equipo que le atienda. {line}, y la espera es de {wait}. Le "
                       "va a responder {where}. También puede escribir a {support}."),
    "handoff_away": ("Nuestro equipo no está ahora. Atiende {hours}. También puede escribir a {support}. ¿Cuándo "
                     "quiere que una persona le responda? Elija una hora:"),
    "callback_unavailable": ("Perdón, ya no puedo apartar esa hora. Escriba 'hablar con una persona' para ver las "
                             "horas, o escriba a nuestro equipo a {support}."),
    "callback_booked": "Gracias. Una persona le va a responder el {label}. Mientras tanto, aquí estoy si me necesita.",
    "still_not_getting_it": "Perdón, todavía no le entiendo. {text}",
    "day_0": "lunes", "day_1": "martes", "day_2": "miércoles", "day_3": "jueves", "day_4": "viernes",
    "day_5": "sábado", "day_6": "domingo",
    "zone_new_york": "hora del Este", "zone_detroit": "hora del Este", "zone_chicago": "hora del Centro",
    "zone_denver": "hora de la Montaña", "zone_phoenix": "hora de Arizona", "zone_los_angeles": "hora del Pacífico",
    "zone_anchorage": "hora de Alaska", "zone_honolulu": "hora de Hawái", "zone_utc": "UTC",
    "autopay_field_label": "Los otros pagos del plan",
    "autopay_option_yes": "Cobrarlos a esta tarjeta en su fecha",
    "autopay_option_no": "Voy a pagar cada uno con un enlace",
    "autopay_prefix": "Si elige que los otros pagos se cobren a esta tarjeta: ",
    "pay_page_invalid": "Este enlace de pago no sirve. Escriba 'pagar ahora' en el chat para recibir uno nuevo.",
    "pay_page_done_receipt": "Este pago ya está hecho. Gracias. Su recibo está en el chat.",
    "checkout_item": "Pago a {business}",
    "pay_page_done": "Este pago ya está hecho. Gracias.",
    "pay_page_replaced": ("Este enlace se cambió por uno más nuevo. Use el último enlace, o escriba 'pagar ahora' en "
                          "el chat para recibir uno nuevo."),
    "pay_page_expired": "Este enlace de pago ya venció. Escriba 'pagar ahora' en el chat para recibir uno nuevo.",
    "pay_page_held": ("Por ahora no podemos recibir pagos en esta cuenta. Revise el chat o escriba 'hablar con una "
                      "persona' ahí."),
    "pay_page_changed": ("Su saldo cambió desde que se hizo este enlace. Escriba 'pagar ahora' en el chat para "
                         "recibir un enlace nuevo."),
    "pay_page_plan_done": "Este pago del plan ya está hecho. Gracias.",
    "page_title_payment": "Pago", "page_title_received": "Pago recibido", "page_thank_you": "Gracias",
    "page_receipt_soon": "Si ya pagó, su recibo va a llegar al chat en un momento.",
    "page_received": "Recibimos su pago de {amount}. Número de recibo: {reference}.",
    "page_receipt_in_chat": "Su recibo también está en el chat. Ya puede cerrar esta página.",
    "page_held": "Recibimos su pago. Una persona de nuestro equipo lo va a revisar y le va a escribir.",
    "page_processing": "Su pago de {amount} está en proceso. Su recibo va a llegar al chat cuando esté listo.",
    "page_no_payment": "No se hizo ningún pago",
    "page_left": "Usted salió de la página de pago, así que no se cobró nada.",
    "page_go_back": "Volver a pagar",
    "page_or_person": "O escriba 'hablar con una persona' en el chat.",
    "page_cant_open": "No podemos abrir este pago",
    "page_try_again": "Intente otra vez en unos minutos",
    "page_unavailable": ("Perdón, ahora no pudimos abrir la página segura de pago. No se cobró nada. Intente con este "
                         "mismo enlace en unos minutos, o escriba 'hablar con una persona' en el chat."),
    "copy_cover": ("Aquí tiene una copia de su chat con nosotros, tal como está en nuestro registro. Guárdela si "
                   "quiere. El código al final sirve para que cualquiera vea que nadie cambió ni una palabra."),
    "copy_sent": ("Le voy a mandar por email una copia de este chat a {address}. Lleva un código que muestra que "
                  "nadie la cambió. ¿Qué quiere hacer ahora?"),
    # Las formas de pago (bot/payments/ways.py): tarjeta en nuestra página; otras, con una persona.
    "ways_to_pay": ("Puede pagar con tarjeta de débito o crédito en nuestra página de pago segura. Escriba 'pagar "
                    "ahora' para recibir el enlace. Para otras formas, como cheque, giro postal, Zelle o "
                    "transferencia, una persona de nuestro equipo le puede ayudar: escriba 'hablar con una persona'. "
                    "O seguimos donde íbamos."),
    "ways_to_pay_verify_first": ("Le puedo responder cuando confirmemos quién es usted. ¿Cuál es su fecha de "
                                 "nacimiento?"),
    "copy_not_verified": ("Le puedo mandar una copia por email cuando confirmemos quién es usted. ¿Cuál es su fecha "
                          "de nacimiento?"),
    "copy_no_email": ("No tenemos un email suyo, así que no puedo mandarle una copia. Puede escribir 'hablar con una "
                      "persona' para pedirla de otra forma."),
    "copy_suppressed": ("Usted nos pidió no escribir a {address}, así que no puedo mandar una copia ahí. Puede "
                        "escribir 'hablar con una persona' para pedirla de otra forma."),
    "safe_reply": "Perdón, aquí no puedo ayudarle con eso. Puede escribir 'hablar con una persona'.",
    "esign_web_checkbox": ("Mándenme por email los avisos que la ley les pide enviar sobre este plan, como el aviso "
                           "antes de cada pago con tarjeta, a {address}. Tengo un aparato que abre emails y páginas "
                           "web, y puedo guardarlos o imprimirlos. Puedo pedir copias en papel gratis, o dejar de "
                           "recibir emails, cuando quiera."),
    "esign_web_save": "Guardar mi respuesta",
    "esign_web_ticked": 'Marcó la casilla y luego oprimió "{save}"',
    "esign_web_unticked": 'Dejó la casilla vacía y luego oprimió "{save}"',
    "page_notices_heading": "Avisos sobre su plan",
    "page_notices_if_empty": ("Si la deja vacía, se los mandamos por texto si usted nos ha escrito por texto, o no "
                              "podemos cobrar solos los otros pagos."),
    "page_notices_title": "Avisos", "page_nothing_to_change": "No hay nada que cambiar", "page_saved": "Listo",
    "page_no_choice": "No hay nada que elegir en esta página. Ya puede cerrarla.",
    "page_saved_yes": ("Le vamos a mandar por email los avisos sobre su plan. Puede pedir copias en papel, o dejar de "
                       "recibir emails, cuando quiera."),
    "page_saved_no": "No le vamos a mandar por email los avisos sobre su plan.",
    "page_close": "Ya puede cerrar esta página.",
    # La página para dejar de recibir emails (EMAIL-2).
    "optout_title": "No más emails",
    "optout_invalid_heading": "Este enlace no funciona",
    "optout_invalid_body": "Lo sentimos, no pudimos leer este enlace. Puede que se cortara al copiarlo.",
    "optout_invalid_still": "Aún puede responder a un email nuestro: escriba ALTO para no recibir más emails.",
    "optout_done_heading": "Listo: no más emails",
    "optout_done_body": "No vamos a mandar más emails a {address}.",
    "optout_done_note": ("Esto es solo para los emails. Si le llegan textos, siguen igual: responda a un texto con "
                         "ALTO para no recibir más textos. Aún puede escribirnos o pedir hablar con una persona."),
    "optout_confirm_heading": "¿No quiere más emails de nosotros?",
    "optout_confirm_body": "Toque el botón y no vamos a mandar más emails a {address}. Es gratis.",
    "optout_button": "No más emails",
    "optout_confirm_note": "Esto es solo para los emails. Si le llegan textos, siguen igual.",
    "notice_page_title": "Aviso de validación: {creditor}, {account}",
    "notice_page_heading": "Aviso de validación",
    "notice_page_hint": ("Este es el aviso que le mandamos el {date}. Guarde esta página. También puede imprimirla o "
                         "guardarla como PDF con la opción Imprimir de su navegador (Ctrl+P o \u2318P)."),
    "notice_page_invalid_body": ("Lo sentimos, no pudimos leer este enlace. Puede que se cortara al copiarlo. El "
                                 "aviso completo también está en el email que le mandamos."),
    "notice_page_missing_title": "No encontramos el aviso",
    "notice_page_missing_heading": "No encontramos este aviso",
    "notice_page_missing_body": ("Lo sentimos, este aviso ya no está en nuestros registros. El aviso completo también "
                                 "está en el email que le mandamos. Puede escribirnos para pedir otra copia."),
    # A long text over SMS (bot/sms.as_sent): its opening lines, then this link to the whole of it.
    "sms_whole_text": "Léalo completo aquí: {url}",
    # The page that link opens (/texts/<token>, bot/gateway/document_routes.py).
    "text_page_title": "Nuestro mensaje para usted",
    "text_page_hint": ("Este es el mensaje completo que le mandamos por texto el {date}. Guarde esta página. También "
                       "puede imprimirla o guardarla como PDF con la opción Imprimir de su navegador."),
    "text_page_expired_heading": "Este enlace ya venció",
    "text_page_expired_body": ("Para proteger sus datos, los enlaces de nuestros textos sirven {days} días. "
                               "Escríbanos si lo necesita otra vez, o escriba 'hablar con una persona'."),
    "text_page_missing_heading": "No encontramos este mensaje",
    "text_page_missing_body": ("Lo sentimos, este mensaje no está en nuestros registros. Si necesita ayuda, "
                               "escríbanos 'hablar con una persona'."),
    "check_title": "Revise una copia de un chat",
    "check_intact": "Intacta: esta copia es igual a nuestro registro.",
    "check_intact_more": "No se cambió ni una palabra.",
    "check_altered": "Cambiada: esta copia no es igual a nuestro registro.",
    "check_altered_more": "Algo en ella se cambió.",
    "check_no_record": "No la encontramos: esta copia no es de ningún chat de nuestros registros.",
    "check_broken": "Ahora no podemos confirmar esta copia.",
    "check_broken_more": "Nuestro propio registro no pasó su revisión, así que una persona lo va a revisar.",
    "check_entries": "La copia cubre {entries} partes del registro.",
    "check_why_header": "Se cambiaron las líneas que dicen qué chat es y cómo termina la cadena.",
    "check_why_unknown": "Ningún chat de nuestros registros tiene este código.",
    "check_why_head": "El final de la cadena en la copia no es el del registro en esa parte.",
    "check_why_broken": "Nuestro registro guardado no pasa su propia revisión.",
    "check_why_line": "La línea {line} de la copia no es igual al registro.",
    "check_why_intact": "Cada línea es igual al registro y al final de su cadena.",
    "check_not_a_copy": "No encontramos una copia en lo que pegó.",
    "check_not_a_copy_more": ("Pegue todo desde la línea \"{begin}\" hasta la línea \"{end}\", o suba el email "
                              "guardado."),
    "check_too_big": "Es muy largo para ser una de nuestras copias.",
    "check_too_big_more": "Pegue solo la parte desde la línea BEGIN hasta la línea END.",
    "check_lead": ("¿Le llegó por email una copia de un chat con nosotros? Péguela aquí, o suba el email guardado, "
                   "para ver si es igual a nuestro registro. Cualquiera puede revisarla. Esta página no muestra nada "
                   "del registro."),
    "check_paste": "Pegue la copia",
    "check_upload": "O suba el email guardado o un archivo de texto",
    "check_button": "Revisar la copia",
    "dispute_left": ("Bien, no anoté ninguna disputa. Puede escribir 'saldo', 'pagar ahora', 'plan de pagos' o "
                     "'hablar con una persona'. O escriba 'disputa' cuando quiera empezar de nuevo."),
    "dispute_give_up": ("Perdón, todavía no sé qué quiere disputar, así que no anoté nada. Escriba 'hablar con una "
                        "persona' y alguien le ayuda, o escriba 'disputa' para empezar de nuevo."),
    "dispute_withdraw_person": ("Yo no puedo quitar una disputa, así que le pedí a una persona del equipo que la "
                                "revise con usted. No anoté nada nuevo."),
    "notice_copy_person": ("Le pedí al equipo que le mande una copia de su aviso por correo postal. Es gratis. No "
                           "anoté ninguna disputa."),
    "card_use_pay_link": ("Por favor, nunca mande números de tarjeta aquí. Para pagar, escriba 'pagar ahora' y le "
                          "mando un enlace seguro. No anoté ninguna disputa."),
    "what_is_a_collector": ("Un cobrador de deudas es una empresa que pide a las personas pagar dinero que le deben "
                            "a otra. Tenemos que decirle que eso somos. Puede preguntarme lo que quiera, o escribir "
                            "'hablar con una persona'."),
    "creditor_is": "El acreedor de la cuenta que termina en {last4} es {creditor}.",
    "creditor_next": "Si cree que está mal, escriba 'disputa'. O dígame qué más necesita.",
    "verify_again_form_ended": ("Por su seguridad, necesito confirmar otra vez quién es antes de seguir. ¿En qué le "
                                "puedo ayudar?"),
    "work_calls_noted": ("Gracias por decírmelo. Anoté que no le vamos a llamar al trabajo, y una persona del equipo "
                         "se va a asegurar de eso."),
    "mailing_address": "Nuestra dirección postal es {address}.",
}
