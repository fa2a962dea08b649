"""The README opens with the two set-up commands, and CI runs the second one verbatim."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands() -> list[str]:
    lines = ROOT.joinpath("README.md").read_text(encoding="utf-8").splitlines()
    start = lines.index("```") + 1
    end = lines.index("```", start)
    return lines[start:end]


def test_readme_opens_with_install_and_test_commands():
    run, test = _readme_commands()
    assert "pip install -e ." in run and run.endswith("biomatch demo")
    assert "pip install -e '.[test]'" in test and test.endswith("python -m pytest -q")


def test_ci_runs_the_readme_test_command_verbatim():
    _, test = _readme_commands()
    ci = ROOT.joinpath(".ci", "run").read_text(encoding="utf-8").splitlines()
    assert test in ci
