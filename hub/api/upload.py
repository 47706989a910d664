"""Read a multipart push (``manifest`` JSON field + ``file``) with a hard cap on the bytes received."""

from __future__ import annotations

from typing import IO

from pydantic import ValidationError
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.types import Message

from hub.errors import InvalidInput, PayloadTooLarge
from protocols.router_update import RouterUpdateManifest

MULTIPART_OVERHEAD = 256 * 1024


def _capped(request: Request, limit: int) -> Request:
    """A view of ``request`` whose body stops with 413 once more than ``limit`` bytes arrived."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"request body of {declared} bytes is over the limit of {limit}", field="file")
    seen = 0

    async def receive() -> Message:
        nonlocal seen
        message = await request.receive()
        seen += len(message.get("body", b""))
        if seen > limit:
            raise PayloadTooLarge(f"request body is over the limit of {limit} bytes", field="file")
        return message

    return Request(request.scope, receive)


async def read_push(request: Request, max_push_bytes: int) -> tuple[RouterUpdateManifest, IO[bytes], object]:
    """(manifest, spooled file, form); the caller closes the form. Nothing is stored by this step."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise InvalidInput("a push is multipart/form-data with a 'manifest' field and a 'file' part",
                           field="content-type", code="bad_content_type")
    form = await _capped(request, max_push_bytes + MULTIPART_OVERHEAD).form(
        max_files=1, max_fields=1, max_part_size=MULTIPART_OVERHEAD)
    try:
        raw, upload = form.get("manifest"), form.get("file")
        if not isinstance(raw, str):
            raise InvalidInput("the push has no 'manifest' field", field="manifest", code="missing_field")
        if not isinstance(upload, UploadFile):
            raise InvalidInput("the push has no 'file' part", field="file", code="missing_field")
        try:
            manifest = RouterUpdateManifest.model_validate_json(raw)
        except ValidationError as err:
            e = err.errors()[0]
            loc = ".".join(str(p) for p in e["loc"]) or "manifest"
            raise InvalidInput(f"push manifest field {loc}: {e['msg']}", field=loc) from None
    except BaseException:
        await form.close()
        raise
    return manifest, upload.file, form
