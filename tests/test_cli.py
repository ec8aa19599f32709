"""The command line a new user and an operator meet."""

from __future__ import annotations

from bot.__main__ import main


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
