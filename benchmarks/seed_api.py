"""The API part's data: `python -m benchmarks.seed_api COUNT` makes a user and COUNT ready lessons.

Run in the environment the measured server will use (its CLIPCOACH_DATA_DIR), so the server
reads them; prints `{"email", "password", "ids"}` for the client to sign in and fetch.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

from models.account import Role
from models.accounts import create_user
from models.db import session_scope
from models.lesson import Lesson, LessonStatus, lesson_key
from models.migrate import upgrade
from models.settings import get_settings


def main(argv: list[str]) -> int:
    settings = get_settings()
    upgrade(settings.database_url)
    count = int(argv[0])
    with session_scope(settings.database_url) as session:
        user, password = create_user(session, "bench@example.org", "Bench", Role.ect, "bench-pw-1")
        ids = []
        for i in range(count):
            lesson = Lesson(owner_id=user.id, title=f"Lesson {i}", source_filename=f"lesson{i}.mp4",
                            source_key=lesson_key(f"x{i}", "source.mp4"), status=LessonStatus.ready,
                            progress=100, duration=3600.0, has_video=True, has_audio=True,
                            ready_at=datetime.now(UTC))  # fmt: skip
            session.add(lesson)
            session.flush()
            ids.append(lesson.id)
    print(json.dumps({"email": "bench@example.org", "password": password, "ids": ids}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
