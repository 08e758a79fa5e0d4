"""Planned failures: the next matching requests fail in a chosen way."""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Fault:
    """How one request fails.

    ``drop``: close the connection without answering. ``hang``: never answer
    (the connection is held until the emulator stops). Otherwise answer with
    ``status``, the ``body`` given (or a JSON error) and, when ``retry_after``
    is set, a ``Retry-After`` header.
    """

    status: int = 503
    retry_after: float | str | None = None
    body: bytes | None = None
    drop: bool = False
    hang: bool = False
    path_contains: str | None = None

    def matches(self, raw_path: str) -> bool:
        return self.path_contains is None or self.path_contains.lower() in raw_path.lower()

    def retry_after_header(self) -> str | None:
        if self.retry_after is None:
            return None
        if isinstance(self.retry_after, str):
            return self.retry_after
        if float(self.retry_after).is_integer():
            return str(int(self.retry_after))
        return str(self.retry_after)


class FaultPlan:
    """Queued faults, consumed by matching requests in arrival order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[tuple[Fault, int]] = []

    def add(self, fault: Fault, count: int) -> None:
        if count < 0:
            raise ValueError("count must not be negative")
        if fault.drop and fault.hang:
            raise ValueError("a fault cannot both drop and hang")
        if not 100 <= fault.status <= 599:
            raise ValueError(f"invalid HTTP status: {fault.status}")
        if count:
            with self._lock:
                self._queue.append((replace(fault), count))

    def take(self, raw_path: str) -> Fault | None:
        """The fault for a request to ``raw_path``, if one is planned (consumes it)."""
        with self._lock:
            for index, (fault, remaining) in enumerate(self._queue):
                if fault.matches(raw_path):
                    if remaining <= 1:
                        del self._queue[index]
                    else:
                        self._queue[index] = (fault, remaining - 1)
                    return fault
        return None

    def pending(self) -> int:
        with self._lock:
            return sum(remaining for _, remaining in self._queue)

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()
