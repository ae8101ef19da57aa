"""Validation problems (configuration, set-up files) in Vietnamese, with the English after a
slash for administrators who search for it. Pydantic's own checks are said in the catalog's
words; the project's own checks raise domain.errors.Problem with a msgid."""

from __future__ import annotations

from bot.i18n import N_, _, both
from domain.errors import Problem

PYDANTIC_MESSAGES = {
    "literal_error": N_("must be one of: {expected}"),
    "enum": N_("must be one of: {expected}"),
    "greater_than_equal": N_("must be at least {ge}"),
    "greater_than": N_("must be more than {gt}"),
    "less_than_equal": N_("must be at most {le}"),
    "less_than": N_("must be less than {lt}"),
    "int_parsing": N_("must be a whole number"),
    "int_from_float": N_("must be a whole number"),
    "int_type": N_("must be a whole number"),
    "float_parsing": N_("must be a number"),
    "bool_parsing": N_("must be true or false"),
    "string_type": N_("must be text (in quotes)"),
    "string_too_short": N_("must have at least {min_length} character(s)"),
    "string_too_long": N_("must have at most {max_length} characters"),
    "string_pattern_mismatch": N_("is not written in the expected form"),
    "missing": N_("is required"),
    "extra_forbidden": N_("is not a known setting here"),
    "tuple_type": N_("must be a list"),
    "model_type": N_("must be a table of settings"),
    "dict_type": N_("must be a table of settings"),
}


def _shown(value: object) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value).replace("' or '", "', '")


def problem_text(err: dict, *, special: dict[str, str] | None = None) -> str:
    """One pydantic error as "Vietnamese / English" (without its location).

    `special` gives a msgid per location for pattern checks that deserve an example.
    """
    where = ".".join(str(p) for p in err["loc"])
    ctx = err.get("ctx") or {}
    cause = ctx.get("error")
    if isinstance(cause, Problem):
        return both(cause.message, **cause.values)
    if err["type"] == "string_pattern_mismatch" and special and where in special:
        return both(special[where])
    message = PYDANTIC_MESSAGES.get(err["type"])
    if message is None:
        return _("is not valid") + " / " + err["msg"]
    values = {key: _shown(value) for key, value in ctx.items()}
    vietnamese = _(message).format(**values)
    return vietnamese + " / " + err["msg"]


def problem_lines(errors: list[dict], *, special: dict[str, str] | None = None) -> list[str]:
    """"location: Vietnamese / English", one line per error."""
    lines = []
    for err in errors:
        where = ".".join(str(p) for p in err["loc"])
        text = problem_text(err, special=special)
        lines.append(f"{where}: {text}" if where else text)
    return lines
