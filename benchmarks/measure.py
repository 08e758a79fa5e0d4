"""Run one command and report what it cost, as one JSON line on stdout.

    python -I -S measure.py OUTPUT_FILE -- COMMAND [ARGS...]

Started fresh for every measured run by ``run.py``: ``RUSAGE_CHILDREN`` of this
process then covers exactly the command and every process it started and waited
for (``node`` and the ``python`` it spawns), and its ``ru_maxrss`` is the peak
resident memory of the largest of them. The command inherits this process's
environment; its stdout and stderr go to ``OUTPUT_FILE`` and ``OUTPUT_FILE.err``.
Start it directly with a real interpreter, not through a shell script or a shim
(pyenv's): ``RUSAGE_CHILDREN`` survives ``exec``, so whatever a shim ran first
would be counted too.

Reported: ``wall`` (seconds, from just before the spawn to the end of the wait),
``user`` and ``sys`` (CPU seconds of the process tree), ``maxrss_kib`` and
``returncode``. Standard library only, so that nothing here depends on the code
being measured.
"""

import json
import resource
import subprocess
import sys
import time


def main(argv: "list[str]") -> int:
    if len(argv) < 3 or argv[1] != "--":
        sys.stderr.write(__doc__ or "")
        return 2
    output, command = argv[0], argv[2:]
    with open(output, "wb") as out, open(output + ".err", "wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        returncode = proc.wait()
        wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    report = {
        "wall": wall,
        "user": usage.ru_utime,
        "sys": usage.ru_stime,
        "maxrss_kib": usage.ru_maxrss,  # KiB on Linux
        "returncode": returncode,
    }
    sys.stdout.write(json.dumps(report) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
