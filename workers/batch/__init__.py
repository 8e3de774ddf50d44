"""A coach's batch: many recordings through the task queue, resumable, one summary at the end.

    discovery   which files are recordings, and where each one's transcripts go under OUT
    manifest    OUT/.clipcoach-batch.json: what earlier runs did, keyed by the recording's SHA-256
    run         BatchRun, the state machine: submit, watch the database, export, summarise
    launch      LocalWorkers, the Celery workers `--workers N` starts (and stops) for the run

Here is what `clipcoach batch` needs (RunObserver is what its progress display implements);
tests reach into the modules for the rest.
"""

from workers.batch.discovery import find_recordings
from workers.batch.errors import BatchError
from workers.batch.launch import LocalWorkers
from workers.batch.manifest import out_folder_lock
from workers.batch.run import BatchOptions, BatchRun, ItemState, RunItem, RunObserver

__all__ = [
    "BatchError",
    "BatchOptions",
    "BatchRun",
    "ItemState",
    "LocalWorkers",
    "RunItem",
    "RunObserver",
    "find_recordings",
    "out_folder_lock",
]
