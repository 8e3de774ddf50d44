"""The API's own housekeeping: abandoned upload files on the API host.

Resumable uploads are written under the API's `data_dir` (with local storage; with shared
storage their parts are objects any host can remove, and are removed here too). The worker's
sweep removes abandoned upload rows, but when the API runs on another host (docker-compose,
several API containers) it cannot reach the API's `.part` files. So each API process also runs
`remove_abandoned` on its own data folder, a minute after starting and then every
HOUSEKEEPING_INTERVAL. Removal is conditional on the row's age, so two processes or the sweep
doing it at once is harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from models.settings import get_settings
from models.storage import shared_storage
from models.upload import AbandonedReport, remove_abandoned

log = logging.getLogger(__name__)

FIRST_DELAY_SECONDS = 60.0
HOUSEKEEPING_INTERVAL = 3600.0


def tidy_uploads() -> AbandonedReport:
    settings = get_settings()
    return remove_abandoned(
        settings.database_url,
        settings.data_dir,
        timedelta(hours=settings.upload_abandon_hours),
        storage=shared_storage(settings.storage_url),
    )


async def housekeeping_loop(first_delay: float, interval: float) -> None:
    """Tidy now and then for as long as the app runs; a failed round is logged, not fatal."""
    await asyncio.sleep(first_delay)
    while True:
        try:
            await run_in_threadpool(tidy_uploads)
        except Exception:
            log.warning("API housekeeping failed; trying again later", exc_info=True)
        await asyncio.sleep(interval)


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    task = asyncio.create_task(
        housekeeping_loop(
            getattr(app.state, "housekeeping_delay", FIRST_DELAY_SECONDS),
            getattr(app.state, "housekeeping_interval", HOUSEKEEPING_INTERVAL),
        ),
        name="clipcoach-housekeeping",
    )
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
