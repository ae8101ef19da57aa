"""Use cases: each combines rules (domain/) with storage (storage/) in one unit of work.

No Telegram imports: the CLI, the bot and tests call the same functions.
"""
