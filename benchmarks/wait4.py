"""The go-between of `benchmarks.measured.run_measured`: runs a command and writes its usage.

`python -S -m benchmarks.wait4 RESULT CMD...` forks CMD, waits for it with `wait4` and writes
`{"seconds", "maxrss_kb", "cpu", "code"}` to RESULT. It imports only the standard library and
runs without site-packages, so its own few megabytes are the floor of every peak it reports.
"""

import json
import os
import subprocess
import sys
import time


def main(argv: list[str]) -> int:
    result, cmd = argv[0], argv[1:]
    started = time.perf_counter()
    child = subprocess.Popen(cmd)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    with open(result, "w") as out:
        cpu = usage.ru_utime + usage.ru_stime
        json.dump({"seconds": seconds, "maxrss_kb": usage.ru_maxrss, "cpu": cpu, "code": code}, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
