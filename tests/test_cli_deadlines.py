"""The `python -m bot deadlines` contract (DESIGN.md and issue 4)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

import pytest
from icalendar import Calendar

from bot.__main__ import main
from bot.dates import taipei_today
from bot.textnorm import CJK_RUN
from tests.conftest import ROOT


def _json(capsys) -> dict:
    captured = capsys.readouterr()
    assert captured.err == ""
    return json.loads(captured.out)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["renewal", "--expiry", "2027-06-30", "--today", "2027-03-01"],
         {"window_opens": "2027-03-01", "locks_on": "2027-05-30",
          "last_day_to_submit": "2027-05-29", "expires_on": "2027-06-30", "status": "open"}),
        (["renewal", "--expiry", "116/06/29", "--today", "2028-07-01"],
         {"window_opens": "2027-03-01", "locks_on": "2027-05-29",
          "last_day_to_submit": "2027-05-28", "expires_on": "2027-06-29", "status": "expired"}),
        (["supplement", "--notice", "31 August 2027"],
         {"due": "2027-09-30", "final_due": "2028-02-29"}),
        (["pickup", "--entry", "2027年5月31日"], {"collect_by": "2027-06-30"}),
        (["address", "--moved", "2027.12.20"], {"update_by": "2028-01-19"}),
        (["domestic-stay", "--submitted", "民國116年12月28日"], {"stay_until": "2028-01-04"}),
        (["passport", "--passport-expiry", "Aug 31, 2028"], {"apply_by": "2028-02-29"}),
        (["password", "--changed", "２０２７／１／１"], {"change_by": "2027-04-01"}),
    ],
)  # fmt: skip
def test_json_has_exactly_the_kinds_keys(capsys, argv, expected):
    assert main(["deadlines", *argv, "--json"]) == 0
    assert _json(capsys) == expected


@pytest.mark.parametrize("option", ["--paid", "--submitted"])
def test_processing_json(capsys, option):
    argv = ["deadlines", "processing", option, "2027-01-31", "--profile", "renewal", "--json"]
    assert main(argv) == 0
    data = _json(capsys)
    assert list(data) == ["earliest", "latest", "stages"]
    assert (data["earliest"], data["latest"]) == ("2027-03-08", "2027-04-16")
    assert [s["stage"] for s in data["stages"]] == ["wda-review", "nia-final-review", "ic-card"]
    assert set(data["stages"][0]) == {"stage", "min", "max", "unit", "earliest_end", "latest_end"}


def test_today_defaults_to_taipei_and_relative_words_work(capsys):
    assert main(["deadlines", "password", "--changed", "today", "--json"]) == 0
    changed = taipei_today()
    assert _json(capsys) == {"change_by": date.fromordinal(changed.toordinal() + 90).isoformat()}
    assert main(["deadlines", "pickup", "--entry", "明天", "--today", "2027-05-30", "--json"]) == 0
    assert _json(capsys) == {"collect_by": "2027-06-30"}


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        (["renewal", "--expiry", "2027-02-30"], "--expiry: February 2027 has no day 30"),
        (["renewal", "--expiry", "03/04/2027"], "--expiry: “03/04/2027” could be 3 April"),
        (["renewal", "--expiry", "soon"], "--expiry: I can't read “soon” as a date"),
        (["renewal", "--expiry", ""], "--expiry: Please type a date"),
        (["renewal", "--expiry", "2027-06-30", "--today", "2027-13-01"],
         "--today: There is no month 13"),
        (["renewal", "--notice", "2027-06-30"], "renewal needs --expiry DATE"),
        (["renewal"], "renewal needs --expiry DATE"),
        (["renewal", "--expiry", "2027-06-30", "--notice", "2027-01-01"],
         "renewal needs --expiry DATE"),
        (["visa", "--expiry", "2027-06-30"], "unknown kind 'visa'"),
        (["processing", "--paid", "2027-01-31"], "processing needs --profile abroad|"),
        (["processing", "--paid", "2027-01-31", "--profile", "moon"],
         "processing needs --profile abroad|domestic|hk-macau|renewal|renewal-hk-macau,"
         " not 'moon'"),
        (["supplement", "--paid", "2027-01-31"], "supplement needs --notice DATE"),
    ],
)  # fmt: skip
def test_bad_input_exits_2_with_one_line_on_stderr(capsys, argv, reason):
    assert main(["deadlines", *argv, "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith(reason), captured.err


def test_date_rejection_in_chinese(capsys):
    assert main(["deadlines", "renewal", "--expiry", "2027-02-30", "--lang", "zh"]) == 2
    err = capsys.readouterr().err
    assert (
        err
        == "--expiry: 2027年2月沒有30日（只有28天）；請輸入例如 2027-06-30 或 2027年6月30日。\n"
    )


def test_text_summary_in_each_language(capsys):
    argv = ["deadlines", "renewal", "--expiry", "2027-06-30", "--today", "2027-05-17"]
    assert main(argv) == 0
    en = capsys.readouterr().out
    assert "Last day to submit the renewal: Saturday, 29 May 2027 (in 12 days)" in en
    assert main([*argv, "--lang", "zh"]) == 0
    zh = capsys.readouterr().out
    assert "延期申請最後提交日：2027年5月29日 星期六（12 天後）" in zh
    assert CJK_RUN.search(zh) and "Saturday" not in zh


def test_ics_file(capsys, tmp_path):
    path = tmp_path / "deadlines.ics"
    argv = ["deadlines", "supplement", "--notice", "2027-08-31", "--json", "--ics", str(path)]
    assert main([*argv, "--lang", "zh"]) == 0
    assert _json(capsys) == {"due": "2027-09-30", "final_due": "2028-02-29"}
    events = Calendar.from_ical(path.read_bytes()).walk("VEVENT")
    assert [e.decoded("dtstart") for e in events] == [date(2027, 9, 30), date(2028, 2, 29)]
    assert str(events[0]["summary"]) == "補正(件)上傳：補件期限"
    first_uids = [str(e["uid"]) for e in events]
    assert main([*argv, "--lang", "en"]) == 0
    capsys.readouterr()
    assert [str(e["uid"]) for e in Calendar.from_ical(path.read_bytes()).walk("VEVENT")] == (
        first_uids
    )


def test_entry_point_exit_status():
    run = subprocess.run(
        [sys.executable, "-m", "bot", "deadlines", "renewal", "--expiry", "2027-02-30", "--json"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert (run.returncode, run.stdout) == (2, "")
    assert run.stderr.startswith("--expiry: February 2027 has no day 30")


# --- Issue 12 --------------------------------------------------------------------------------


def test_help_says_which_date_each_kind_needs(capsys):
    with pytest.raises(SystemExit):
        main(["deadlines", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    for needs in (
        "renewal --expiry DATE (card expiry date)",
        "supplement --notice DATE (date of the supplement notice email)",
        "pickup --entry DATE",
        "address --moved DATE",
        "domestic-stay --submitted DATE",
        "passport --passport-expiry DATE",
        "password --changed DATE",
        "processing --paid DATE (payment date) or --submitted DATE",
    ):
        assert needs in out, needs
    assert "renewal: hk-macau" in out


def test_a_result_from_an_roc_date_shows_roc_dates(capsys):
    argv = ["deadlines", "renewal", "--expiry", "116/06/30", "--today", "2027-03-01"]
    assert main(argv) == 0
    en = capsys.readouterr().out
    assert "Wednesday, 30 June 2027 (ROC year 116)" in en
    assert "Last day to submit the renewal: Saturday, 29 May 2027 (ROC year 116)" in en
    assert main([*argv, "--lang", "zh"]) == 0
    assert "2027年5月29日 星期六（民國116年）" in capsys.readouterr().out
    assert main(["deadlines", "renewal", "--expiry", "2027-06-30"]) == 0
    assert "ROC" not in capsys.readouterr().out


def test_ics_to_an_unwritable_path_is_one_line(tmp_path):
    for target in (tmp_path / "missing" / "x.ics", tmp_path):
        run = subprocess.run(
            [sys.executable, "-m", "bot", "deadlines", "renewal", "--expiry", "2027-06-30",
             "--ics", str(target)],
            cwd=ROOT, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert run.returncode == 1, run.stderr
        assert run.stdout == ""
        assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr, run.stderr
        assert run.stderr.startswith(f"--ics: cannot write {target}")


def test_piped_into_head_ends_quietly():
    renewal = f"{sys.executable} -m bot deadlines renewal --expiry 2027-06-30"
    command = f"{renewal} | head -n 0; {renewal} | head -1; {renewal} --json | head -c 1"
    run = subprocess.run(
        command, shell=True, cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert run.stderr == ""
    assert run.stdout.startswith("Gold Card renewal\n{")


def test_processing_labels_the_date_it_was_given(capsys):
    base = ["deadlines", "processing", "--profile", "domestic", "--today", "2027-01-01"]
    assert main([*base, "--paid", "2027-01-04"]) == 0
    assert "Payment date: Monday, 4 January 2027" in capsys.readouterr().out
    assert main([*base, "--submitted", "2027-01-04"]) == 0
    out = capsys.readouterr().out
    assert "Payment date" not in out
    assert out.splitlines()[1].startswith("Date you submitted the application")


def test_renewal_takes_the_hk_macau_profile(capsys):
    argv = ["deadlines", "renewal", "--expiry", "2027-06-30", "--today", "2027-03-01"]
    assert main([*argv, "--profile", "hk-macau"]) == 0
    assert "Hong Kong or Macau resident" in capsys.readouterr().out
    assert main([*argv, "--profile", "abroad"]) == 2
    assert capsys.readouterr().err == "renewal takes --profile hk-macau only, not 'abroad'\n"
