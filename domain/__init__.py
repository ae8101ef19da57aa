"""Business rules of treem-bot: plain Python, no Telegram, no SQL.

Everything here can be unit-tested and reused by any front end (the Telegram
handlers, the CLI, a future web dashboard).
"""
