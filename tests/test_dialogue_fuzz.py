"""Whatever arrives (random text, commands, forged buttons, payloads, emoji, 5,000 characters,
reactions), the engine answers with well-formed replies (a reaction may need none) and never
raises."""

from __future__ import annotations

from datetime import date
from html.parser import HTMLParser

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.callbacks import MAX_BYTES, decode
from bot.dialogue import COMMANDS, Event, Reply, SentAnswer, State

ALLOWED_TAGS = {"b", "i", "a", "code", "blockquote"}
TODAY = date(2026, 11, 21)


class _TelegramHtml(HTMLParser):
    """Checks a reply against Telegram's HTML subset: known tags, properly nested."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        assert tag in ALLOWED_TAGS, tag
        assert tag != "a" or [name for name, _ in attrs] == ["href"], attrs
        assert tag != "blockquote" or [name for name, _ in attrs] == ["expandable"], attrs
        assert tag != "blockquote" or "blockquote" not in self.open  # quotes do not nest
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open.pop() == tag, tag


def check_reply(reply: Reply) -> None:
    assert reply.text.strip()
    parser = _TelegramHtml()
    parser.feed(reply.text)
    parser.close()
    assert parser.open == []
    for row in reply.buttons:
        assert row
        for button in row:
            assert button.label.strip()
            assert (button.data is None) != (button.url is None)
            if button.data is not None:
                assert len(button.data.encode()) <= MAX_BYTES
                assert decode(button.data) is not None, button.data


_VALID_DATA = [
    "1:m", "1:ask", "1:c", "1:lm", "1:l:zh", "1:l:en", "1:f:renewal-how", "1:n",
    "1:fb:renewal-how:0", "1:gl", "1:g:apply", "1:g:apply:9", "1:gs:apply:9", "1:gj:apply:login",
    "1:gc", "1:gx",
    "1:gp:progress:5:inside_taiwan:1", "1:gd:apply", "1:dl", "1:dk", "1:d:renewal",
    "1:d:processing", "1:d:processing:abroad", "1:ds:renewal:20270630", "1:di:pickup:20270101",
    "1:da", "1:dd:renewal", "1:fq", "1:fg:1", "1:fg:0",
    "1:r:renewal:20270630:0", "1:r:supplement:20270110:1", "1:rl", "1:rx:renewal:2", "1:ra",
    "1:rs:renewal", "1:pm:renewal:20270601", "1:pm:processing:20261101:domestic",
    "1:pd:supplement:20261115", "1:pd:renewal:20270331:hk-macau",
]  # fmt: skip
_TEXT = st.one_of(
    st.text(max_size=80),
    st.sampled_from(["hi", "謝謝", "2027-06-30", "how to renew my gold card", "護照", "🙂🎉", ""]),
    st.text(alphabet="abc 金卡護照0123456789-/😀\n", min_size=4900, max_size=5000),
)
_EVENTS = st.one_of(
    st.builds(Event.message, _TEXT),
    st.builds(
        Event.command,
        st.one_of(st.sampled_from([name for name, _ in COMMANDS]), st.text(max_size=20)),
        st.text(max_size=30),
    ),
    st.builds(
        Event.button,
        st.one_of(
            st.sampled_from(_VALID_DATA),
            st.builds(str.__add__, st.sampled_from(_VALID_DATA), st.text(max_size=6)),
            st.from_regex(r"1:[a-z]{1,3}(:[a-z0-9_-]{0,14}){0,5}", fullmatch=True),
            st.text(max_size=70),
        ),
    ),
    st.builds(
        Event.reaction,
        st.integers(min_value=1, max_value=12),
        st.lists(st.sampled_from(["👍", "👎", "❤", "🔥"]), max_size=3),
    ),
    st.builds(
        Event.start,
        st.one_of(
            st.sampled_from(["", "t_renewal-how", "g_apply_9", "g_renew", "d_processing"]),
            st.from_regex(r"[a-z]_[a-z0-9_-]{0,62}", fullmatch=True),
            st.text(max_size=70),
        ),
    ),
)
_LANGUAGES = st.sampled_from([None, "", "en", "zh-hant", "zh-TW", "zh-hans", "fr", "x" * 30])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=st.lists(st.tuples(_EVENTS, _LANGUAGES), min_size=1, max_size=6))
def test_random_events_never_raise_and_always_answer(engine, events):
    # Answers the adapter has sent (ids 1-10), so reactions land on some and miss others.
    state = State(answers=tuple(SentAnswer(n, "renewal-how") for n in range(1, 11)))
    for event, language in events:
        event = Event(event.kind, event.text, event.arg, language)
        replies, state, _ = engine.handle(event, state, today=TODAY)
        assert replies or event.kind == "reaction", event
        for reply in replies:
            check_reply(reply)
        assert state.question is None or len(state.question) <= 600
