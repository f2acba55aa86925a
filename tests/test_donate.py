"""GET/POST /donate/{ch} over HTTP against the real server, on both backends.

The browser flow (Chromium, a phone-sized screen) is in tests/browser/test_donate_page.py.
"""
from __future__ import annotations

import re
import time
from typing import Any

import aiohttp
import pytest

from overlay.config import ChannelSettings
from overlay.intake.donate.guard import check_token, issue_token
from overlay.http.ratelimit import RateLimiter
from tests.support import channel_dict

PAGE = "/donate/demo"
HTML = {"Accept": "text/html"}


async def get(server: Any, path: str = PAGE, **kw: Any) -> tuple[int, str, Any]:
    async with server.http.get(server.url + path, headers=HTML, **kw) as r:
        return r.status, await r.text(), r.headers


async def token(server: Any) -> str:
    status, html, _ = await get(server)
    assert status == 200
    found = re.search(r'name="form_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


async def submit(server: Any, path: str = PAGE, headers_extra: dict[str, str] | None = None,
                 **fields: Any) -> tuple[int, str, Any]:
    if "form_token" not in fields:
        fields["form_token"] = await token(server)
    async with server.http.post(server.url + path, data={k: v for k, v in fields.items() if v is not None},
                                headers={**HTML, **(headers_extra or {})}, allow_redirects=False) as r:
        return r.status, await r.text(), r.headers


async def donations(server: Any) -> list[dict[str, Any]]:
    _, body = await server.request("GET", "/api/v1/channels/demo/donations")
    return body["donations"]


async def test_page_in_the_channel_language_with_goal_match_presets_and_limits(server: Any) -> None:
    status, html, headers = await get(server)
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "script-src 'self'" in headers["Content-Security-Policy"] and headers["Cache-Control"] == "no-store"
    assert '<html lang="fr">' in html and "Les Restos du Cœur" in html
    assert "0,00\u00a0€ sur 10\u202f000,00\u00a0€" in html
    assert "Votre don est doublé par TikTok !" in html
    assert [v for v in re.findall(r'name="amount" value="([^"]+)"', html)] == ["5.00", "10.00", "20.00", "50.00", "custom"]
    assert 'maxlength="255"' in html and 'name="website"' in html
    assert "<script>" not in html and "onclick" not in html

    _, en, _ = await get(server, PAGE + "?lang=en")
    assert '<html lang="en">' in en and "TikTok doubles your gift!" in en and "€0.00 of €10,000.00" in en
    await server.donate(amount="100.00")
    _, html, _ = await get(server)
    assert "200,00\u00a0€ sur 10\u202f000,00\u00a0€" in html and "2\u00a0%" in html and "1 don" in html


async def test_english_channel_and_no_match(make_server: Any, backend: str) -> None:
    server = await make_server(backend, locale="en_GB", match=None, donate_page={"presets": ["2.5", "15"]})
    _, html, _ = await get(server)
    assert '<html lang="en">' in html and "doubles" not in html
    assert re.findall(r'name="amount" value="([^"]+)"', html) == ["2.50", "15.00", "custom"]
    assert ">€2.50<" in html and ">€15<" in html


async def test_pledge_is_recorded_pending_then_thanked_as_counted_once_confirmed(server: Any) -> None:
    dashboard = await server.listen("/dashboard")
    await dashboard.wait_for("state")
    status, _, headers = await submit(server, amount="20.00", donor_name="Léa", message="Allez les Restos !")
    assert status == 303
    location = headers["Location"]
    assert location.startswith("/donate/demo/thanks?d=d_") and location.endswith("&lang=fr")
    ev = await dashboard.wait_for("donation", timeout=15)
    d = ev["donation"]
    assert (d["source"], d["status"], d["amount"], d["matched"], d["donor_name"], d["message"]) == \
        ("pledge", "pending", "20.00", "0.00", "Léa", "Allez les Restos !")
    assert d["external_id"].startswith("form-")
    status, html, _ = await get(server, location)
    assert status == 200 and "Merci !" in html
    assert ("Votre promesse de don de 20,00\u00a0€ est bien enregistrée. Elle comptera dans le total "
            "dès qu&#39;un modérateur l&#39;aura confirmée.") in html
    assert "TikTok ajoute" not in html and "0,00\u00a0€ sur 10\u202f000,00\u00a0€" in html
    _, en, _ = await get(server, location.replace("lang=fr", "lang=en"))
    assert "Your pledge of €20.00 is recorded. It will count in the total once a moderator confirms it." in en

    status, _ = await server.post(f"/api/v1/channels/demo/donations/{d['id']}/confirm")
    assert status == 200
    _, html, _ = await get(server, location)
    assert "Votre don de 20,00\u00a0€ est bien enregistré." in html
    assert "TikTok ajoute 20,00\u00a0€ : 40,00\u00a0€ pour la cause !" in html


async def test_same_form_posted_twice_is_one_pledge(server: Any) -> None:
    form_token = await token(server)
    first = await submit(server, form_token=form_token, amount="10.00")
    second = await submit(server, form_token=form_token, amount="10.00")
    assert first[0] == second[0] == 303 and first[2]["Location"] == second[2]["Location"]
    assert len(await donations(server)) == 1


async def test_custom_amount_as_people_type_it_and_anonymous(server: Any) -> None:
    status, _, _ = await submit(server, amount="custom", custom_amount=" 12,50 € ", donor_name="Hidden", anonymous="1")
    assert status == 303
    [d] = await donations(server)
    assert (d["amount"], d["donor_name"]) == ("12.50", None)


@pytest.mark.parametrize(("fields", "error"), [
    ({"amount": "custom", "custom_amount": "abc"}, "Choisissez ou saisissez un montant valide"),
    ({"amount": "custom", "custom_amount": ""}, "Choisissez ou saisissez un montant valide"),
    ({"amount": "custom", "custom_amount": "1,234"}, "Choisissez ou saisissez un montant valide"),
    ({"amount": "-5"}, "Choisissez ou saisissez un montant valide"),
    ({"amount": "0"}, "Choisissez ou saisissez un montant valide"),
    ({"amount": "5.00", "message": "x" * 256}, "Le message ne doit pas dépasser 255 caractères."),
    ({"amount": "5.00", "donor_name": "n" * 65}, "Le nom ne doit pas dépasser 64 caractères."),
])
async def test_invalid_input_shows_the_form_again_and_stores_nothing(server: Any, fields: dict[str, str],
                                                                      error: str) -> None:
    status, html, _ = await submit(server, **fields)
    assert status == 422 and error in html and "Vérifiez le formulaire." in html
    assert 'name="form_token"' in html
    assert await donations(server) == []


async def test_form_keeps_what_was_typed_escaped(server: Any) -> None:
    status, html, _ = await submit(server, amount="custom", custom_amount="x", donor_name='<b>"Sam"</b>',
                                   message="<script>alert(1)</script>")
    assert status == 422
    assert "&lt;b&gt;&#34;Sam&#34;&lt;/b&gt;" in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert" not in html


async def test_line_breaks_count_once_as_in_the_browser(make_server: Any, backend: str) -> None:
    server = await make_server(backend, moderation={"max_message_length": 10})
    status, _, _ = await submit(server, amount="5.00", message="abcd\r\nefgh\r\n")
    assert status == 303


async def test_max_amount(make_server: Any, backend: str) -> None:
    server = await make_server(backend, donate_page={"max_amount": "500"})
    status, html, _ = await submit(server, amount="custom", custom_amount="999999")
    assert status == 422 and "Le montant maximum est 500\u00a0€." in html
    assert (await submit(server, amount="custom", custom_amount="500"))[0] == 303


async def test_max_amount_applies_when_the_config_sets_none(server: Any) -> None:
    """The pledge of 999,999,999.99 that once showed the goal bar at 100,000,000 %."""
    for typed in ("999999999.99", "999 999 999,99", "1000.01"):
        status, html, _ = await submit(server, amount="custom", custom_amount=typed)
        assert status == 422 and "Le montant maximum est 1\u202f000\u00a0€." in html, typed
    assert (await submit(server, amount="custom", custom_amount="1000"))[0] == 303
    [d] = await donations(server)
    assert (d["amount"], d["status"]) == ("1000.00", "pending")


async def test_a_token_only_works_from_the_address_it_was_given_to(server: Any) -> None:
    """A form token fetched once must not be replayable from another machine."""
    fetched_here = await token(server)
    elsewhere = aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=("127.0.0.2", 0)))
    try:
        async with elsewhere.post(server.url + PAGE, data={"form_token": fetched_here, "amount": "5.00"},
                                  headers=HTML, allow_redirects=False) as r:
            assert r.status == 403 and "Ce formulaire a expiré ou votre connexion a changé." in await r.text()
        assert await donations(server) == []
        async with elsewhere.get(server.url + PAGE, headers=HTML) as r:  # its own token works there
            found = re.search(r'name="form_token" value="([^"]+)"', await r.text())
        assert found
        async with elsewhere.post(server.url + PAGE, data={"form_token": found.group(1), "amount": "5.00"},
                                  headers=HTML, allow_redirects=False) as r:
            assert r.status == 303
    finally:
        await elsewhere.close()
    assert (await submit(server, form_token=fetched_here, amount="10.00"))[0] == 303
    assert sorted(d["amount"] for d in await donations(server)) == ["10.00", "5.00"]


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "http://127.0.0.1.evil.example"])
async def test_a_form_posted_from_another_origin_is_refused(server: Any, origin: str) -> None:
    status, html, headers = await submit(server, amount="5.00", headers_extra={"Origin": origin})
    assert status == 403 and headers["Content-Type"].startswith("text/html")
    assert "Formulaire refusé" in html and "envoyé depuis un autre site" in html
    assert await donations(server) == []


