"""donations.csv (API.md §7): columns, quoting, formula safety, range and status, paging."""
from __future__ import annotations

import csv
import io
from typing import Any

from overlay.domain import export
from tests.support import AUTH, OVERLAY_KEY

CSV = "/api/v1/channels/demo/donations.csv"
HEADER = ("created_at,id,source,external_id,status,test,donor_name,amount,currency,original_amount,"
          "original_currency,matched,message,incentive,display_name,show_amount,alias")


async def fetch(server: Any, query: str = "", headers: dict[str, str] | None = None) -> tuple[int, Any, str]:
    async with server.http.get(server.url + CSV + query, headers=AUTH if headers is None else headers) as r:
        return r.status, r.headers, await r.text()


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


async def test_csv_has_the_columns_and_quotes_what_needs_it(server: Any) -> None:
    tricky = await server.donate(amount="12.50", donor_name='Jean "JB", le grand',
                                 message="Ligne 1\nLigne 2, avec virgule\r\net \"guillemets\"")
    formula = await server.donate(amount="5.00", donor_name="=HYPERLINK(\"http://x\")", message="@SUM(A1:A9)",
                                  external_id="-42", currency="USD")
    test = await server.donate(amount="3.00", donor_name="Tess", test=True)
    status, headers, text = await fetch(server)
    assert status == 200 and headers["Content-Type"] == "text/csv; charset=utf-8"
    assert headers["Content-Disposition"].startswith('attachment; filename="demo-donations-')
    assert text.split("\r\n", 1)[0] == HEADER
    got = {r["id"]: r for r in rows(text)}
    assert list(got) == [tricky["id"], formula["id"], test["id"]]  # oldest first
    assert got[tricky["id"]]["donor_name"] == 'Jean "JB", le grand'
    assert got[tricky["id"]]["message"] == tricky["message"]  # as stored (intake folds line breaks)
    assert got[tricky["id"]]["amount"] == "12.50" and got[tricky["id"]]["matched"] == "12.50"
    f = got[formula["id"]]
    assert (f["donor_name"], f["message"], f["external_id"]) == ("'=HYPERLINK(\"http://x\")", "'@SUM(A1:A9)", "'-42")
    assert (f["original_amount"], f["original_currency"], f["currency"]) == ("5.00", "USD", "EUR")
    assert got[test["id"]]["test"] == "true" and got[tricky["id"]]["test"] == "false"
    assert got[tricky["id"]]["incentive"] == "" and got[tricky["id"]]["status"] == "approved"


async def test_csv_filters_by_status_and_date(make_server: Any, backend: str) -> None:
    server = await make_server(backend, moderation={"hold": "messages"})
    held = await server.donate(amount="10.00", message="À relire")
    plain = await server.donate(amount="7.00")
    _, _, text = await fetch(server, "?status=held")
    assert [r["id"] for r in rows(text)] == [held["id"]]
    _, _, text = await fetch(server, "?status=approved,held")
    assert {r["id"] for r in rows(text)} == {held["id"], plain["id"]}
    day = plain["created_at"][:10]
    _, _, text = await fetch(server, f"?from={day}&to={day}")
    assert len(rows(text)) == 2
    _, _, text = await fetch(server, f"?to={day}T00:00:00Z")
    assert rows(text) == [] and text == HEADER + "\r\n"


async def test_csv_pages_through_a_long_campaign(make_server: Any, backend: str, monkeypatch: Any) -> None:
    from overlay.service import records
    monkeypatch.setattr(records, "PAGE", 3)  # several pages with a handful of donations
    server = await make_server(backend)
    made = [(await server.donate(amount=f"{i}.00", donor_name=f"D{i}"))["id"] for i in range(1, 9)]
    _, _, text = await fetch(server)
    assert [r["id"] for r in rows(text)] == made


