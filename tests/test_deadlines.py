"""Deadline rules: every kind, month-end clamping, renewal status on each boundary, sources."""

from __future__ import annotations

import dataclasses
import re
from datetime import date

import pytest

from bot.deadlines import (
    KINDS,
    PROFILE_NAMES,
    PROFILE_STAGES,
    Profile,
    RenewalStatus,
    add_months,
    compute,
    renewal_status,
    renewal_window,
)
from bot.knowledge import TUTORIALS
from bot.textnorm import CJK_RUN
from tests.conftest import SHARED

TODAY = date(2027, 3, 1)
D = date.fromisoformat


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        ("2027-05-31", -1, "2027-04-30"),
        ("2027-05-31", 1, "2027-06-30"),
        ("2027-05-31", -3, "2027-02-28"),
        ("2027-08-31", 6, "2028-02-29"),  # into a leap February
        ("2028-02-29", 12, "2029-02-28"),
        ("2028-02-29", -6, "2027-08-29"),
        ("2027-01-31", 1, "2027-02-28"),
        ("2027-12-15", 1, "2028-01-15"),
        ("2027-01-15", -1, "2026-12-15"),
        ("2027-06-30", -4, "2027-02-28"),
        ("2027-06-30", 0, "2027-06-30"),
    ],
)
def test_add_months_clamps_to_month_end(day, months, expected):
    assert add_months(D(day), months) == D(expected)


# kind, input date, expected JSON (exactly the contract's keys, ISO dates)
TABLE = [
    ("renewal", "2027-06-30", {"window_opens": "2027-03-01", "locks_on": "2027-05-30",
                               "last_day_to_submit": "2027-05-29", "expires_on": "2027-06-30",
                               "status": "open"}),
    ("renewal", "2028-06-29", {"window_opens": "2028-02-29", "locks_on": "2028-05-29",
                               "last_day_to_submit": "2028-05-28", "expires_on": "2028-06-29",
                               "status": "too-early"}),
    ("renewal", "2027-05-31", {"window_opens": "2027-01-31", "locks_on": "2027-04-30",
                               "last_day_to_submit": "2027-04-29", "expires_on": "2027-05-31",
                               "status": "open"}),
    ("renewal", "2028-02-29", {"window_opens": "2027-10-29", "locks_on": "2028-01-29",
                               "last_day_to_submit": "2028-01-28", "expires_on": "2028-02-29",
                               "status": "too-early"}),
    ("renewal", "2027-03-01", {"window_opens": "2026-11-01", "locks_on": "2027-02-01",
                               "last_day_to_submit": "2027-01-31", "expires_on": "2027-03-01",
                               "status": "locked"}),
    ("renewal", "2027-02-28", {"window_opens": "2026-10-28", "locks_on": "2027-01-28",
                               "last_day_to_submit": "2027-01-27", "expires_on": "2027-02-28",
                               "status": "expired"}),
    ("supplement", "2027-05-31", {"due": "2027-06-30", "final_due": "2027-11-30"}),
    ("supplement", "2027-08-31", {"due": "2027-09-30", "final_due": "2028-02-29"}),
    ("supplement", "2028-02-29", {"due": "2028-03-30", "final_due": "2028-08-29"}),
    ("supplement", "2027-12-15", {"due": "2028-01-14", "final_due": "2028-06-15"}),
    ("pickup", "2027-05-31", {"collect_by": "2027-06-30"}),
    ("pickup", "2027-02-01", {"collect_by": "2027-03-03"}),
    ("pickup", "2028-02-01", {"collect_by": "2028-03-02"}),
    ("address", "2027-12-20", {"update_by": "2028-01-19"}),
    ("address", "2027-08-31", {"update_by": "2027-09-30"}),
    ("domestic-stay", "2027-12-28", {"stay_until": "2028-01-04"}),
    ("domestic-stay", "2028-02-25", {"stay_until": "2028-03-03"}),
    ("passport", "2027-08-31", {"apply_by": "2027-02-28"}),
    ("passport", "2028-08-31", {"apply_by": "2028-02-29"}),
    ("passport", "2028-02-29", {"apply_by": "2027-08-29"}),
    ("passport", "2027-12-31", {"apply_by": "2027-06-30"}),
    ("password", "2027-01-01", {"change_by": "2027-04-01"}),
    ("password", "2028-01-01", {"change_by": "2028-03-31"}),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "given", "expected"), TABLE)
