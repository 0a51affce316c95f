"""The conversation engine: (event, user state) -> (replies, new state, effects), any channel.

Pure: no Telegram, no database, no clock (`today` comes in). The Telegram adapter and the console
translate events and replies; `bot.storage` loads the state, stores the new one and applies the
effects in one transaction. Replies are Telegram HTML rendered from `bot/templates/`.

State carries what the user chose to keep (language, guide place and profile, saved dates and their
scheduled reminders), so the engine can show and change it; effects are the side effects outside
the user's own state (logs for the help desk, forgetting the user).

One module per feature, each registering its commands, buttons, deep links and awaited texts with
the one `Dispatcher` in its `register(dispatcher)`:

- `core`: events, replies, state, effects, the `Turn` being answered and the `Dispatcher`;
- `menus`: welcome, main menu, /help, /language, /cancel, "this button has expired";
- `faq`: answers, "did you mean", 👍/👎 feedback, the help desk's contacts;
- `guide_flow`: step-by-step guides;
- `calculators`: deadline calculators and saved dates;
- `datepicker`: the month calendar under every date prompt (drawn only: `calculators` and
  `router` answer its buttons);
- `reminders`: reminders of saved dates and the message a reminder sends;
- `news`: /settings and its news toggle, and the message an announcement sends;
- `privacy`: /mydata and /forget;
- `handoff`: "Ask a person": consent, the open request, closing it, "was this helpful?";
- `router`: what a typed message is (awaited text, small talk, a question);
- `engine`: `Engine`, which wires the features and answers events.
"""

from bot.dialogue.core import (
    MAX_SENT_ANSWERS,
    N_,
    Button,
    CloseTicket,
    Count,
    Dispatcher,
    Document,
    Effect,
    Event,
    EventKind,
    ForgetUser,
    Keyboard,
    OpenTicket,
    Outcome,
    RecordFeedback,
    RecordUnanswered,
    RelayToStaff,
    Reply,
    SavedDate,
    SentAnswer,
    State,
    Turn,
)
from bot.dialogue.engine import Engine
from bot.dialogue.faq import CONTACT_TOPIC, MAX_RELATED
from bot.dialogue.menus import COMMANDS, command_menu
from bot.dialogue.router import MAX_STORED_QUESTION

__all__ = [
    "COMMANDS",
    "CONTACT_TOPIC",
    "MAX_RELATED",
    "MAX_SENT_ANSWERS",
    "MAX_STORED_QUESTION",
    "N_",
    "Button",
    "CloseTicket",
    "Count",
    "Dispatcher",
    "Document",
    "Effect",
    "Engine",
    "Event",
    "EventKind",
    "ForgetUser",
    "Keyboard",
    "OpenTicket",
    "Outcome",
    "RecordFeedback",
    "RecordUnanswered",
    "RelayToStaff",
    "Reply",
    "SavedDate",
    "SentAnswer",
    "State",
    "Turn",
    "command_menu",
]
