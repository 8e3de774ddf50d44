"""scaling: one worker process against two on the scale-out backends
(benchmarks/workers_scaling.py)."""

from __future__ import annotations

from benchmarks.suite import Suite, say, table, verdict


def run(suite: Suite) -> None:
    """One worker process against two on the scale-out backends (Redis, S3, PostgreSQL)."""
    from benchmarks import workers_scaling

    lessons = workers_scaling.make_lessons(6, 40.0)
    rows: list[list[str]] = []
    best: dict[int, float] = {}
    for workers in (1, 2, 1, 2):  # interleaved, so a passing load spike hits both counts
        say(f"scaling: {len(lessons)} lessons, {workers} worker process(es) on Redis")
        seconds = workers_scaling.run(lessons, workers, 900.0)
        best[workers] = min(seconds, best.get(workers, seconds))
        rows.append([f"{workers} worker process(es)", f"{seconds:.1f} s"])
    body = table(["", "wall time, batch of 6 lessons of about 40 s"], rows)
    body += (
        f"\n\nBest against best, two processes are **{best[1] / best[2]:.2f}x** as fast as one. "
        f"Issue 5 goal, two finish faster than one: {verdict(best[2] < best[1])}. Each "
        "process is `clipcoach worker --queues media,transcribe --concurrency 1` with a Redis "
        "broker, media in S3 (seaweedfs `weed mini` on loopback) and state in PostgreSQL, each "
        "run in its own database, bucket and key prefix. Same as "
        "`python -m benchmarks.workers_scaling --workers 1 2 1 2`."
    )
    suite.add("Worker scaling on Redis", body)
