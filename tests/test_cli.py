"""The command line as a whole (`python -m bot --help`); each command has its own tests."""

from __future__ import annotations

import inspect

import pytest

from bot.__main__ import build_parser, main


def test_help_gives_each_command_its_whole_summary(capsys) -> None:
    """A summary longer than one docstring line was cut where the line broke."""
    with pytest.raises(SystemExit):
        main(["--help"])
    out = " ".join(capsys.readouterr().out.split())
    for name, command in _commands().items():
        summary = " ".join(inspect.getdoc(command.get_default("func")).split("\n\n")[0].split())
        assert summary.endswith("."), name
        assert f"{name} {summary}" in out, name
    assert "the Telegram bot by long polling when BOT_TOKEN is set, the terminal chat" in out


def _commands() -> dict:
    (sub,) = [a for a in build_parser()._actions if a.dest == "command"]
    return dict(sub.choices)
