"""GraphiQL served by the app itself, from packages installed at build time (`make graphiql`),
so the explorer works without internet. Without them the view falls back to strawberry's page,
which loads GraphiQL from a CDN."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

HERE = Path(__file__).parent / "graphiql"
MODULES = HERE / "node_modules"
ASSETS = {
    "react.js": MODULES / "react/umd/react.production.min.js",
    "react-dom.js": MODULES / "react-dom/umd/react-dom.production.min.js",
    "graphql-ws.js": MODULES / "graphql-ws/umd/graphql-ws.min.js",
    "graphiql.js": MODULES / "graphiql/dist/index.umd.js",
    "graphiql.css": MODULES / "graphiql/dist/style.css",
    "explorer.js": HERE / "explorer.js",
}
MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css"}


def assets_installed() -> bool:
    return all(path.is_file() for path in ASSETS.values())


def page() -> str:
    return (HERE / "index.html").read_text()


async def asset(request: Request) -> Response:
    name = request.path_params["name"]
    path = ASSETS.get(name)
    if path is None or not path.is_file():
        return Response("Not Found", status_code=404)
    return FileResponse(
        path, media_type=MEDIA_TYPES[path.suffix], headers={"Cache-Control": "public, max-age=86400"}
    )


def explorer_routes() -> list[Route]:
    return [Route("/graphiql/assets/{name}", asset)]
