"""The donate form's "shown on stream as" choice: which name, and whether the amount."""
from __future__ import annotations

from typing import Any

from overlay.domain import display
from overlay.domain.moderation import MAX_NAME_LENGTH


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def show_amount(form: Any) -> bool:
    """The checkbox sends "1" after a hidden "0": absent altogether (an older form), shown."""
    sent = form.getall("show_amount", []) if hasattr(form, "getall") else []
    return not sent or "1" in sent


def read(form: Any, t: dict[str, str], errors: dict[str, str]) -> tuple[str, str | None]:
    """-> (display_name, alias) from the form; a wrong alias adds to ``errors``. The older
    "anonymous" checkbox still means anonymous."""
    choice = _text(form, "display_name") or ("anonymous" if form.get("anonymous") else "full")
    if choice not in display.CHOICES:
        choice = "full"
    if choice != "alias":
        return choice, None
    alias = _text(form, "alias").strip()
    if not alias:
        errors["alias"] = t["err_alias"]
    elif len(alias) > MAX_NAME_LENGTH:
        errors["alias"] = t["err_name"].format(n=MAX_NAME_LENGTH)
    return choice, alias or None


def template_values(form: Any) -> dict[str, Any]:
    return {"shown_as": _text(form, "display_name") or ("anonymous" if form.get("anonymous") else "full"),
            "alias": _text(form, "alias"), "show_amount": show_amount(form) if form else True}
