"""An applicant's personal deadlines: the tutorials' date rules as pure functions on dates.

Each kind turns the one date the applicant knows into a frozen result whose `as_json()` has exactly
the output keys of the deadlines contract; `KINDS` labels every output date in both languages.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any, ClassVar, Literal, Protocol

from bot.knowledge import Source, Text


def add_months(day: date, months: int) -> date:
    """Calendar-month arithmetic, clamped to the month's last day (2027-08-31 + 6 = 2028-02-29)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def months_before_strict(day: date, months: int) -> date:
    """The first day from which `day` is at most `months` calendar months away: the same day of
    the month `months` earlier, or, when that month has no such day, the 1st of the month after
    it (2027-06-30 - 4 months = 2027-03-01, never the clamped 2027-02-28)."""
    clamped = add_months(day, -months)
    return clamped if clamped.day == day.day else clamped + timedelta(days=1)


class Deadlines(Protocol):
    """What every kind's result offers: its input date, its output dates, its JSON object."""

    kind: ClassVar[str]

    @property
    def given(self) -> date: ...

    def dates(self) -> tuple[tuple[str, date], ...]: ...

    def as_json(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class _DatedResult:
    """Shared by the date-only kinds: OUTPUTS names the output fields in the contract's order."""

    kind: ClassVar[str]
    GIVEN: ClassVar[str]
    OUTPUTS: ClassVar[tuple[str, ...]]

    @property
    def given(self) -> date:
        return getattr(self, self.GIVEN)

    def dates(self) -> tuple[tuple[str, date], ...]:
        return tuple((key, getattr(self, key)) for key in self.OUTPUTS)

    def as_json(self) -> dict[str, Any]:
        return {key: day.isoformat() for key, day in self.dates()}


# --- Renewal ------------------------------------------------------------------------------


class RenewalStatus(StrEnum):
    """Where a card stands in its renewal calendar on a given day."""

    TOO_EARLY = "too-early"  # before the window opens
    OPEN = "open"  # window_opens <= today < locks_on
    LOCKED = "locked"  # locks_on <= today <= expires_on: too late to extend online
    EXPIRED = "expired"  # after expires_on: apply again (re-application)


@dataclass(frozen=True)
class RenewalWindow(_DatedResult):
    """The renewal (extension) calendar of one card, and its status on the day it was checked."""

    kind: ClassVar[str] = "renewal"
    GIVEN: ClassVar[str] = "expires_on"
    OUTPUTS: ClassVar[tuple[str, ...]] = (
        "window_opens",
        "locks_on",
        "last_day_to_submit",
        "expires_on",
    )

    expires_on: date
    window_opens: date
    locks_on: date
    last_day_to_submit: date
    status: RenewalStatus
    profile: Profile | None = None  # Profile.HK_MACAU: a Hong Kong or Macau resident renews

    def as_json(self) -> dict[str, Any]:
        return super().as_json() | {"status": self.status.value}


def renewal_window(
    expires_on: date, *, today: date, profile: Profile | None = None
) -> RenewalWindow:
    """Renewal opens 4 months before expiry; the platform locks it from 1 month before expiry.

    Month ends read on the safe side each way: the window opens on the same day of the month 4
    months earlier, or on the 1st of the next month when that month is too short (never earlier
    than a strict reading allows); the lock comes on the same day 1 month earlier, or on that
    month's last day (never later). The last day to submit is the day before the lock.
    """
    opens, locks = months_before_strict(expires_on, 4), add_months(expires_on, -1)
    return RenewalWindow(
        expires_on=expires_on,
        window_opens=opens,
        locks_on=locks,
        last_day_to_submit=locks - timedelta(days=1),
        status=renewal_status(expires_on, today=today),
        profile=profile,
    )


def renewal_status(expires_on: date, *, today: date) -> RenewalStatus:
    """The renewal status of a card expiring on `expires_on`, on `today`."""
    if today > expires_on:
        return RenewalStatus.EXPIRED
    if today >= add_months(expires_on, -1):
        return RenewalStatus.LOCKED
    if today >= months_before_strict(expires_on, 4):
        return RenewalStatus.OPEN
    return RenewalStatus.TOO_EARLY


# --- Single-date rules ----------------------------------------------------------------------


@dataclass(frozen=True)
class SupplementDue(_DatedResult):
    """Deadlines to upload documents NIA asked for in a supplement (補正) notice."""

    kind: ClassVar[str] = "supplement"
    GIVEN: ClassVar[str] = "notice_on"
    OUTPUTS: ClassVar[tuple[str, ...]] = ("due", "final_due")

    notice_on: date
    due: date
    final_due: date  # only when the documents must come from abroad


def supplement_due(notice_on: date) -> SupplementDue:
    """30 days after the notice email; 6 months when the documents take long to get abroad."""
    return SupplementDue(notice_on, notice_on + timedelta(days=30), add_months(notice_on, 6))


@dataclass(frozen=True)
class PickupDeadline(_DatedResult):
    """When an overseas applicant must collect the card after entering with the approval letter."""

    kind: ClassVar[str] = "pickup"
    GIVEN: ClassVar[str] = "entered_on"
    OUTPUTS: ClassVar[tuple[str, ...]] = ("collect_by",)

    entered_on: date
    collect_by: date


def pickup_deadline(entered_on: date) -> PickupDeadline:
    """Collect the card at the chosen pickup location within 30 days of entering Taiwan."""
    return PickupDeadline(entered_on, entered_on + timedelta(days=30))


@dataclass(frozen=True)
class AddressUpdateDue(_DatedResult):
    """When the residence address on the platform must show a new long-term home."""

    kind: ClassVar[str] = "address"
    GIVEN: ClassVar[str] = "moved_in_on"
    OUTPUTS: ClassVar[tuple[str, ...]] = ("update_by",)

    moved_in_on: date
    update_by: date


def address_update_due(moved_in_on: date) -> AddressUpdateDue:
    """Update the residence address within 30 days of moving into a long-term home."""
    return AddressUpdateDue(moved_in_on, moved_in_on + timedelta(days=30))


@dataclass(frozen=True)
class DomesticStay(_DatedResult):
    """How long someone who applied from inside Taiwan must stay in the country."""

    kind: ClassVar[str] = "domestic-stay"
    GIVEN: ClassVar[str] = "submitted_on"
    OUTPUTS: ClassVar[tuple[str, ...]] = ("stay_until",)

    submitted_on: date
    stay_until: date


def domestic_stay(submitted_on: date) -> DomesticStay:
    """An application from inside Taiwan needs the applicant there at least 7 days after it."""
    return DomesticStay(submitted_on, submitted_on + timedelta(days=7))


@dataclass(frozen=True)
class PassportValidity(_DatedResult):
    """The last day a passport still has the 6 months' validity the platform and border require."""

    kind: ClassVar[str] = "passport"
    GIVEN: ClassVar[str] = "passport_expires_on"
    OUTPUTS: ClassVar[tuple[str, ...]] = ("apply_by",)

    passport_expires_on: date
    apply_by: date


def passport_validity(passport_expires_on: date) -> PassportValidity:
    """Apply (or enter Taiwan) while the passport has 6 months left: by expiry - 6 months."""
    return PassportValidity(passport_expires_on, add_months(passport_expires_on, -6))


@dataclass(frozen=True)
class PasswordChangeDue(_DatedResult):
    """When the platform password is due for its 90-day change."""

    kind: ClassVar[str] = "password"
    GIVEN: ClassVar[str] = "changed_on"
    OUTPUTS: ClassVar[tuple[str, ...]] = ("change_by",)

    changed_on: date
    change_by: date


def password_change_due(changed_on: date) -> PasswordChangeDue:
    """The platform asks for a new password every 90 days."""
    return PasswordChangeDue(changed_on, changed_on + timedelta(days=90))


# --- Processing time ---------------------------------------------------------------------


class Profile(StrEnum):
    """Who is applying: decides which review stages an application goes through."""

    ABROAD = "abroad"  # first application from abroad (not Hong Kong / Macau)
    DOMESTIC = "domestic"  # first application from inside Taiwan
    HK_MACAU = "hk-macau"  # first application by a Hong Kong or Macau resident
    RENEWAL = "renewal"
    RENEWAL_HK_MACAU = "renewal-hk-macau"


@dataclass(frozen=True)
class Duration:
    """A stage's stated length: `low`–`high` calendar days, weeks or months."""

    low: int
    high: int
    unit: Literal["day", "week", "month"]

    def after(self, day: date, amount: int) -> date:
        if self.unit == "month":
            return add_months(day, amount)
        return day + timedelta(days=amount * (7 if self.unit == "week" else 1))


@dataclass(frozen=True)
class Stage:
    """One review stage from the progress chart (tutorial 4, step 4)."""

    id: str
    name: Text
    duration: Duration


@dataclass(frozen=True)
class StageEstimate:
    """A stage counted in an estimate, with when it ends at the earliest and the latest."""

    stage: Stage
    earliest_end: date
    latest_end: date

    def as_json(self) -> dict[str, Any]:
        duration = self.stage.duration
        return {
            "stage": self.stage.id,
            "min": duration.low,
            "max": duration.high,
            "unit": duration.unit,
            "earliest_end": self.earliest_end.isoformat(),
            "latest_end": self.latest_end.isoformat(),
        }


_WEEK_OR_TWO, _MONTH_OR_TWO = Duration(1, 2, "week"), Duration(1, 2, "month")
NIA_REVIEW = Stage(
    "nia-review", Text(zh="移民署初審/二審", en="NIA first/second review"), _WEEK_OR_TWO
)
WDA_REVIEW = Stage("wda-review", Text(zh="勞發署審查", en="WDA review"), _MONTH_OR_TWO)
MOFA_INSPECTION = Stage(
    "mofa-passport-inspection",
    Text(zh="外交部審查（繳驗護照）", en="MOFA passport inspection"),
    Duration(1, 1, "week"),  # "約需一週": about one week, no range given
)
_FINAL_REVIEW = Text(zh="移民署複審", en="NIA final review")
NIA_FINAL_REVIEW = Stage("nia-final-review", _FINAL_REVIEW, _WEEK_OR_TWO)
# NIA consults the Mainland Affairs Council on Hong Kong and Macau cases.
NIA_FINAL_REVIEW_HK_MACAU = Stage("nia-final-review", _FINAL_REVIEW, _MONTH_OR_TWO)
IC_CARD = Stage("ic-card", Text(zh="IC卡待製證", en="IC card printing"), Duration(1, 2, "day"))

PROFILE_STAGES: dict[Profile, tuple[Stage, ...]] = {
    Profile.ABROAD: (NIA_REVIEW, WDA_REVIEW, MOFA_INSPECTION, NIA_FINAL_REVIEW, IC_CARD),
    Profile.DOMESTIC: (NIA_REVIEW, WDA_REVIEW, NIA_FINAL_REVIEW, IC_CARD),
    Profile.HK_MACAU: (NIA_REVIEW, WDA_REVIEW, NIA_FINAL_REVIEW_HK_MACAU, IC_CARD),
    Profile.RENEWAL: (WDA_REVIEW, NIA_FINAL_REVIEW, IC_CARD),
    Profile.RENEWAL_HK_MACAU: (WDA_REVIEW, NIA_FINAL_REVIEW_HK_MACAU, IC_CARD),
}

# Who renews, where the chat offers the choice (renewal's `profiles`).
RENEWAL_PROFILE_NAMES: dict[Profile, Text] = {
    Profile.HK_MACAU: Text(en="Hong Kong / Macau resident", zh="港澳居民"),
}

PROFILE_NAMES: dict[Profile, Text] = {
    Profile.ABROAD: Text(zh="境外首次申請", en="first application from abroad"),
    Profile.DOMESTIC: Text(zh="境內首次申請", en="first application from inside Taiwan"),
    Profile.HK_MACAU: Text(zh="港澳人士首次申請", en="first application, Hong Kong or Macau"),
    Profile.RENEWAL: Text(zh="延期申請", en="renewal"),
    Profile.RENEWAL_HK_MACAU: Text(zh="港澳人士延期申請", en="renewal, Hong Kong or Macau"),
}


@dataclass(frozen=True)
class ProcessingEstimate:
    """When a paid application should be complete, from the stated length of each stage."""

    kind: ClassVar[str] = "processing"

    paid_on: date
    profile: Profile
    earliest: date
    latest: date
    stages: tuple[StageEstimate, ...]

    @property
    def given(self) -> date:
        return self.paid_on

    def dates(self) -> tuple[tuple[str, date], ...]:
        return (("earliest", self.earliest), ("latest", self.latest))

    def as_json(self) -> dict[str, Any]:
        return {
            "earliest": self.earliest.isoformat(),
            "latest": self.latest.isoformat(),
            "stages": [stage.as_json() for stage in self.stages],
        }


def processing_estimate(paid_on: date, profile: Profile) -> ProcessingEstimate:
    """Add the profile's stages one after another from the payment date, shortest and longest.

    Stages run in the progress chart's order and months are calendar months, so each stage's end
    is computed from the previous one's (clamping at month ends as it goes). Supplements or a
    resubmission lengthen the WDA review; the estimate cannot know about those.
    """
    earliest = latest = paid_on
    counted: list[StageEstimate] = []
    for stage in PROFILE_STAGES[profile]:
        earliest = stage.duration.after(earliest, stage.duration.low)
        latest = stage.duration.after(latest, stage.duration.high)
        counted.append(StageEstimate(stage, earliest, latest))
    return ProcessingEstimate(paid_on, profile, earliest, latest, tuple(counted))


# --- What each kind means, for the chat, the CLI and calendar files --------------------------


@dataclass(frozen=True)
class DateLabel:
    """One output date explained: a short label and a one-line description, in both languages.

    A `deadline` that has passed is shown as passed, with `passed` (what follows) instead of
    `about` when it says more; an opening, a stay or an estimate is just a date.
    """

    key: str
    label: Text
    about: Text
    deadline: bool = True
    passed: Text | None = None


@dataclass(frozen=True)
class DeadlineKind:
    """A kind of deadline: its input, its labelled outputs and where the rule comes from."""

    name: str
    title: Text
    given: str  # the input, named as the CLI option: --expiry, --notice…
    given_label: Text
    outputs: tuple[DateLabel, ...]
    sources: tuple[Source, ...]
    also_given: tuple[tuple[str, Text], ...] = ()  # other inputs it counts from, as CLI options
    profiles: tuple[Profile, ...] = ()  # who applies, where it matters

    def output(self, key: str) -> DateLabel:
        return next(label for label in self.outputs if label.key == key)

    def given_as(self, option: str) -> Text:
        """What the input date is when it came as `option` (`given` or one of `also_given`)."""
        return self.given_label if option == self.given else dict(self.also_given)[option]


def _label(
    key: str,
    en: str,
    zh: str,
    about_en: str,
    about_zh: str,
    *,
    deadline: bool = True,
    passed: tuple[str, str] | None = None,
) -> DateLabel:
    after = Text(en=passed[0], zh=passed[1]) if passed else None
    return DateLabel(key, Text(en=en, zh=zh), Text(en=about_en, zh=about_zh), deadline, after)


_CONTACT_OFFICE = ("contact the Taiwan Gold Card Office", "請洽台灣就業金卡辦公室")


KINDS: dict[str, DeadlineKind] = {
    kind.name: kind
    for kind in (
        DeadlineKind(
            "renewal",
            Text(en="Gold Card renewal", zh="就業金卡延期申請"),
            "expiry",
            Text(en="card expiry date", zh="金卡到期日"),
            (
                _label(
                    "window_opens", "Renewal opens", "開放申請延期",
                    "From 4 months before the card expires you can apply to renew online (the"
                    " same day of the month; when that month has no such day, from the 1st of"
                    " the next month).",
                    "金卡到期前4個月起可線上申請延期（以同一日計；該月沒有這一天時，自下個月1日起）。",
                    deadline=False,
                ),
                _label(
                    "locks_on", "Online renewal locks", "系統鎖定延期申請",
                    "From 1 month before expiry the platform locks renewal applications (the"
                    " same day of the month; when that month has no such day, its last day).",
                    "到期前1個月系統自動鎖定，無法再提交延期申請（以同一日計；該月沒有這一天時，"
                    "以該月最後一天計）。",
                    deadline=False,
                ),
                _label(
                    "last_day_to_submit", "Last day to submit the renewal", "延期申請最後提交日",
                    "Submit your renewal by this day at the latest. It is the day before the"
                    " lock.",
                    "最晚請於這一天完成延期申請的提交。這一天是系統鎖定的前一天。",
                    passed=("Once locked, the card cannot be extended: see today's status below.",
                            "鎖定後就無法再延期，請看下方今天的狀態。"),
                ),
                _label(
                    "expires_on", "Card expires", "金卡到期",
                    "An expired card cannot be renewed: apply again (re-application).",
                    "金卡到期後無法延期，須重新申請。",
                ),
            ),
            (Source(tutorial="002"), Source(tutorial="001", steps=(3,))),
            profiles=(Profile.HK_MACAU,),  # tutorial 002: apply as soon as the window opens
        ),
        DeadlineKind(
            "supplement",
            Text(en="Supplementing documents", zh="補正(件)上傳"),
            "notice",
            Text(en="date of the supplement notice email", zh="補件通知信的日期"),
            (
                _label(
                    "due", "Upload the documents by", "補件期限",
                    "Upload what NIA asked for within 30 days of the notice.",
                    "請於收到通知後30天內透過「補正(件)上傳」上傳所需資料。",
                    passed=("The later deadline below applies only if the documents must be"
                            f" obtained abroad; otherwise {_CONTACT_OFFICE[0]}.",
                            "只有所需資料須在國外辦理時，才適用下方較晚的期限；其他情況"
                            f"{_CONTACT_OFFICE[1]}。"),
                ),
                _label(
                    "final_due", "Final deadline (documents from abroad)",
                    "最後期限（資料需在國外辦理）",
                    "Only if the documents take long to obtain abroad: 6 months after the notice"
                    " at the latest. It is not extra time for other documents.",
                    "僅限所需資料在國外需要較長時間辦理時：最晚須在收到通知後6個月內上傳；"
                    "這不是延長其他資料的期限。",
                    passed=(f"This was the last deadline for documents from abroad;"
                            f" {_CONTACT_OFFICE[0]}.",
                            f"這是國外資料的最後期限；{_CONTACT_OFFICE[1]}。"),
                ),
            ),
            (Source(tutorial="003"),),
        ),
        DeadlineKind(
            "pickup",
            Text(en="Collecting the card", zh="領取就業金卡"),
            "entry",
            Text(en="date you entered Taiwan with the approval letter", zh="持境外核准證明入境日"),
            (
                _label(
                    "collect_by", "Collect the card by", "領卡期限",
                    "Collect the card at your chosen pickup location within 30 days of entering"
                    " Taiwan.",
                    "入境台灣後30天內須至指定的領證地點領取就業金卡。",
                    passed=(f"{_CONTACT_OFFICE[0].capitalize()} about collecting the card.",
                            f"{_CONTACT_OFFICE[1]}詢問領卡事宜。"),
                ),
            ),
            (Source(tutorial="000", steps=(5, 7)),),
        ),
        DeadlineKind(
            "address",
            Text(en="Residence address update", zh="更新居留地址"),
            "moved",
            Text(en="move-in date of your new long-term home", zh="搬入新長期住所的日期"),
            (
                _label(
                    "update_by", "Update your residence address by", "居留地址更新期限",
                    "Update the address on the platform within 30 days of moving in.",
                    "搬入新家30天內須於申請平臺上更新居留地址。",
                    passed=("Update the address on the platform as soon as you can; with"
                            f" questions, {_CONTACT_OFFICE[0]}.",
                            f"請儘快於申請平臺上更新居留地址；如有疑問，{_CONTACT_OFFICE[1]}。"),
                ),
            ),
            (Source(tutorial="001", steps=(17,)),),
        ),
        DeadlineKind(
            "domestic-stay",
            Text(en="Staying in Taiwan after applying there", zh="境內申請的在台停留"),
            "submitted",
            Text(en="date you submitted the application in Taiwan", zh="境內遞交申請案的日期"),
            (
                _label(
                    "stay_until", "Stay in Taiwan at least until", "至少須在境內停留至",
                    "Applying from inside Taiwan means staying there at least 7 days after"
                    " submitting.",
                    "境內申請者遞交申請案時及之後最少須預留7天人在境內。",
                    deadline=False,
                ),
            ),
            (Source(tutorial="001", steps=(9,)),),
        ),
        DeadlineKind(
            "passport",
            Text(en="Passport validity", zh="護照效期"),
            "passport-expiry",
            Text(en="passport expiry date", zh="護照到期日"),
            (
                _label(
                    "apply_by", "Last day with 6 months' passport validity",
                    "護照尚餘6個月效期的最後一天",
                    "Applications and entry need a passport valid for 6 more months; after this"
                    " day, renew the passport first.",
                    "申請及入境須持效期6個月以上之護照；過了這一天請先換發護照。",
                    passed=("The passport has less than 6 months left: renew it before you apply"
                            " or enter Taiwan.",
                            "護照效期已不足6個月：請先換發護照，再申請或入境。"),
                ),
            ),
            (Source(tutorial="001", steps=(10, 15)),),
        ),
        DeadlineKind(
            "password",
            Text(en="Platform password", zh="平臺密碼"),
            "changed",
            Text(en="date you last changed the platform password", zh="上次更改平臺密碼的日期"),
            (
                _label(
                    "change_by", "Change your password by", "密碼更換期限",
                    "The platform asks you to change your password every 90 days.",
                    "請每90天更換一次密碼。",
                    passed=("Change your platform password now, under Account maintenance"
                            " (帳號維護).",
                            "請儘快於「帳號維護」更換平臺密碼。"),
                ),
            ),
            # 004 repeats the rule in its own login step (its introduction only links the FAQ).
            (Source(tutorial="001", steps=(5,)), Source(tutorial="004", steps=(5,))),
        ),
        DeadlineKind(
            "processing",
            Text(en="Processing time estimate", zh="審查時間估計"),
            "paid",
            Text(en="payment date", zh="繳費日期"),
            (
                _label(
                    "earliest", "Complete at the earliest", "最快完成",
                    "If every stage takes its shortest stated time.",
                    "各審查階段皆以最短時間計算。",
                    deadline=False,
                ),
                _label(
                    "latest", "Complete at the latest (estimate)", "最慢完成（估計）",
                    "If every stage takes its longest stated time; supplements add more.",
                    "各階段以最長時間計算；如需補件或重新遞件，時間將再延長。",
                    deadline=False,
                ),
            ),
            (Source(tutorial="000", steps=(4,)), Source(tutorial="002")),
            also_given=(
                ("submitted", Text(
                    en="date you submitted the application (counted as if paid that day;"
                       " the review starts once it is paid)",
                    zh="遞件日期（以當天繳費計算；審查自繳費後開始）",
                )),
            ),
            profiles=tuple(Profile),
        ),
    )
}  # fmt: skip


def compute(kind: str, given: date, *, today: date, profile: Profile | None = None) -> Deadlines:
    """Compute the deadlines of `kind` from its input date.

    Args:
        kind: a key of `KINDS`.
        given: the kind's input date (card expiry, notice date, entry date…).
        today: the day the renewal status is checked on (Asia/Taipei).
        profile: who applies; required for `processing`; `renewal` takes `hk-macau` (or none);
            ignored otherwise.

    Raises:
        KeyError: unknown kind.
        ValueError: `processing` without a profile, or `renewal` with another than hk-macau.
    """
    match kind:
        case "renewal":
            if profile not in (None, *KINDS[kind].profiles):
                raise ValueError(f"renewal takes the hk-macau profile only, not {profile}")
            return renewal_window(given, today=today, profile=profile)
        case "supplement":
            return supplement_due(given)
        case "pickup":
            return pickup_deadline(given)
        case "address":
            return address_update_due(given)
        case "domestic-stay":
            return domestic_stay(given)
        case "passport":
            return passport_validity(given)
        case "password":
            return password_change_due(given)
        case "processing":
            if profile is None:
                raise ValueError("processing needs a profile")
            return processing_estimate(given, profile)
    raise KeyError(kind)
