"""Deep-link payloads and callback data: every one the bot makes fits Telegram's limits and
decodes to what it was made from; anything else decodes to nothing."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import callbacks as cb
from bot.links import (
    DeadlineLink,
    GuideLink,
    TopicLink,
    all_targets,
    deep_link,
    exists,
    parse_payload,
    payload,
    title,
)


def test_every_target_has_a_valid_payload_that_parses_back(knowledge):
    targets = list(all_targets(knowledge))
    steps = sum(g.total for g in knowledge.guides.values())
    assert len(targets) == len(knowledge.faq) + len(knowledge.guides) + steps + 8
    for target in targets:
        text = payload(target)
        assert len(text) <= 64 and text.replace("_", "").replace("-", "").isalnum()
        assert parse_payload(text) == target
        assert exists(target, knowledge)
        assert title(target, knowledge, "zh") and title(target, knowledge, "en")


def test_payload_forms():
    assert payload(TopicLink("renewal-how")) == "t_renewal-how"
    assert payload(GuideLink("apply")) == "g_apply"
    assert payload(GuideLink("apply", 9)) == "g_apply_9"
    assert payload(DeadlineLink("domestic-stay")) == "d_domestic-stay"
    assert deep_link("@GoldCardBot", GuideLink("renew", 2)) == (
        "https://t.me/GoldCardBot?start=g_renew_2"
    )


@pytest.mark.parametrize(
    "text",
    ["", "t_", "t_Renewal", "g_apply_0", "g_apply_09", "g_apply_x", "x_renewal", "t_a b",
     "t_" + "a" * 63, "t_renewal-how\n", "g__1"],
)  # fmt: skip
def test_malformed_payloads_parse_to_nothing(text):
    assert parse_payload(text) is None


def test_well_formed_but_unknown_targets_do_not_exist(knowledge):
    assert not exists(TopicLink("no-such-topic"), knowledge)
    assert not exists(GuideLink("apply", 24), knowledge)
    assert not exists(GuideLink("visa"), knowledge)
    assert not exists(DeadlineLink("visa"), knowledge)


ACTIONS = [
    cb.Menu(),
    cb.Topic("forgot-application-number"),
    cb.Feedback("hk-macau-mainland-born", False),
    cb.GuideOpen("supplement"),
    cb.GuideOpen("supplement", 13),
    cb.GuideAnswer("supplement", 13, "mainland_born", True),
    cb.GuideSection("apply", "upload"),
    cb.SaveDeadline("processing", date(2027, 12, 31), "renewal-hk-macau"),
    cb.CalendarFile("domestic-stay", date(2027, 1, 1)),
    cb.Forget(True),
]


@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: type(a).__name__)
def test_callback_data_round_trips_within_64_bytes(action):
    data = cb.encode(action)
    assert data.startswith("1:") and len(data.encode()) <= 64
    assert cb.decode(data) == action


@pytest.mark.parametrize(
    "data",
    ["", "1", "1:", "m", "0:m", "2:m", "1:m:", "1:zz", "1:f", "1:f:A", "1:f:a:b",
     "1:g:apply:0", "1:g:apply:01", "1:g:apply:-1", "1:fb:x:yes", "1:ds:renewal:20270230",
     "1:ds:renewal:2027063", "1:g:apply:9 ", "1:g:" + "a" * 60, "１:m"],
)  # fmt: skip
def test_malformed_callback_data_decodes_to_nothing(data):
    assert cb.decode(data) is None


@pytest.mark.parametrize(
    "data",
    ["1:ds:processing:99991231:abroad", "1:di:renewal:99991231", "1:r:renewal:99991231:0",
     "1:ds:renewal:22000101", "1:ds:renewal:19111231", "1:ds:renewal:00010101"],
)  # fmt: skip
def test_a_date_outside_the_typed_range_decodes_to_nothing(data):
    """Forged far-future dates overflowed the deadline arithmetic: buttons take the range a
    typed date may have (bot.dates.MIN_YEAR..MAX_YEAR)."""
    assert cb.decode(data) is None


def test_the_ends_of_the_typed_range_still_decode():
    assert cb.decode("1:ds:renewal:19120101") == cb.SaveDeadline("renewal", date(1912, 1, 1))
    assert cb.decode("1:di:renewal:21991231") == cb.CalendarFile("renewal", date(2199, 12, 31))


def test_too_long_an_action_is_refused_when_encoded():
    with pytest.raises(ValueError, match="callback data"):
        cb.encode(cb.Topic("a" * 70))


def test_a_tag_cannot_be_registered_twice():
    with pytest.raises(TypeError, match="taken"):

        class Again(cb.Action):
            tag = "m"


@given(st.text(max_size=80))
def test_decoding_anything_never_raises(data):
    action = cb.decode(data)
    assert action is None or cb.encode(action) == data