async def test_a_form_posted_from_this_server_or_its_public_url_is_accepted(server: Any) -> None:
    _, _, page_headers = await get(server)
    # A browser only names the page's origin on a form post when the referrer policy lets it.
    assert page_headers["Referrer-Policy"] == "same-origin"
    public = server.config.server.public_url  # http://127.0.0.1:8080: the address behind a proxy
    for origin in (server.url, public):
        status, _, _ = await submit(server, amount="5.00", headers_extra={"Origin": origin})
        assert status == 303, origin
    assert len(await donations(server)) == 2


async def test_forged_expired_or_foreign_tokens_are_refused(make_server: Any, backend: str) -> None:
    server = await make_server(backend, donate_page={"rate_limit_per_minute": 20})
    cfg = server.config.channels[0]
    other = cfg.model_copy(update={"id": "other"})
    issued = issue_token(cfg, "127.0.0.1")
    forged = issued.rsplit(".", 1)[0] + ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    non_ascii = issued.rsplit(".", 1)[0] + ".é\u0665"
    for bad in ["", "nonsense", forged, non_ascii, issue_token(cfg, "127.0.0.1", now=time.time() - 3 * 3600),
                issue_token(other, "127.0.0.1"), issue_token(cfg, "127.0.0.2")]:
        status, html, _ = await submit(server, form_token=bad, amount="5.00", donor_name="Kept")
        assert status == 403 and "Ce formulaire a expiré ou votre connexion a changé." in html
        assert 'value="Kept"' in html
    assert await donations(server) == []


