"""The hub app plus one constant-JSON route, the baseline a recommendation is compared with on the same stack."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI
from starlette.responses import Response

from hub.app import create_app
from hub.settings import HubSettings

CONSTANT_PATH = "/bench/constant"
_BODY = b'{"status":"ok","routers":[]}'


def create_bench_app(data_dir: Path) -> FastAPI:
    """``create_app`` for ``data_dir`` (same middleware, same uvicorn) with ``GET /bench/constant`` added."""
    app = create_app(HubSettings(data_dir=data_dir))

    async def constant() -> Response:
        return Response(_BODY, media_type="application/json")

    app.add_api_route(CONSTANT_PATH, constant, methods=["GET"], include_in_schema=False)
    return app


def from_env() -> FastAPI:
    """Factory for ``uvicorn --factory bench_app:from_env`` (data directory in ``MOME_HUB_DATA_DIR``)."""
    return create_bench_app(Path(os.environ["MOME_HUB_DATA_DIR"]))
