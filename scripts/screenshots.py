"""Screenshots of the agent console and the compliance console for the README (docs/screenshots/*.png), at desktop
(1280x800) and phone (390x844) width.

    .venv-app/bin/python scripts/screenshots.py            # needs Debian's chromium: bash scripts/browser.sh

It runs its own gateway in a thread on a throwaway SQLite database (the consoles need no Rasa), with the demo
portfolio, the demo history and a few conversations queued through the same services the bot uses, at ages from
minutes to days, so the pictures show what a working queue looks like. Nothing here touches your own database."""

from __future__ import annotations

import argparse
import shutil
import socket
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page  # noqa: E402

from bot import conversations, handoff  # noqa: E402
from bot.agents import queue, replies, users  # noqa: E402
from bot.db import get_engine, session_scope  # noqa: E402
from bot.db.migrate import upgrade  # noqa: E402
from bot.portfolio_import import import_accounts  # noqa: E402
from bot.records import demo_history  # noqa: E402
from bot.records.listeners import register_flush_listeners  # noqa: E402

PASSWORD = "screenshots only, not a real password"
SIZES = {"desktop": (1280, 800), "phone": (390, 844)}
# (external id, reason, how long ago they asked, what the debtor and the bot said)
QUEUED = [
    ("shot-crisis", "crisis", timedelta(minutes=3), ["I can't cope with this anymore"]),
    ("shot-hardship", "hardship", timedelta(minutes=47), ["I lost my job last month", "can I pay less for now"]),
    ("shot-person", "request_human", timedelta(hours=2, minutes=10), ["can I talk to a real person"]),
    ("shot-dispute", "dispute", timedelta(days=2, hours=2), ["this isn't my debt", "I want to dispute it"]),
]


def _seed(database_url: str) -> dict[str, str]:
    """Users, the demo portfolio and history, and a queue; returns the handoff ids Ana owns, by name."""
    register_flush_listeners()  # REC-1: every write keeps the transcript chain and flags, here as in the gateway
    engine = get_engine(database_url)
    import_accounts(engine, ROOT / "data" / "demo_portfolio.csv")
    now = datetime.now(timezone.utc)
    owned: dict[str, str] = {}
    with session_scope(engine) as session:
        demo_history.seed(session)
        ana = users.create_user(session, "ana", PASSWORD, "agent", display_name="Ana")
        users.create_user(session, "cat", PASSWORD, "compliance", display_name="Cat")
        for external_id, reason, ago, texts in QUEUED:
            conversation = conversations.get_or_create(session, "web", external_id)
            for n, text in enumerate(texts):
                at = now - ago - timedelta(minutes=len(texts) - n)
                conversations.record_message(session, conversation, direction="in", sender_role="debtor", text=text,
                                             at=at)
                conversations.record_message(session, conversation, direction="out", sender_role="bot",
                                             status="sent", at=at + timedelta(seconds=20),
                                             text="I've asked a person on our team to join." if n == len(texts) - 1
                                             else "I hear you. Tell me a little more?")
            queued = handoff.request(session, conversation.id, reason, rule_id="HO-1", now=now - ago)
            if external_id in ("shot-hardship", "shot-person"):
                queue.claim(session, queued.id, ana, now=now - ago + timedelta(minutes=2))
                owned[external_id] = queued.id
        session.flush()
        replies.record_reply(session, owned["shot-hardship"], ana,
                             "Hi, this is Ana. I'm sorry to hear that. What would help you most right now?")
    return owned


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(database_url: str) -> tuple[str, object, threading.Thread]:
    import uvicorn

    from bot.config import Settings
    from bot.gateway.app import create_app
    port = _free_port()
    settings = Settings(database_url=database_url, rasa_url=f"http://127.0.0.1:{_free_port()}", widget_secret="s")
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    if not server.started:
        raise SystemExit("screenshots: the gateway did not start")
    return f"http://127.0.0.1:{port}", server, thread


def _log_in(page: Page, url: str, username: str) -> None:
    page.goto(url + "/agent/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(url + "/agent")


def shoot(out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("screenshots: Debian's chromium is not installed: run `bash scripts/browser.sh`")
    out.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []
    with tempfile.TemporaryDirectory() as workdir:
        database_url = f"sqlite:///{Path(workdir) / 'screenshots.db'}"
        upgrade(database_url)
        owned = _seed(database_url)
        url, server, thread = _serve(database_url)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium, headless=True,
                                                     args=["--no-sandbox", "--disable-gpu"])
                for size, (width, height) in SIZES.items():
                    context = browser.new_context(viewport={"width": width, "height": height})
                    page = context.new_page()
                    _log_in(page, url, "ana")
                    shots = [("agent-queue", url + "/agent"),
                             ("agent-conversation", f"{url}/agent/h/{owned['shot-hardship']}")]
                    for name, target in shots:
                        page.goto(target)
                        page.wait_for_timeout(800)  # fonts and the first stream update (SSE never idles)
                        path = out / f"{name}-{size}.png"
                        page.screenshot(path=str(path))
                        saved.append(path)
                    context.close()
                    context = browser.new_context(viewport={"width": width, "height": height})
                    page = context.new_page()
                    _log_in(page, url, "cat")
                    page.goto(url + "/compliance")
                    page.wait_for_timeout(500)
                    path = out / f"compliance-search-{size}.png"
                    page.screenshot(path=str(path))
                    saved.append(path)
                    context.close()
                browser.close()
        finally:
            server.should_exit = True  # type: ignore[attr-defined]
            thread.join(timeout=10)
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots", help="where the PNGs go")
    args = parser.parse_args(argv)
    for path in shoot(args.out):
        print(f"screenshots: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
