"""The Rasa project works with Rasa's own tools: `rasa data validate` and `rasa test` on the test stories."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from bot.config import PROJECT_ROOT
from bot.training import rasa_environment, rasa_executable

pytestmark = pytest.mark.integration


def _rasa(*args: str, cwd=PROJECT_ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([str(rasa_executable()), *args], cwd=cwd, env={**os.environ, **rasa_environment()},
                          capture_output=True, text=True, timeout=900)


def test_rasa_data_validate_is_clean():
    # No arguments: Rasa's defaults (domain.yml, a link to domain/, and data/) work as usual.
    result = _rasa("data", "validate")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    warnings = [line for line in (result.stdout + result.stderr).splitlines() if "UserWarning" in line]
    # Rasa's validator does not know that a form asks with utter_ask_<slot>; every other warning counts.
    unexpected = [w for w in warnings if not re.search(r"The utterance 'utter_ask_\w+' is not used", w)]
    assert unexpected == []
    assert "No story structure conflicts found" in result.stdout + result.stderr


def test_every_test_story_passes_under_rasa_test(trained_model, tmp_path):
    result = _rasa("test", "core", "--model", str(trained_model), "--stories", "tests/stories",
                   "--out", str(tmp_path), "--fail-on-prediction-errors")
    failed = (tmp_path / "failed_test_stories.yml").read_text() if (tmp_path / "failed_test_stories.yml").exists() \
        else ""
    assert result.returncode == 0, failed + result.stdout[-3000:] + result.stderr[-3000:]
    assert "None of the test stories failed" in failed