def test_every_kind(kind, given, expected):
    assert compute(kind, D(given), today=TODAY).as_json() == expected


def test_the_issue_examples():
    window = renewal_window(D("2027-06-30"), today=TODAY)
    assert (window.window_opens, window.locks_on, window.last_day_to_submit) == (
        D("2027-03-01"),
        D("2027-05-30"),
        D("2027-05-29"),
    )
    assert renewal_window(D("2028-06-29"), today=TODAY).window_opens == D("2028-02-29")


@pytest.mark.parametrize(
    ("today", "status"),
    [
        ("2027-02-28", RenewalStatus.TOO_EARLY),  # the day before window_opens
        ("2027-03-01", RenewalStatus.OPEN),  # window_opens
        ("2027-05-29", RenewalStatus.OPEN),  # last_day_to_submit
        ("2027-05-30", RenewalStatus.LOCKED),  # locks_on
        ("2027-06-30", RenewalStatus.LOCKED),  # expires_on: still a valid card
        ("2027-07-01", RenewalStatus.EXPIRED),  # the day after
        ("2020-01-01", RenewalStatus.TOO_EARLY),
        ("2030-01-01", RenewalStatus.EXPIRED),
    ],
)
def test_renewal_status_on_each_boundary_day(today, status):
    expiry = D("2027-06-30")
    assert renewal_status(expiry, today=D(today)) == status
    assert renewal_window(expiry, today=D(today)).as_json()["status"] == status.value


@pytest.mark.parametrize(
    ("today", "status"),
    [("2028-02-28", "too-early"), ("2028-02-29", "open"), ("2028-05-28", "open"),
     ("2028-05-29", "locked"), ("2028-06-29", "locked"), ("2028-06-30", "expired")],
)  # fmt: skip
def test_renewal_status_boundaries_in_a_leap_year(today, status):
    assert renewal_status(D("2028-06-29"), today=D(today)) == status


# --- Processing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("profile", "stages", "earliest", "latest"),
    [
        (Profile.ABROAD,
         ["nia-review", "wda-review", "mofa-passport-inspection", "nia-final-review", "ic-card"],
         "2027-03-22", "2027-05-07"),
        (Profile.DOMESTIC, ["nia-review", "wda-review", "nia-final-review", "ic-card"],
         "2027-03-15", "2027-04-30"),
        (Profile.HK_MACAU, ["nia-review", "wda-review", "nia-final-review", "ic-card"],
         "2027-04-08", "2027-06-16"),
        (Profile.RENEWAL, ["wda-review", "nia-final-review", "ic-card"],
         "2027-03-08", "2027-04-16"),
        (Profile.RENEWAL_HK_MACAU, ["wda-review", "nia-final-review", "ic-card"],
         "2027-03-29", "2027-06-02"),
    ],
)  # fmt: skip
def test_processing_estimate_by_profile(profile, stages, earliest, latest):
    # Paid on 31 January: +1 week = 7 Feb, +1 month = 7 Mar… (renewals: +1 month = 28 Feb).
    data = compute("processing", D("2027-01-31"), today=TODAY, profile=profile).as_json()
    assert list(data) == ["earliest", "latest", "stages"]
    assert (data["earliest"], data["latest"]) == (earliest, latest)
    assert [s["stage"] for s in data["stages"]] == stages
    assert data["stages"][-1]["earliest_end"] == earliest
    assert data["stages"][-1]["latest_end"] == latest


def test_processing_stage_lengths_follow_the_progress_chart():
    abroad = compute("processing", D("2027-01-31"), today=TODAY, profile=Profile.ABROAD)
    assert abroad.as_json()["stages"][0] == {
        "stage": "nia-review",
        "min": 1,
        "max": 2,
        "unit": "week",
        "earliest_end": "2027-02-07",
        "latest_end": "2027-02-14",
    }
    lengths = {s["stage"]: (s["min"], s["max"], s["unit"]) for s in abroad.as_json()["stages"]}
    assert lengths == {
        "nia-review": (1, 2, "week"),
        "wda-review": (1, 2, "month"),
        "mofa-passport-inspection": (1, 1, "week"),
        "nia-final-review": (1, 2, "week"),
        "ic-card": (1, 2, "day"),
    }
    hk = compute("processing", D("2027-01-31"), today=TODAY, profile=Profile.HK_MACAU)
    final = next(s for s in hk.as_json()["stages"] if s["stage"] == "nia-final-review")
    assert (final["min"], final["max"], final["unit"]) == (1, 2, "month")


