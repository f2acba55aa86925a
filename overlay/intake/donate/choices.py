"""The donate page's incentive choice: open incentives -> <select> entries, and back.

One value per entry: ``id`` for a target or a reward, ``id:option`` for a poll option.
"""
from __future__ import annotations

from typing import Any

from multidict import MultiDictProxy

from overlay.domain import incentives
from overlay.intake.donate.text import TEXTS

FIELD = "incentive"
CODES = incentives.REFUSALS


def groups(incentives: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """[{label, entries: [{value, label}]}] for the open incentives; a poll is a group of its options."""
    t, out = TEXTS[lang], []
    for i in incentives:
        if not i["open"] or (i["kind"] == "reward" and i["remaining"] == 0):
            continue
        if i["kind"] == "poll":
            entries = [{"value": f"{i['id']}:{o['id']}", "label": o["label"]} for o in i["options"]]
        elif i["kind"] == "reward":
            label = t["reward_from"].format(title=i["title"], amount=i["display"]["min_amount"])
            entries = [{"value": i["id"], "label": label}]
        else:
            entries = [{"value": i["id"], "label": i["title"]}]
        out.append({"label": i["title"] if i["kind"] == "poll" else t["kind_" + i["kind"]], "entries": entries})
    return out


def read(form: MultiDictProxy[Any]) -> dict[str, str] | None:
    value = form.get(FIELD)
    if not isinstance(value, str) or not value:
        return None
    incentive_id, _, option = value.partition(":")
    return {"id": incentive_id, "option": option} if option else {"id": incentive_id}
