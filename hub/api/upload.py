"""Read a multipart push (``manifest`` JSON field + ``file``) with a hard cap on the bytes received."""

from __future__ import annotations

from typing import IO

from pydantic import ValidationError
from python_multipart.exceptions import FormParserError
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.types import Message

from hub.api.problems import field_path
from hub.errors import HubError, InvalidInput, PayloadTooLarge
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
    try:
        form = await _capped(request, max_push_bytes + MULTIPART_OVERHEAD).form(
            max_files=1, max_fields=1, max_part_size=MULTIPART_OVERHEAD)
    except FormParserError as err:  # python-multipart's own errors are not turned into 400s by Starlette
        raise HubError(f"the multipart body is malformed ({str(err)[:120]}); part headers and file names "
                       f"must be short and well-formed", field="body", code="bad_multipart") from None
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
            loc = field_path(e["loc"]) or "manifest"
            msg = str(e["msg"]).removeprefix("Value error, ")
            raise InvalidInput(f"push manifest field {loc}: {msg}", field=loc) from None
    except BaseException:
        await form.close()
        raise
    return manifest, upload.file, form
