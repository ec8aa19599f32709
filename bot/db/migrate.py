"""Bring a database to the newest schema through Alembic."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from bot.config import PROJECT_ROOT


def upgrade(database_url: str, revision: str = "head") -> None:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "bot" / "migrations"))
    config.attributes["database_url"] = database_url
    command.upgrade(config, revision)
