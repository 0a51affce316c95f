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


def test_console_on_a_database_it_cannot_write_is_one_line(monkeypatch, capsys) -> None:
    import bot.storage

    def unwritable(db: object) -> None:
        raise bot.storage.UnwritableDatabase("cannot write the SQLite database x.sqlite3")

    monkeypatch.setattr(bot.storage, "prepare", unwritable)
    assert main(["console"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "error: cannot write the SQLite database x.sqlite3"


def test_migrate_on_a_database_it_cannot_open_is_one_line(monkeypatch, tmp_path, capsys) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/missing-folder/db.sqlite3")
    assert main(["migrate"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot migrate the database:") and "Traceback" not in err
