"""Persistent state and where it lives: settings, tables, object storage, the ECF taxonomy.

Importing the package registers every table on `Base.metadata` (Alembic and tests rely on that).
"""

from models import (  # noqa: F401 - tables
    account,
    action_steps,
    audit,
    batch,
    blanks,
    coaching,
    collections,
    framework,
    lesson,
    model_practice,
    notifications,
    pupilnames,
    retention,
    search,
    transcription,
    upload,
)
