"""Bring a database to the newest schema through Alembic, or tell whether it is there."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from bot.config import PROJECT_ROOT
from bot.db import get_engine


def _config(database_url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "bot" / "migrations"))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(_config(database_url), revision)


def is_current(database_url: str) -> bool:
    """Whether the database's schema is this code's newest (its Alembic head): what a pod of a new release waits
    for while the release's migration runs elsewhere (deploy/k8s: the `migrate` Job)."""
    script = ScriptDirectory.from_config(_config(database_url))
    with get_engine(database_url).connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    if current == set(script.get_heads()):
        return True
    # A revision this code does not know is a newer release's: migrations only add, so a pod of the previous
    # release (a rollback, a restart during a rollout) serves on it rather than waiting for a schema it can't reach.
    known = {revision.revision for revision in script.walk_revisions()}
    return bool(current - known)
