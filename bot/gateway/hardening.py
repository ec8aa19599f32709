"""The gateway's edges (issue 18): bad input gets a short 4xx, a fault a short 500, and neither ever echoes what
the request sent (a card number in a body must not come back in the error, nor 1 MB in become 1 MB out); every
response carries nosniff and a Content-Security-Policy with frame-ancestors; bodies over MAX_BODY_BYTES (or an
upload route's own limit, UPLOAD_FILE_BYTES) are refused before anything reads them.

`install(app)` wires all of it; bot/gateway/app.py calls it once."""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("settle.gateway")

# Nothing the gateway accepts is near this (a chat message is at most 5,000 characters, a Stripe event a few kB).
MAX_BODY_BYTES = 1024 * 1024
# The exceptions: routes that take a file, and the most their body may be. The route itself refuses a body over
# this, as a page (it catches BodyTooLarge while reading its form); the parser spools the file to disk, so memory
# stays bounded. README "Security".
UPLOAD_FILE_BYTES = {"/ops/portfolio": 50 * 1024 * 1024}  # a portfolio of ~450,000 accounts
MULTIPART_SLACK = 64 * 1024  # the form's other fields and the multipart boundaries around the file


def body_limit(path: str, default: int = MAX_BODY_BYTES) -> int:
    """The most a request to `path` may send."""
    upload = UPLOAD_FILE_BYTES.get(path)
    return default if upload is None else upload + MULTIPART_SLACK
MAX_PROBLEMS = 10
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,39}\Z")

TEMPLATES = Path(__file__).resolve().parent / "templates"


# --- errors ---------------------------------------------------------------------------------------------------------


def _where(loc: tuple[Any, ...]) -> str:
    """A validation error's location with only our own field names and indexes: a key the caller chose (a dict
    key in metadata, say) could be anything, card digits included, so it is shown as "*"."""
    parts = []
    for part in loc:
        if isinstance(part, int) or (isinstance(part, str) and _FIELD_NAME.match(part)):
            parts.append(str(part))
        else:
            parts.append("*")
    return ".".join(parts)


async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    """422 naming which fields are wrong and how (pydantic's error codes), never their values (FastAPI's default
    answer echoes every input back, and fails with a 500 on one it cannot encode, a lone surrogate)."""
    problems = [{"field": _where(tuple(e.get("loc", ()))), "problem": str(e.get("type", "invalid"))}
                for e in exc.errors()[:MAX_PROBLEMS]]
    return JSONResponse({"error": "invalid request", "problems": problems}, status_code=422)


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    """A real fault: 500 with nothing of the request or the exception in it. The traceback goes to the log,
    through the redacting configuration (bot/logging_setup.py)."""
    return JSONResponse({"error": "internal error"}, status_code=500)


# --- headers --------------------------------------------------------------------------------------------------------


def inline_script_hashes(template: Path) -> list[str]:
    """CSP hashes of a template's inline <script> blocks (only blocks without template expressions: what the
    server renders must not decide what the browser runs)."""
    hashes = []
    for body in re.findall(r"<script>(.*?)</script>", template.read_text(encoding="utf-8"), re.S):
        if "{{" not in body and "{%" not in body:
            digest = base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode()
            hashes.append(f"'sha256-{digest}'")
    return hashes


_BASE = "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
# Pay pages: an amount and a receipt number, an inline stylesheet, no script, no form; Checkout is a redirect.
PAY_CSP = f"default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'none'; {_BASE}"
# The demo creditor page: /widget.js, its stylesheet, its fetch and WebSocket to this origin.
PAGE_CSP = (f"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            f"connect-src 'self'; form-action 'self'; {_BASE}")
# Anything else (JSON, scripts, streams): nothing may render it as a page or frame it.
OTHER_CSP = f"default-src 'none'; {_BASE}"


def _phone_csp() -> str:
    scripts = " ".join(inline_script_hashes(TEMPLATES / "phone.html"))
    return PAGE_CSP.replace("script-src 'self'", f"script-src 'self' {scripts}".rstrip())


def csp_for(path: str, content_type: str, phone_csp: str) -> str:
    if path == "/pay" or path.startswith("/pay/"):
        return PAY_CSP
    if not content_type.startswith("text/html"):
        return OTHER_CSP
    return phone_csp if path == "/phone" else PAGE_CSP


class EdgeMiddleware:
    """Pure ASGI (streams and WebSockets pass untouched): refuses oversized bodies with 413, and adds the security
    headers to every HTTP response that does not set its own (the consoles set a stricter CSP themselves)."""

    def __init__(self, app: ASGIApp, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.phone_csp = _phone_csp()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        limit = body_limit(path, self.max_body_bytes)
        too_big = False
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    too_big = int(value) > limit
                except ValueError:
                    too_big = True
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [(k, v) for k, v in message.get("headers", [])]
                present = {k.lower() for k, _ in headers}
                content_type = next((v.decode("latin-1") for k, v in headers if k.lower() == b"content-type"), "")
                extra = {
                    b"x-content-type-options": b"nosniff",
                    b"content-security-policy": csp_for(path, content_type, self.phone_csp).encode(),
                    b"x-frame-options": b"DENY",
                    b"referrer-policy": b"same-origin",
                }
                if path.startswith("/pay/"):
                    extra[b"cache-control"] = b"no-store"
                headers += [(k, v) for k, v in extra.items() if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        if too_big and path not in UPLOAD_FILE_BYTES:
            await _too_large(send_with_headers)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            if too_big:  # an upload route: its first read learns it, unread, and answers with a page
                raise BodyTooLarge
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        try:
            await self.app(scope, counting_receive, send_with_headers)
        except BodyTooLarge:
            if not started:
                await _too_large(send_with_headers)


class BodyTooLarge(HTTPException):
    """Raised from receive(): FastAPI's body parsing passes an HTTPException through as it is (413)."""

    def __init__(self) -> None:
        super().__init__(413, "request body too large")


async def _too_large(send: Send) -> None:
    response = JSONResponse({"error": "request body too large"}, status_code=413)
    await response({"type": "http"}, _no_body, send)


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, unexpected_error)
    app.add_middleware(EdgeMiddleware)
