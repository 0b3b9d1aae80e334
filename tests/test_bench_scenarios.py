"""The floors of bench/hot.py answer what the server answers: on a small generated world (the
bench's own generator), every hot document's page from the app equals its floor's one-statement
page, request by request. A floor that drifts from the server would make its ratio a lie."""

from __future__ import annotations

import argparse
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url

import bench.common
from bench.common import bench_url, dsn
from bench.generate import generate
from bench.hot import check, poster
from bench.scenarios import SCENARIOS, draw_cases
from tests.harness import in_process, test_settings
from tests.services import postgres_admin_url, unavailable


@pytest.fixture
async def world(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    """A bench world of 80 users and 400 posts in a database of its own; its name."""
    admin = postgres_admin_url()
    if admin is None:
        unavailable("PostgreSQL tests disabled: TEST_DATABASE_URL=skip")
    assert admin is not None
    url = make_url(admin).set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    monkeypatch.setattr(bench.common, "ADMIN_URL", url)
    name = f"ephemera_test_bench_{uuid.uuid4().hex[:8]}"
    args = argparse.Namespace(users=80, posts=400, following=15, threshold=30, days=5, likes=5)
    args.conversations, args.database, args.seed = 15, name, 3
    await generate(args)
    try:
        yield name
    finally:
        admin_conn = await asyncpg.connect(dsn(bench.common.ADMIN_URL))
        await admin_conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin_conn.close()


async def test_every_floor_answers_what_the_server_answers(world: str, tmp_path: Path) -> None:
    settings = test_settings(bench_url(world), None, tmp_path, fanout_threshold=30, max_query_cost=100_000)
    conn = await asyncpg.connect(dsn(bench_url(world)))
    try:
        async with in_process(settings) as api:
            for name in SCENARIOS:
                cases = await draw_cases(conn, name, 6, seed=1)
                assert await check(name, cases, conn, poster(api.http)) == len(cases) > 0
    finally:
        await conn.close()


async def test_a_page_that_differs_from_its_floor_fails_the_check(world: str, tmp_path: Path) -> None:
    settings = test_settings(bench_url(world), None, tmp_path, fanout_threshold=30)
    conn = await asyncpg.connect(dsn(bench_url(world)))
    try:
        cases = await draw_cases(conn, "profile", 3, seed=1)
        async with in_process(settings) as api:
            post = poster(api.http)

            async def one_post_short(body: dict[str, Any], token: str) -> Any:
                answer = await post(body, token)
                answer["data"]["user"]["posts"]["edges"].pop()
                return answer

            with pytest.raises(AssertionError, match="profile"):
                await check("profile", cases, conn, one_post_short)
    finally:
        await conn.close()
