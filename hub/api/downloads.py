"""Stream a stored blob with HTTP Range support (Starlette's FileResponse: chunked, constant memory)."""

from __future__ import annotations

from starlette.responses import FileResponse

from hub.api.deps import HubContext
from hub.errors import NotFound


class BlobResponse(FileResponse):
    """1 MiB chunks; few ranges per request so a many-range header cannot amplify work."""

    chunk_size = 1024 * 1024
    max_ranges = 8


def blob_response(ctx: HubContext, sha256: str, filename: str | None = None) -> FileResponse:
    path = ctx.store.path(sha256)
    if not path.is_file():
        raise NotFound(f"no stored file has sha256 {sha256}", field="sha256")
    return BlobResponse(path, media_type="application/octet-stream", filename=filename,
                        headers={"ETag": f'"{sha256}"', "X-Content-SHA256": sha256})
