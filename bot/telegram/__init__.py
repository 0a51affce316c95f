"""The Telegram adapter (python-telegram-bot): translates updates into engine events and the
engine's replies into Bot API calls. `app` builds and wires the application, `handlers` holds
the handlers, `sending` the reply sending, `sharing` inline mode and the staff's deep links."""
