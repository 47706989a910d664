"""Crash leftovers: a server start drops dead uploads' temp parts; ``hub gc`` reports and removes orphan blobs."""

from __future__ import annotations

import json
import os
import time

from typer.testing import CliRunner

from hub.app import create_app
from hub.cli import app
from hub.context import build_context
from hub.services.publish import publish
from tests.hub.hubfake import make_model_dir

runner = CliRunner()
OLD = time.time() - 7200


def _file(path, data: bytes = b"x" * 10, mtime: float | None = OLD):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def _gc(settings, *args: str) -> dict:
    extra = ["--data-dir", str(settings.data_dir)] + (["--db", settings.db] if settings.db else [])
    result = runner.invoke(app, ["gc", *args, "--json", *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_server_start_removes_parts_of_dead_uploads_only(settings):
    # Prepare: parts left by a killed process (pid gone), by this pid's previous life, a live process, a new upload
    ctx = build_context(settings)
    ctx.factory.kw["bind"].dispose()
    dead = _file(ctx.store.tmp / "part-2147483000-abc")
    reused = _file(ctx.store.tmp / f"part-{os.getpid()}-def")
    unnamed = _file(ctx.store.tmp / "part-xyz")
    live = _file(ctx.store.tmp / f"part-{os.getppid()}-ghi")
    fresh = _file(ctx.store.tmp / "part-2147483000-new", mtime=time.time() + 60)
    # Execute
    served = create_app(settings)
    served.state.hub.factory.kw["bind"].dispose()
    # Assert
    assert not dead.exists() and not reused.exists() and not unnamed.exists()
    assert live.exists() and fresh.exists()


def test_no_empty_temp_folder_is_left_after_uploads_or_a_clean_start(settings, tmp_path):
    # Prepare: a dead upload's part, then a publish that writes blobs through temp parts
    ctx = build_context(settings)
    _file(ctx.store.tmp / "part-2147483000-abc")
    publish(factory=ctx.factory, store=ctx.store, signer=ctx.signer, model_dir=make_model_dir(tmp_path / "m"),
            version="1.0")
    ctx.factory.kw["bind"].dispose()
    assert ctx.store.tmp.is_dir()  # the dead part keeps the folder until a start cleans it
    # Execute
    served = create_app(settings)
    served.state.hub.factory.kw["bind"].dispose()
    # Assert
    assert not ctx.store.tmp.exists() and any(p.is_file() for p in ctx.store.root.iterdir())


def test_hub_gc_dry_run_then_removes_only_unreferenced_old_files(settings, tmp_path):
    # Prepare: a published version (its blobs are referenced), an old orphan, a fresh orphan, a stale part
    ctx = build_context(settings)
    publish(factory=ctx.factory, store=ctx.store, signer=ctx.signer, model_dir=make_model_dir(tmp_path / "m"),
            version="1.0")
    ctx.factory.kw["bind"].dispose()
    referenced = sorted(p.name for p in ctx.store.root.iterdir() if p.is_file())
    old_orphan = _file(ctx.store.root / ("a" * 64))
    new_orphan = _file(ctx.store.root / ("b" * 64), mtime=None)
    part = _file(ctx.store.tmp / "part-2147483000-abc")
    # Execute / Assert: a dry run only reports
    dry = _gc(settings, "--dry-run")
    assert dry == {"dry_run": True, "stale_parts": [part.name], "orphan_blobs": ["a" * 64], "missing_blobs": [],
                   "freed_bytes": 20}
    assert old_orphan.exists() and part.exists()
    # Execute / Assert: a real run removes exactly that, a second run finds nothing
    real = _gc(settings)
    again = _gc(settings)
    assert real == {**dry, "dry_run": False}
    assert not old_orphan.exists() and not part.exists() and new_orphan.exists()
    assert all((ctx.store.root / sha).is_file() for sha in referenced)
    assert again["orphan_blobs"] == [] and again["stale_parts"] == [] and again["freed_bytes"] == 0


def test_hub_gc_reports_blobs_missing_from_disk(settings, tmp_path):
    ctx = build_context(settings)
    publish(factory=ctx.factory, store=ctx.store, signer=ctx.signer, model_dir=make_model_dir(tmp_path / "m"),
            version="1.0")
    ctx.factory.kw["bind"].dispose()
    gone = sorted(p for p in ctx.store.root.iterdir() if p.is_file())[0]
    gone.unlink()
    assert _gc(settings, "--dry-run")["missing_blobs"] == [gone.name]
    extra = ["--data-dir", str(settings.data_dir)] + (["--db", settings.db] if settings.db else [])
    human = runner.invoke(app, ["gc", "--dry-run", *extra])
    assert human.exit_code == 0 and "would remove 0 stale temp part(s)" in human.output and gone.name in human.output