async def test_a_token_from_one_worker_is_good_on_another(make_server: Any, tmp_path: Any) -> None:
    a = await make_server("embedded", data_dir=tmp_path / "a")
    b = await make_server("embedded", data_dir=tmp_path / "b")
    status, _, _ = await submit(b, form_token=await token(a), amount="5.00")
    assert status == 303 and len(await donations(b)) == 1


async def test_honeypot_pretends_success_and_stores_nothing(server: Any) -> None:
    status, _, headers = await submit(server, amount="50.00", website="http://spam.example")
    assert status == 303 and headers["Location"] == "/donate/demo/thanks?lang=fr"
    status, html, _ = await get(server, headers["Location"])
    assert status == 200 and "Votre promesse de don est bien enregistrée." in html
    assert await donations(server) == []


async def test_rate_limit_per_address(make_server: Any, backend: str) -> None:
    server = await make_server(backend, donate_page={"rate_limit_per_minute": 2})
    assert (await submit(server, amount="5.00"))[0] == 303
    assert (await submit(server, amount="custom", custom_amount="bad"))[0] == 422  # attempts count too
    status, html, headers = await submit(server, amount="5.00")
    assert status == 429 and "Doucement !" in html and 1 <= int(headers["Retry-After"]) <= 60
    assert len(await donations(server)) == 1


