"""The command line a new user and an operator meet."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

import bot.__main__
from bot.__main__ import main

ROOT = Path(__file__).resolve().parents[1]


def test_the_shipped_policy_files_are_valid(capsys):
    assert main(["check-policies"]) == 0
    assert "valid" in capsys.readouterr().out


def test_a_broken_policy_file_stops_with_the_field_named(tmp_path, capsys):
    broken = tmp_path / "plans.yml"
    broken.write_text("default:\n  frequencies: [daily]\n  min_installment: -5\n")
    assert main(["check-policies", "--plans", str(broken)]) == 2
    err = capsys.readouterr().err
    assert "default.frequencies" in err and "default.min_installment" in err


def test_a_missing_policy_file_is_reported(tmp_path, capsys):
    assert main(["check-policies", "--banned-phrases", str(tmp_path / "nope.yml")]) == 2
    assert "nope.yml" in capsys.readouterr().err


def test_the_settle_command_runs_from_any_directory(tmp_path):
    """README "The command line": bin/settle is `python -m bot` in the app environment, wherever it is called from."""
    done = subprocess.run([str(ROOT / "bin" / "settle"), "check-policies"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "policy files are valid" in done.stdout


def test_the_package_declares_the_settle_console_script():
    """A package install gets `settle` too: pyproject's entry point names this very function."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    module, function = project["project"]["scripts"]["settle"].split(":")
    assert module == "bot.__main__" and getattr(bot.__main__, function) is main
