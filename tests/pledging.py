"""Pledging as a visitor does: fetch the donate form, post it, follow the thank-you redirect."""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

HTML = {"Accept": "text/html"}


async def form_token(server: Any, http: Any = None) -> str:
    async with (http or server.http).get(server.url + "/donate/demo", headers=HTML) as r:
        assert r.status == 200
        found = re.search(r'name="form_token" value="([^"]+)"', await r.text())
    assert found
    return found.group(1)


async def pledge(server: Any, amount: str, donor_name: str | None = None, message: str | None = None,
                 token: str | None = None) -> str:
    """Pledge on the donate page; the id of the pledge it recorded."""
    fields = {"form_token": token or await form_token(server), "amount": "custom", "custom_amount": amount,
              "donor_name": donor_name, "message": message}
    async with server.http.post(server.url + "/donate/demo", data={k: v for k, v in fields.items() if v is not None},
                                headers=HTML, allow_redirects=False) as r:
        assert r.status == 303, (r.status, await r.text())
        location = r.headers["Location"]
    return parse_qs(urlsplit(location).query)["d"][0]
