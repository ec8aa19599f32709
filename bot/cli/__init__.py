"""Subcommands of `python -m bot`. Each module exposes `register(subparsers)` and sets `handler`."""

from __future__ import annotations

from bot.cli import (
    answer_saved,
    charge_installments,
    chat,
    check_policies,
    create_user,
    data_request,
    feedback_report,
    import_accounts,
    migrate,
    propensity,
    purge,
    run,
    run_campaign,
    seed_demo_history,
    send_reminders,
    set_languages,
    train,
    verify_transcripts,
)

COMMANDS = [run, import_accounts, migrate, train, chat, check_policies, send_reminders, create_user,
            charge_installments, verify_transcripts, seed_demo_history, purge, data_request, run_campaign,
            feedback_report, propensity, set_languages, answer_saved]