def test_no_passport_inspection_or_first_review_where_the_tutorial_exempts_it():
    for profile in (Profile.DOMESTIC, Profile.HK_MACAU, Profile.RENEWAL, Profile.RENEWAL_HK_MACAU):
        assert "mofa-passport-inspection" not in [s.id for s in PROFILE_STAGES[profile]]
    for profile in (Profile.RENEWAL, Profile.RENEWAL_HK_MACAU):
        assert "nia-review" not in [s.id for s in PROFILE_STAGES[profile]]


def test_processing_needs_a_profile():
    with pytest.raises(ValueError, match="profile"):
        compute("processing", TODAY, today=TODAY)


def test_unknown_kind():
    with pytest.raises(KeyError):
        compute("visa", TODAY, today=TODAY)


def test_results_are_frozen():
    window = renewal_window(D("2027-06-30"), today=TODAY)
    with pytest.raises(dataclasses.FrozenInstanceError):
        window.locks_on = TODAY  # type: ignore[misc]


# --- Labels and sources ------------------------------------------------------------------------

EXPECTED_KEYS = {
    "renewal": ["window_opens", "locks_on", "last_day_to_submit", "expires_on", "status"],
    "supplement": ["due", "final_due"],
    "pickup": ["collect_by"],
    "address": ["update_by"],
    "domestic-stay": ["stay_until"],
    "passport": ["apply_by"],
    "password": ["change_by"],
    "processing": ["earliest", "latest", "stages"],
}


@pytest.mark.parametrize("kind", EXPECTED_KEYS)
def test_each_kind_has_exactly_the_contract_keys_and_a_label_for_each_date(kind):
    profile = Profile.ABROAD if kind == "processing" else None
    result = compute(kind, D("2027-06-30"), today=TODAY, profile=profile)
    assert list(result.as_json()) == EXPECTED_KEYS[kind]
    assert result.kind == kind == KINDS[kind].name
    assert [key for key, _ in result.dates()] == [label.key for label in KINDS[kind].outputs]
    assert result.given == D("2027-06-30")
    for text in (KINDS[kind].title, KINDS[kind].given_label, *_texts(KINDS[kind].outputs)):
        assert CJK_RUN.search(text["zh"]), text
        assert not CJK_RUN.search(text["en"]), text


def _texts(labels):
    for label in labels:
        yield label.label
        yield label.about


def test_every_kind_is_in_the_contract():
    assert set(KINDS) == set(EXPECTED_KEYS)
    assert set(PROFILE_NAMES) == set(Profile) == set(PROFILE_STAGES)


# What each cited place in the tutorials must say for the rule to stand: (tutorial, step or None
# for its introduction) -> phrases. Reading the seeds keeps the rules honest when they change.
SEED_FACTS = {
    "renewal": {("002", None): ["到期前4個月", "到期前1個月", "自動鎖定", "重新申請"],
                ("001", 3): ["屆滿前四個月內申請延期"]},
    "supplement": {("003", None): ["收到通知後的三十天內", "收到通知後的六個月內"]},
    "pickup": {("000", 5): ["入境台灣後必須在30天內"], ("000", 7): ["入境台灣後必須在30天內"]},
    "address": {("001", 17): ["搬入新家30天內", "更新您的居留地址"]},
    "domestic-stay": {("001", 9): ["最少預留7天人在境內"]},
    "passport": {("001", 10): ["有效期6個月以上之護照"], ("001", 15): ["尚餘6個月以上效期之護照"]},
    "password": {("001", 5): ["請每90天更換一次密碼"], ("004", 5): ["請每90天更換一次密碼"]},
    "processing": {
        ("000", 4): ["移民署初審/二審", "審核約需1-2週", "延期申請無須經此階段", "約需1-2個月",
                     "境外的非港澳人士首次申請", "約需一週", "港澳申請者皆無須繳驗護照",
                     "若您是港澳申請者", "約需1-2天"],
        ("002", None): ["移民署會作出最終複審", "1-2 個月"],
    },
}  # fmt: skip


