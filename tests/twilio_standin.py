"""A local stand-in for the part of Twilio's REST API Settle uses, so tests drive the real twilio SDK.

POST /2010-04-01/Accounts/{AccountSid}/Messages.json (form: To, From, Body, StatusCallback) answers 201 with the
JSON Twilio returns for a new message, and Twilio's error JSON otherwise: 401 (code 20003) for wrong credentials,
400 (21602) for a missing body, 400 (21610) for a number that texted STOP to Twilio, and on demand 500 (20500) or
a time-out. Every request is kept in `requests`, every created message in `messages`.

    with TwilioStandIn() as twilio:
        twilio.fail_next(2)                  # the next 2 requests get HTTP 500
        twilio.stall_next(1, seconds=2.0)    # the next request hangs past the client's timeout
        settings = Settings(..., twilio_api_url=twilio.url, twilio_account_sid=twilio.account_sid, ...)
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from twilio.request_validator import RequestValidator

ACCOUNT_SID = "AC" + "f" * 32
AUTH_TOKEN = "standin-auth-token-0123456789abcdef"
FROM_NUMBER = "+15555550100"
_MESSAGES = re.compile(r"^/2010-04-01/Accounts/(?P<account>AC[0-9a-fA-F]{32})/Messages\.json$")


def sign(url: str, params: dict[str, str], auth_token: str = AUTH_TOKEN) -> str:
    """X-Twilio-Signature for a webhook Twilio would post to `url` with these form fields."""
    return RequestValidator(auth_token).compute_signature(url, params)


def message_sid() -> str:
    return "SM" + secrets.token_hex(16)


def _error(status: int, code: int, message: str) -> dict[str, Any]:
    return {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status}


class TwilioStandIn:
    def __init__(self, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN) -> None:
        self.account_sid, self.auth_token = account_sid, auth_token
        self.requests: list[dict[str, Any]] = []
        self.messages: list[dict[str, Any]] = []
        self.unsubscribed: set[str] = set()
        self._plan: list[tuple[str, float]] = []  # ("fail", status) or ("stall", seconds), consumed in order
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- failure modes ------------------------------------------------------------------------------------------

    def fail_next(self, times: int = 1, status: int = 500) -> None:
        with self._lock:
            self._plan += [("fail", float(status))] * times

    def stall_next(self, times: int = 1, seconds: float = 2.0) -> None:
        """Hang without creating anything (the client times out), then answer 504."""
        with self._lock:
            self._plan += [("stall", seconds)] * times

    # --- lifecycle -------------------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None, "start() first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> TwilioStandIn:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet in test output
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                standin._handle(self)

            def do_GET(self) -> None:  # noqa: N802
                standin._reply(self, 404, _error(404, 20404, "The requested resource was not found"))

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="twilio-standin", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> TwilioStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- the API ---------------------------------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length).decode("utf-8") if length else ""
        form = {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}
        with self._lock:
            self.requests.append({"path": handler.path, "form": form, "at": time.time()})
            step = self._plan.pop(0) if self._plan else None
        match = _MESSAGES.match(handler.path.split("?")[0])
        if match is None:
            return self._reply(handler, 404, _error(404, 20404, "The requested resource was not found"))
        if not self._authorised(handler.headers.get("Authorization", ""), match["account"]):
            return self._reply(handler, 401, _error(401, 20003, "Authenticate"))
        if step is not None and step[0] == "stall":
            time.sleep(step[1])
            return self._reply(handler, 504, _error(504, 20504, "Gateway Timeout"))
        if step is not None and step[0] == "fail":
            return self._reply(handler, int(step[1]), _error(int(step[1]), 20500, "Internal Server Error"))
        to, body = form.get("To", ""), form.get("Body", "")
        if not to:
            return self._reply(handler, 400, _error(400, 21604, "A 'To' phone number is required."))
        if not form.get("From") and not form.get("MessagingServiceSid"):
            return self._reply(handler, 400, _error(400, 21603, "A 'From' phone number is required."))
        if not body and not form.get("MediaUrl"):
            return self._reply(handler, 400, _error(400, 21602, "Message body is required."))
        if len(body) > 1600:
            return self._reply(handler, 400, _error(400, 21617, "The concatenated message body exceeds the "
                                                                "1600 character limit."))
        if to in self.unsubscribed:
            return self._reply(handler, 400, _error(400, 21610, "Attempt to send to unsubscribed recipient"))
        message = self._message(match["account"], form)
        with self._lock:
            self.messages.append(message)
        return self._reply(handler, 201, message)

    def _authorised(self, header: str, account: str) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return header == f"Basic {expected}" and account == self.account_sid

    @staticmethod
    def _message(account: str, form: dict[str, str]) -> dict[str, Any]:
        """Twilio's JSON for a newly created message (api.v2010.account.message)."""
        sid = message_sid()
        now = formatdate(usegmt=True).replace("GMT", "+0000")
        body = form.get("Body", "")
        return {
            "account_sid": account, "api_version": "2010-04-01", "body": body, "date_created": now,
            "date_sent": None, "date_updated": now, "direction": "outbound-api", "error_code": None,
            "error_message": None, "from": form.get("From"), "messaging_service_sid": form.get("MessagingServiceSid"),
            "num_media": "0", "num_segments": str(_segments(body)), "price": None, "price_unit": "USD",
            "sid": sid, "status": "queued", "to": form.get("To"),
            "subresource_uris": {"media": f"/2010-04-01/Accounts/{account}/Messages/{sid}/Media.json"},
            "uri": f"/2010-04-01/Accounts/{account}/Messages/{sid}.json",
            # Not in Twilio's answer: kept so tests can see what the SDK sent.
            "_status_callback": form.get("StatusCallback"),
        }

    @staticmethod
    def _reply(handler: BaseHTTPRequestHandler, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a stalled request)
            pass


def _segments(body: str) -> int:
    from bot.sms import segment_count  # the stand-in bills like Twilio would

    return segment_count(body)
