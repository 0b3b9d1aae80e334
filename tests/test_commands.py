"""The `ephemera` command line: what it offers and how it answers a wrong call."""

from __future__ import annotations

import pytest

import commands


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert commands.main(["--help"]) == 0
    shown = capsys.readouterr().out
    for name in ("serve", "migrate", "demo", "sweep-stories", "sweep-uploads", "reconcile-media"):
        assert f"    {name}" in shown


def test_a_missing_or_unknown_command_shows_the_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert commands.main([]) == 2
    assert commands.main(["no-such-command"]) == 2
    assert capsys.readouterr().err.count("usage: ephemera") == 2


def test_the_demo_can_be_forced() -> None:
    assert commands.parser().parse_args(["demo", "--force"]).force is True
    assert commands.parser().parse_args(["demo"]).force is False