async def test_csv_is_for_moderators_and_refuses_bad_parameters(server: Any) -> None:
    for headers in ({}, {"Authorization": f"Bearer {OVERLAY_KEY}"}):
        status, _, _ = await fetch(server, headers=headers)
        assert status == 401
    for query, code in (("?status=paid", "invalid_status"), ("?from=yesterday", "invalid_from"),
                        ("?from=2026-12-02&to=2026-12-01", "invalid_to"), ("?to=2026-13-01", "invalid_to")):
        status, _, text = await fetch(server, query)
        assert status == 400 and f'"code": "{code}"' in text, (query, text)


def test_multi_line_text_is_quoted_per_rfc_4180() -> None:
    donation = {c: None for c in export.COLUMNS} | {"donor_name": "A, B", "message": "un\r\ndeux \"trois\"",
                                                    "test": False}
    text = export.csv_text([export.row(donation)])
    assert text == ',,,,,false,"A, B",,,,,,"un\r\ndeux ""trois""",,full,true,\r\n'
    assert next(csv.reader(io.StringIO(text, newline="")))[12] == "un\r\ndeux \"trois\""


def test_formula_cells_and_incentives() -> None:
    assert export.safe_cell("=1+1") == "'=1+1" and export.safe_cell("Zoé") == "Zoé"
    assert export.incentive_cell({"id": "game", "option": "celeste"}) == "game:celeste"
    assert export.incentive_cell({"id": "hair"}) == "hair" and export.incentive_cell(None) == ""


def excel_fr_rows(body: bytes) -> list[dict[str, str]]:
    """Read as a French Excel does: a byte-order mark says UTF-8, ';' separates, ',' is the decimal point."""
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(body[3:].decode("utf-8"), newline=""), delimiter=";"))


async def test_excel_fr_dialect_and_real_donations_only(server: Any) -> None:
    real = await server.donate(amount="1234.50", donor_name="Zoé; la grande", message="=1+1;ok")
    await server.donate(amount="3.00", donor_name="Tess", test=True)
    async with server.http.get(server.url + CSV + "?dialect=excel-fr&test=false", headers=AUTH) as r:
        assert r.status == 200
        body = await r.read()
    assert body[3:].decode().split("\r\n", 1)[0] == HEADER.replace(",", ";")
    (got,) = excel_fr_rows(body)  # the test donation is left out
    assert got["id"] == real["id"] and got["test"] == "false"
    assert (got["amount"], got["matched"], got["donor_name"]) == ("1234,50", "1234,50", "Zoé; la grande")
    assert got["message"] == "'=1+1;'ok" or got["message"].startswith("'=")  # formula safety kept
    _, _, text = await fetch(server, "?test=true")
    assert [r["donor_name"] for r in rows(text)] == ["Tess"]
    _, _, text = await fetch(server)  # the API's default: RFC 4180, every donation, no byte-order mark
    assert not text.startswith("\ufeff") and len(rows(text)) == 2 and rows(text)[0]["amount"] == "1234.50"
    for query, code in (("?dialect=excel", "invalid_dialect"), ("?test=maybe", "invalid_test")):
        status, _, text = await fetch(server, query)
        assert status == 400 and f'"code": "{code}"' in text, (query, text)


async def test_dashboard_export_button_asks_for_real_donations_in_the_channels_dialect(make_server: Any) -> None:
    from tests.test_dashboard_http import get_page, login, session_of
    for locale, dialect in (("fr_FR", "excel-fr"), ("en_GB", "rfc4180")):
        server = await make_server("embedded", locale=locale)
        _, headers, _ = await login(server)
        _, _, page = await get_page(server, session_of(headers))
        assert f'donations.csv?test=false&amp;dialect={dialect}"' in page, locale


def test_spreadsheet_dialect_follows_the_decimal_separator() -> None:
    assert [export.spreadsheet_dialect(loc) for loc in ("fr_FR", "de_DE", "en_US", "en_GB")] \
        == ["excel-fr", "excel-fr", "rfc4180", "rfc4180"]
