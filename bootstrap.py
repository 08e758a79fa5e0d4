"""Entry point that launcher.js starts as ``python -I -S bootstrap.py run|cleanup``.

Kept in syntax that any Python 2.7 or 3.x parses, so that an interpreter too
old for the task exits with TOO_OLD (printing nothing) and the launcher can
try the next one. On Python 3.9 or later it puts the vendored dependencies and
the task folder at the front of sys.path (in a checkout without ``_vendor``,
site-packages too: the launcher starts Python with ``-S``) and runs the task.

Exit codes: REPORTED (0) = the task ran and reported its result (succeeded or
failed) with task.complete; TOO_OLD = interpreter too old; CRASHED = the task
could not be imported or raised, traceback on stderr and nothing reported.
"""

import os
import sys

REPORTED = 0
TOO_OLD = 87
CRASHED = 70


def _use_utf8(stream):  # type: (object) -> None
    """Write UTF-8 like the Node side, whatever the console code page (-I ignores
    PYTHONIOENCODING); characters that cannot be encoded never crash the task."""
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        try:
            reconfigure(encoding="utf-8", errors="backslashreplace")
        except (ValueError, OSError):
            pass


def main(argv):  # type: (list[str]) -> int
    if sys.version_info < (3, 9):  # noqa: UP036 - the check is the point of this file
        return TOO_OLD
    here = os.path.dirname(os.path.abspath(__file__))
    vendor = os.path.join(here, "_vendor")
    if os.path.isdir(vendor):  # the bundle: everything the task needs is here
        sys.path[0:0] = [vendor, here]
    else:  # a checkout: dependencies come from site-packages, which -S left out
        import site

        site.main()
        sys.path.insert(0, here)
    _use_utf8(sys.stdout)
    _use_utf8(sys.stderr)
    try:
        from twineauthenticate.cli import main as run

        code = run(argv)
    except Exception:
        import traceback

        traceback.print_exc()
        return CRASHED
    # The task reported its result with task.complete: 0 tells the launcher so, and
    # any other exit code means the interpreter never got that far.
    return REPORTED if code in (0, 1) else CRASHED


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
