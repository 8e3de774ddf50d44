"""api: read latency of `clipcoach serve` under concurrent clients, beside bare Starlette
(benchmarks/peer_api.py) returning the same bytes on the same uvicorn."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import math
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from benchmarks.measured import PYTHON
from benchmarks.suite import WORK, Suite, clean_env, say, table


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serving(
    cmd: list[str],
    env: dict[str, str],
    port: int,
    log: Path,
    *,
    cwd: Path | None = None,
    ready: str = "/",
    start_timeout: float = 60,
) -> Iterator[str]:
    """Run a server command on loopback until the block ends; its base URL once `ready`
    answers (any status when `ready` is "/", 200 otherwise)."""
    import httpx

    base = f"http://127.0.0.1:{port}"
    with open(log, "wb") as log_file:
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=log_file, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + start_timeout
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"server exited: {log.read_text()[-2000:]}")
                try:
                    answer = httpx.get(f"{base}{ready}", timeout=1)
                    if ready == "/" or answer.status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start in {start_timeout:.0f} s")
                time.sleep(0.3)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


async def load(
    base: str,
    paths: Sequence[str],
    headers: dict[str, str],
    clients: int,
    requests: int,
    timeout: float = 60,
    reasons: collections.Counter[str] | None = None,
) -> tuple[list[float], int, float]:
    """`clients` tasks share `requests` GETs cycling through `paths`: latencies, failures and
    wall time. A request not answered in `timeout` is a failure, and its wait still a latency;
    `reasons` counts each failure's status code or exception name."""
    import httpx

    latencies: list[float] = []
    failures = 0
    counter = iter(range(requests))
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits,
                                 timeout=timeout) as client:  # fmt: skip

        async def worker() -> None:
            nonlocal failures
            for i in counter:
                started = time.perf_counter()
                try:
                    status = (await client.get(paths[i % len(paths)])).status_code
                    reason = str(status)
                except httpx.HTTPError as exc:
                    status, reason = 0, type(exc).__name__
                latencies.append(time.perf_counter() - started)
                if status != 200:
                    failures += 1
                    if reasons is not None:
                        reasons[reason] += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        wall = time.perf_counter() - started
    return latencies, failures, wall


def latency_row(name: str, latencies: list[float], failures: int, wall: float) -> list[str]:
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]
    return [
        name,
        str(len(latencies)),
        f"{statistics.median(ordered) * 1000:.1f} ms",
        f"{p95 * 1000:.1f} ms",
        f"{len(latencies) / wall:.0f}/s",
        str(failures),
    ]


def run(suite: Suite) -> None:
    import httpx

    cfg = suite.config
    try:
        import api.app  # noqa: F401 - only to learn whether the API exists yet
        from api.routes import auth  # noqa: F401
    except ImportError as exc:
        suite.add("API read latency", f"**Not measured**: the API cannot be imported ({exc}).")
        return
    with tempfile.TemporaryDirectory(dir=WORK) as scratch_name:
        scratch = Path(scratch_name)
        env = clean_env(scratch / "data")
        seeded = subprocess.run(
            [PYTHON, "-m", "benchmarks.seed_api", "20"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if seeded.returncode != 0:
            suite.add(
                "API read latency",
                "**Not measured**: could not create the user and lessons:\n\n```\n"
                + seeded.stderr[-1500:]
                + "\n```",
            )
            return
        seed = json.loads(seeded.stdout.strip().splitlines()[-1])
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        cmd = [PYTHON, "-m", "workers.cli", "serve", "--no-with-worker",
               "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
        paths = ["/api/v1/lessons", *(f"/api/v1/lessons/{i}" for i in seed["ids"])]
        say(f"api: {cfg.api_requests} requests, {cfg.clients} clients, clipcoach serve")
        with serving(cmd, env, port, scratch / "serve.log"):
            token = httpx.post(
                f"{base}/api/v1/auth/token",
                data={"username": seed["email"], "password": seed["password"]},
                timeout=30,
            )
            if token.status_code != 200:
                suite.add(
                    "API read latency",
                    f"**Not measured**: sign-in answered {token.status_code}: {token.text[:300]}",
                )
                return
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            payloads = {
                "list": httpx.get(f"{base}{paths[0]}", headers=headers).json(),
                "detail": httpx.get(f"{base}{paths[1]}", headers=headers).json(),
            }
            asyncio.run(load(base, paths, headers, cfg.clients, cfg.clients * 2))  # warm up
            ours = asyncio.run(load(base, paths, headers, cfg.clients, cfg.api_requests))
        payload_file = scratch / "payloads.json"
        payload_file.write_text(json.dumps(payloads))
        peer_port = free_port()
        peer_cmd = [PYTHON, "-m", "uvicorn", "benchmarks.peer_api:app", "--host", "127.0.0.1",
                    "--port", str(peer_port), "--log-level", "info"]  # fmt: skip
        peer_base = f"http://127.0.0.1:{peer_port}"
        say("api: the bare Starlette peer")
        peer_env = {**env, "CLIPCOACH_PEER_PAYLOADS": str(payload_file)}
        with serving(peer_cmd, peer_env, peer_port, scratch / "peer.log"):
            asyncio.run(load(peer_base, paths, {}, cfg.clients, cfg.clients * 2))
            peer = asyncio.run(load(peer_base, paths, {}, cfg.clients, cfg.api_requests))
    body = table(
        ["server", "requests", "median", "p95", "throughput", "failures"],
        [
            latency_row("ours: `clipcoach serve` (auth, SQLite, middleware)", *ours),
            latency_row("peer: bare Starlette, same JSON from memory", *peer),
        ],
    )
    body += (
        f"\n\n{cfg.clients} concurrent httpx clients on loopback share the requests, cycling "
        f"through GET /api/v1/lessons (20 lessons) and GET /api/v1/lessons/{{id}}; one uvicorn "
        "process each, as `clipcoach serve` runs it. The client runs on the same two cores and "
        "costs CPU too: when the peer is not much faster than ours, the client is the limit and "
        "both latencies are upper bounds."
    )
    suite.add("API read latency", body)