def test_rate_limiter_window_slides() -> None:
    limiter = RateLimiter()
    key = ("demo", "198.51.100.7")
    assert limiter.hit(key, 2, now=0) is None and limiter.hit(key, 2, now=10) is None
    assert limiter.hit(key, 2, now=30) == 30
    assert limiter.hit(("demo", "203.0.113.9"), 2, now=30) is None
    assert limiter.hit(key, 2, now=60.5) is None


def test_token_is_bound_to_its_channel_address_and_time() -> None:
    cfg = ChannelSettings.model_validate(channel_dict())
    t = issue_token(cfg, "198.51.100.7", now=1000)
    assert check_token(cfg, t, "198.51.100.7", now=1000 + 60) == t.split(".")[1]
    assert check_token(cfg, t, "198.51.100.8", now=1000 + 60) is None
    assert check_token(cfg, t, "198.51.100.7", now=1000 + 3 * 3600) is None
    rotated = cfg.model_copy(update={"moderator_tokens": ["a-new-moderator-token"]})
    assert check_token(rotated, t, "198.51.100.7", now=1001) is None


async def test_held_pledge_and_moderation_as_for_the_api(make_server: Any, backend: str) -> None:
    server = await make_server(backend, moderation={"hold": "messages", "banned_words": ["darn"],
                                                    "name_min_amount": "10.00"})
    status, _, headers = await submit(server, amount="5.00", donor_name="Small", message="darn www.spam.com ok")
    assert status == 303
    [d] = await donations(server)
    via_api = await server.donate(amount="5.00", donor_name="Small", message="darn www.spam.com ok")
    for field in ("donor_name", "message", "flagged"):
        assert d[field] == via_api[field], field
    assert (d["status"], d["donor_name"], d["message"]) == ("pending", None, "**** ok")
    status, confirmed = await server.post(f"/api/v1/channels/demo/donations/{d['id']}/confirm")
    assert (status, confirmed["status"]) == (200, via_api["status"]) == (200, "held")
    _, html, _ = await get(server, headers["Location"])
    assert "Votre message s&#39;affichera après validation par la modération." in html


async def test_mode_off_sends_visitors_to_donate_url(make_server: Any, backend: str) -> None:
    server = await make_server(backend, donate_page={"mode": "off"},
                               campaign={"title": "T", "goal": "100", "donate_url": "https://pay.example/restos"})
    status, _, headers = await get(server, allow_redirects=False)
    assert status == 302 and headers["Location"] == "https://pay.example/restos"
    status, html, _ = await submit(server, form_token="x", amount="5.00")
    assert status == 404 and "Dons fermés" in html
    assert await donations(server) == []


async def test_mode_off_without_url_and_unknown_channel(make_server: Any, backend: str) -> None:
    server = await make_server(backend, donate_page={"mode": "off"})
    status, html, _ = await get(server, allow_redirects=False)
    assert status == 404 and "Les dons ne se font pas sur cette page." in html
    status, html, headers = await get(server, "/donate/nope")
    assert status == 404 and "Page not found" in html and headers["Content-Type"].startswith("text/html")
    assert "Page introuvable" in (await get(server, "/donate/nope?lang=fr"))[1]


async def test_thanks_page_shows_only_pledges_and_pay_link(make_server: Any, backend: str) -> None:
    server = await make_server(backend, campaign={"title": "T", "goal": "100",
                                                  "donate_url": "https://pay.example/restos"})
    api = await server.donate(amount="99.00", donor_name="Someone")
    status, html, _ = await get(server, f"/donate/demo/thanks?d={api['id']}")
    assert status == 200 and "99" not in html.split("<section class=\"goal\"")[0]
    _, form, _ = await get(server)
    assert "Le paiement se fait ensuite sur pay.example." in form
    _, _, headers = await submit(server, amount="5.00")
    _, html, _ = await get(server, headers["Location"])
    assert 'href="https://pay.example/restos"' in html and "Finaliser le paiement" in html
