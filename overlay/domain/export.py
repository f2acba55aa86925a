"""Donations as spreadsheet rows (API.md §7 donations.csv), and which ones a range selects.

Pure: the web layer pages through the store and writes what these return.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from babel import numbers

COLUMNS = ("created_at", "id", "source", "external_id", "status", "test", "donor_name", "amount", "currency",
           "original_amount", "original_currency", "matched", "message", "incentive",
           "display_name", "show_amount", "alias")
STATUSES = ("approved", "held", "rejected", "pending", "refunded")
# Donor text that a spreadsheet would run as a formula (=HYPERLINK(...), +cmd|...): OWASP's
# "CSV injection". A spreadsheet may start a cell at the text's start and after any character
# some spreadsheet splits on, whatever our quotes say: a French one splits on ";", an import
# dialog on tabs, a careless reader on line breaks. A formula character at any such start,
# behind spaces or quotes, gets an apostrophe there, which spreadsheets show as text.
_FORMULA_START = re.compile(r"(?:^|(?<=[,;\t\r\n]))(?=[ \"]*[=+\-@])|^(?=[\t\r\n])")
_DONOR_TEXT = ("source", "external_id", "donor_name", "message", "incentive", "alias")
# RFC 4180 quotes commas, quotes and line breaks; ";" and tabs too, for readers that split on them.
_NEEDS_QUOTES = re.compile(r'[",;\t\r\n]')


_AMOUNTS = ("amount", "original_amount", "matched")


@dataclass(frozen=True)
class Dialect:
    """How a file is written: RFC 4180 for programs, or what a French Excel opens with a double click
    (it splits on ";", reads "12,50" as a number and needs a byte-order mark to see UTF-8)."""
    separator: str
    decimal: str
    bom: str


DIALECTS = {"rfc4180": Dialect(",", ".", ""), "excel-fr": Dialect(";", ",", "\ufeff")}
RFC4180 = DIALECTS["rfc4180"]


def spreadsheet_dialect(locale: str) -> str:
    """The dialect a spreadsheet set to this locale opens as it is: excel-fr where a decimal is written "12,50"."""
    return "excel-fr" if numbers.get_decimal_symbol(locale) == "," else "rfc4180"


def safe_cell(value: str) -> str:
    return _FORMULA_START.sub("'", value)


def incentive_cell(incentive: Any) -> str:
    """``hair``, or ``game:celeste`` for a poll option; empty without one."""
    if not isinstance(incentive, dict) or not incentive.get("id"):
        return ""
    option = incentive.get("option")
    return f"{incentive['id']}:{option}" if option else str(incentive["id"])


def row(donation: dict[str, Any], dialect: Dialect = RFC4180) -> list[str]:
    """One CSV row from a donation as moderators see it (``wire.donation(..., private=True)``)."""
    cells = {c: donation.get(c) for c in COLUMNS}
    cells["test"] = "true" if donation.get("test") else "false"
    cells["display_name"] = donation.get("display_name") or "full"
    cells["show_amount"] = "false" if donation.get("show_amount") is False else "true"
    cells["incentive"] = incentive_cell(donation.get("incentive"))
    out = []
    for column in COLUMNS:
        value = "" if cells[column] is None else str(cells[column])
        if column in _AMOUNTS:
            value = value.replace(".", dialect.decimal)
        out.append(safe_cell(value) if column in _DONOR_TEXT else value)
    return out


def selected(rec: dict[str, Any], start_ms: int | None, end_ms: int | None, statuses: frozenset[str],
             test: bool | None = None) -> bool:
    """In [start, end) by creation time, with one of the statuses (all when empty), test donations
    only or real ones only when ``test`` says so."""
    created = rec["created_at"]
    return (start_ms is None or created >= start_ms) and (end_ms is None or created < end_ms) \
        and (not statuses or rec["status"] in statuses) and (test is None or bool(rec.get("test")) == test)


def csv_field(value: str) -> str:
    return '"' + value.replace('"', '""') + '"' if _NEEDS_QUOTES.search(value) else value


def csv_text(rows: Iterable[list[str]], dialect: Dialect = RFC4180) -> str:
    """RFC 4180: CRLF line ends, quotes doubled; see _NEEDS_QUOTES for which fields are quoted."""
    return "".join(dialect.separator.join(map(csv_field, r)) + "\r\n" for r in rows)
