"""Commits of different channels ready at the same moment share one store transaction (one
SQLite fsync, one Redis round trip), and each channel's part stands or falls on its own."""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from overlay import metrics
from overlay.domain import donations
from overlay.domain.donations import DonationInput
from overlay.domain.state import ChannelState
from overlay.store.embedded import EmbeddedStore
from overlay.store.redis import RedisStore
from tests.support import AUTH, ServerProcess, channel_dict, free_port, make_config, until

NOW = 1_800_000_000_000
CHANNELS = [f"ch{i}" for i in range(5)]


def group_count(backend: str) -> tuple[float, float]:
    """(flushes, channel commits) the group commit has counted so far."""
    samples = {s.name: s.value for m in metrics.GROUP_COMMIT.collect() for s in m.samples
               if s.labels.get("group") == backend}
    return samples.get("overlay_store_group_commit_channels_count", 0), \
        samples.get("overlay_store_group_commit_channels_sum", 0)


async def test_a_conflicting_channel_does_not_fail_the_others_of_its_group(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    base_cfg = make_config(tmp_path).channels[0]
    cfgs = [base_cfg.model_copy(update={"id": c}) for c in CHANNELS]
    store = RedisStore(request.getfixturevalue("redis_url")) if backend == "redis" else EmbeddedStore(tmp_path)
    await store.open(cfgs)
    try:
        stale_cfg = cfgs[2]
        first = donations.accept_donation(stale_cfg, await store.load(stale_cfg),
                                          donations.new_record(stale_cfg, DonationInput(amount="1"), NOW), NOW)
        assert await store.commit(stale_cfg.id, first)
        changes = []
        for cfg in cfgs:  # ch2's change is computed on the state before `first`: a seq conflict
            state = (await store.load(cfg)) if cfg is not stale_cfg else ChannelState.initial(cfg)
            rec = donations.new_record(cfg, DonationInput(amount="5"), NOW)
            changes.append(donations.accept_donation(cfg, state, rec, NOW))
        flushes, commits = group_count(backend)
        outcomes = await asyncio.gather(*(store.commit_batch(cfg.id, [ch]) for cfg, ch in zip(cfgs, changes)))
        assert [ok for ok, _ in outcomes] == [True, True, False, True, True]
        assert outcomes[2][1] == first.state.seq  # the conflict reports the stored seq
        after_flushes, after_commits = group_count(backend)
        assert (after_flushes - flushes, after_commits - commits) == (1, len(cfgs))  # one transaction
        for cfg, ch in zip(cfgs, changes):
            stored = await store.get_donation(cfg.id, ch.donations[0]["id"])
            assert (stored is None) == (cfg is stale_cfg)
        assert (await store.get_donation(stale_cfg.id, first.donations[0]["id"])) is not None
    finally:
        await store.close()


async def test_a_channel_whose_part_fails_half_way_is_rolled_back_alone(tmp_path: Path) -> None:
    """Embedded: a part that fails after it began writing (here an idempotency key stored
    already, which the batch did not declare) is undone alone; the group's other channels commit."""
    base_cfg = make_config(tmp_path).channels[0]
    cfgs = [base_cfg.model_copy(update={"id": c}) for c in CHANNELS]
    store = EmbeddedStore(tmp_path)
    await store.open(cfgs)
    try:
        bad = cfgs[1]
        key = DonationInput(amount="1", source="tiltify", external_id="k-1")
        first = donations.accept_donation(bad, await store.load(bad), donations.new_record(bad, key, NOW), NOW)
        assert await store.commit(bad.id, first)
        changes = []
        for cfg in cfgs:
            inp = DonationInput(amount="5", source="tiltify", external_id="k-1") if cfg is bad else DonationInput(amount="5")
            state = await store.load(cfg)
            changes.append(donations.accept_donation(cfg, state, donations.new_record(cfg, inp, NOW), NOW))
        flushes, _ = group_count("embedded")
        outcomes = await asyncio.gather(*(store.commit_batch(cfg.id, [ch]) for cfg, ch in zip(cfgs, changes)),
                                        return_exceptions=True)
        assert group_count("embedded")[0] - flushes == 1  # one group
        assert isinstance(outcomes[1], Exception) and "UNIQUE" in str(outcomes[1])
        assert [o[0] for i, o in enumerate(outcomes) if i != 1] == [True] * (len(cfgs) - 1)
        for cfg, ch in zip(cfgs, changes):
            stored = await store.get_donation(cfg.id, ch.donations[0]["id"])
            assert (stored is None) == (cfg is bad)
        assert (await store.load(bad)).seq == first.state.seq  # nothing of its part stayed
        assert (await store.get_donation(bad.id, first.donations[0]["id"])) is not None
    finally:
        await store.close()


async def test_sigkill_mid_burst_across_channels_loses_no_acknowledged_donation(tmp_path: Path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump({
        "storage": {"redis_url": None, "data_dir": str(tmp_path / "data")},
        "channels": [channel_dict(id=c, overlay_key=f"overlay-key-{c}") for c in CHANNELS],
    }))
    port = free_port()
    srv = await ServerProcess(cfg, port).start()
    acknowledged: dict[str, list[str]] = {c: [] for c in CHANNELS}

    async def hammer(i: int) -> None:
        async with aiohttp.ClientSession() as http:
            for j in range(2000):
                channel = CHANNELS[(i + j) % len(CHANNELS)]
                try:
                    async with http.post(f"{srv.url}/api/v1/channels/{channel}/donations", headers=AUTH,
                                         json={"amount": "1", "external_id": f"{i}-{j}"}) as r:
                        if r.status == 201:
                            acknowledged[channel].append((await r.json())["id"])
                except aiohttp.ClientError:
                    return

    tasks = [asyncio.create_task(hammer(i)) for i in range(10)]
    await until(lambda: all(len(ids) > 10 for ids in acknowledged.values()), what="10 donations per channel")
    srv.proc.kill()  # type: ignore[union-attr]
    srv.proc.wait()  # type: ignore[union-attr]
    await asyncio.gather(*tasks)
    srv = await ServerProcess(cfg, port).start()
    try:
        for channel, ids in acknowledged.items():
            stored = await stored_ids(srv.url, channel)
            assert set(ids) <= stored, channel
    finally:
        srv.stop()


async def stored_ids(url: str, channel: str) -> set[str]:
    found: list[dict[str, Any]] = []
    async with aiohttp.ClientSession() as http:
        while True:
            after = found[-1]["seq"] if found else 0
            async with http.get(f"{url}/api/v1/channels/{channel}/donations?after_seq={after}&limit=500",
                                headers=AUTH) as r:
                page = (await r.json())["donations"]
            if not page:
                return {d["id"] for d in found}
            found += page


async def test_a_redis_that_lost_the_commit_script_still_commits_every_channel(
        tmp_path: Path, redis_url: str) -> None:
    base_cfg = make_config(tmp_path).channels[0]
    cfgs = [base_cfg.model_copy(update={"id": c}) for c in CHANNELS]
    store = RedisStore(redis_url)
    await store.open(cfgs)
    try:
        await store.redis.script_flush()  # a Redis restarted: scripts are not persisted
        changes = [donations.accept_donation(cfg, await store.load(cfg),
                                             donations.new_record(cfg, DonationInput(amount="5"), NOW), NOW)
                   for cfg in cfgs]
        outcomes = await asyncio.gather(*(store.commit_batch(cfg.id, [ch]) for cfg, ch in zip(cfgs, changes)))
        assert [ok for ok, _ in outcomes] == [True] * len(cfgs)
        for cfg, ch in zip(cfgs, changes):
            assert await store.get_donation(cfg.id, ch.donations[0]["id"]) is not None
    finally:
        await store.close()