@pytest.mark.parametrize("kind", SEED_FACTS)
def test_rules_match_the_tutorials_they_cite(kind):
    if not (SHARED / "seeds").is_dir():
        pytest.skip("shared/seeds (the official tutorials) is not beside the project")
    cited = {(s.tutorial, step) for s in KINDS[kind].sources for step in (s.steps or (None,))}
    assert cited == set(SEED_FACTS[kind])
    for (tutorial, step), phrases in SEED_FACTS[kind].items():
        text = _seed_part(tutorial, step)
        for phrase in phrases:
            assert phrase in text, f"{kind}: {tutorial} step {step} lacks {phrase!r}"


_STEP_HEADER = re.compile(r"^#*\s*STEP (\d+)\s*$", re.MULTILINE)


def _seed_part(tutorial: str, step: int | None) -> str:
    """A tutorial's introduction (step None) or one step's text, from its seed file."""
    text = (SHARED / "seeds" / TUTORIALS[tutorial].seed).read_text(encoding="utf-8")
    headers = {int(m[1]): m for m in _STEP_HEADER.finditer(text)}
    if step is None:
        return text[: headers[1].start()]
    # The extraction of tutorial 2 lost its "STEP 17" header: start from the step before.
    start = headers.get(step) or headers[step - 1]
    later = [m.start() for n, m in headers.items() if n > step]
    return text[start.end() : min(later, default=len(text))]


# --- Issue 12: month-end opening days, the Hong Kong / Macau renewal profile -------------------


@pytest.mark.parametrize(
    ("expiry", "opens", "locks", "last_day"),
    [
        # June 30 - 4 months: February has no 30th; the strict reading opens on 1 March.
        ("2027-06-30", "2027-03-01", "2027-05-30", "2027-05-29"),
        ("2027-06-29", "2027-03-01", "2027-05-29", "2027-05-28"),
        ("2028-06-29", "2028-02-29", "2028-05-29", "2028-05-28"),  # a leap February has it
        ("2027-08-31", "2027-05-01", "2027-07-31", "2027-07-30"),  # April has no 31st
        ("2027-07-31", "2027-03-31", "2027-06-30", "2027-06-29"),  # June has no 31st: lock early
        ("2027-03-31", "2026-12-01", "2027-02-28", "2027-02-27"),  # November has no 31st
    ],
)
def test_month_end_opening_is_never_earlier_than_a_strict_reading(expiry, opens, locks, last_day):
    window = renewal_window(D(expiry), today=TODAY)
    assert (window.window_opens, window.locks_on, window.last_day_to_submit) == (
        D(opens),
        D(locks),
        D(last_day),
    )
    day_before = D(opens).toordinal() - 1
    assert renewal_status(D(expiry), today=date.fromordinal(day_before)) == "too-early"
    assert renewal_status(D(expiry), today=D(opens)) == "open"
    # The rule applied is stated with the dates it makes.
    about = KINDS["renewal"].output("window_opens").about
    assert "1st of the next month" in about["en"] and "下個月1日" in about["zh"]
    assert "last day" in KINDS["renewal"].output("locks_on").about["en"]


def test_renewal_takes_the_hk_macau_profile_and_no_other():
    window = compute("renewal", D("2027-06-30"), today=TODAY, profile=Profile.HK_MACAU)
    assert window.profile is Profile.HK_MACAU
    assert list(window.as_json()) == EXPECTED_KEYS["renewal"]
    assert compute("renewal", D("2027-06-30"), today=TODAY).profile is None
    with pytest.raises(ValueError, match="renewal"):
        compute("renewal", D("2027-06-30"), today=TODAY, profile=Profile.ABROAD)
    assert KINDS["renewal"].profiles == (Profile.HK_MACAU,)
    assert KINDS["processing"].profiles == tuple(Profile)


def test_the_last_renewal_day_is_the_day_before_the_lock():
    label = KINDS["renewal"].output("last_day_to_submit")
    assert "day before the lock" in label.about["en"]
    assert "鎖定的前一天" in label.about["zh"]


def test_faq_guide_and_calculator_name_the_last_renewal_day_alike(knowledge):
    about = KINDS["renewal"].output("last_day_to_submit").about
    texts = [
        knowledge.faq["renewal-window"].answer,
        knowledge.faq["renewal-hk-macau"].answer,
        knowledge.guides["renew"].intro,
        about,
    ]
    for text in texts:
        assert "the day before the lock" in text["en"], text["en"]
        assert "鎖定的前一天" in text["zh"], text["zh"]
        assert "at the latest 1 month before" not in text["en"]
        assert "最晚請在到期前 1 個月" not in text["zh"]
        assert "最晚仍須在到期前 1 個月" not in text["zh"]
