"""`ephemera serve` runs uvicorn on uvloop and httptools (C event loop and HTTP parser) when they
are installed, as they are with uvicorn's `standard` extra."""

from __future__ import annotations

import asyncio
import os
import signal
import socket

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from server.runner import serve, server_config
from settings import Settings


def test_served_requests_run_on_uvloop() -> None:
    async def loop_name(request: Request) -> PlainTextResponse:
        return PlainTextResponse(type(asyncio.get_running_loop()).__module__)

    app = Starlette(routes=[Route("/", loop_name)])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    answers: list[str] = []

    async def probe() -> None:
        try:
            async with httpx.AsyncClient() as client:
                answers.append((await client.get(f"http://127.0.0.1:{port}/")).text)
        finally:
            os.kill(os.getpid(), signal.SIGTERM)  # uvicorn drains and returns

    tasks: list[asyncio.Task[None]] = []
    settings = Settings(host="127.0.0.1", port=port)
    serve(app, settings, sock, lambda: tasks.append(asyncio.create_task(probe())))
    assert answers == ["uvloop"]


def test_http_is_parsed_by_httptools() -> None:
    config = server_config(Starlette(), Settings())
    config.load()
    assert config.http_protocol_class is HttpToolsProtocol
