"""The sandbox's mutable state: configuration, fault queue, rate-limit window, stats, request log.

The HTTP app runs on the server thread's event loop while tests poke at this object from the
main thread (push a fault, change the rate limit, read the log), so every shared structure is
guarded by one lock and readers get copies.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from lsq_mcp.sandbox.catalog import Catalog
from lsq_mcp.sandbox.data import CATALOG, SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY

FaultKind = Literal[
    "slow", "drop", "status", "html", "truncated", "ratelimit", "error", "echo_keys", "wrong_shape"
]
FAULT_KINDS: frozenset[str] = frozenset(get_args(FaultKind))

ClientAddress = tuple[str, int]
ConnectionCloser = Callable[[ClientAddress | None, bool], bool]
"""Closes the connection of the given peer (abort/RST when the flag is set); False if not found."""


@dataclass
class SandboxConfig:
    """Run-time knobs. Mutable on purpose: tests change them between calls (each is read once per request)."""

    access_key: str = SANDBOX_ACCESS_KEY
    secret_key: str = SANDBOX_SECRET_KEY
    rate_limit: tuple[int, float] | None = (25, 5.0)
    rate_limit_status: int = 429
    retry_after: float | None = None
    region_host: str | None = None
    latency: float = 0.0
    latency_jitter: float = 0.0
    # The real maximum page size is unconfirmed. An API may refuse larger pages with an error...
    page_size_limit: int = 1000
    # ...or silently serve smaller pages than asked, counting offsets in its own size.
    max_page_size: int | None = None
    # Whether Quick Search matches the company too (undocumented: either answer is plausible).
    quick_search_company: bool = False


@dataclass(frozen=True)
class Fault:
    """One misbehaviour to serve instead of the normal answer, ``count`` times in a row.

    ``delay`` is waited before any kind (for ``slow`` it is the whole point). ``status``,
    ``body`` and ``content_type`` override the kind's defaults; ``exception_type``/``message``
    feed ``error``; ``limit`` feeds ``ratelimit`` (else the config's); ``retry_after`` adds a
    Retry-After header to ``ratelimit`` (else the config's); ``reset`` makes ``drop`` send a
    TCP reset instead of a clean close. ``path``, when set, aims the fault at one endpoint: only
    requests whose path ends with it (case-insensitive, e.g. ``"GetActivitiesOfOpportunity"``)
    take it, so a client's side calls (say, ActivityTypes.Get) cannot use it up.
    """

    kind: FaultKind
    count: int = 1
    delay: float = 0.0
    status: int | None = None
    body: str | None = None
    content_type: str | None = None
    exception_type: str = "MXException"
    message: str = "An unexpected error occurred. Please try again later."
    limit: tuple[int, float] | None = None
    retry_after: float | None = None
    reset: bool = False
    path: str | None = None

    def matches(self, path: str) -> bool:
        """Whether a request to ``path`` may take this fault."""
        return self.path is None or path.lower().endswith(self.path.lower())

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {sorted(FAULT_KINDS)}")
        if self.count < 1:
            raise ValueError("count must be at least 1")
        if self.delay < 0:
            raise ValueError("delay must not be negative")


class FaultQueue:
    """Thread-safe FIFO of pending faults; each request takes one use of the oldest that applies."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: deque[list[Any]] = deque()  # [fault, uses left]

    def push(self, fault: Fault) -> None:
        """Queue ``fault`` behind any already pending."""
        with self._lock:
            self._pending.append([fault, fault.count])

    def take(self, path: str = "") -> Fault | None:
        """One use of the oldest fault that applies to ``path``, or None."""
        with self._lock:
            for entry in self._pending:
                fault: Fault = entry[0]
                if fault.matches(path):
                    entry[1] -= 1
                    if entry[1] <= 0:
                        self._pending.remove(entry)
                    return fault
            return None

    def clear(self) -> None:
        """Drop every pending fault."""
        with self._lock:
            self._pending.clear()

    def __len__(self) -> int:
        """Pending uses (a fault with count=3 not yet served counts 3)."""
        with self._lock:
            return sum(int(entry[1]) for entry in self._pending)


@dataclass(frozen=True)
class RecordedRequest:
    """What a client sent, minus the secrets: key values are replaced by ``<redacted>``."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    had_key_headers: bool
    keys_in_query: bool
    body: Any
    at: float


@dataclass
class Stats:
    """Counters for tests and benchmarks.

    ``requests``: every request seen; ``accepted``: admitted by the rate limiter and answered
    normally; ``rejected``: refused by the rate limiter; ``unauthorized``: bad keys or wrong
    region; ``faulted``: answered by a fault; ``by_path``: every request, per endpoint path.
    """

    requests: int = 0
    accepted: int = 0
    rejected: int = 0
    unauthorized: int = 0
    faulted: int = 0
    by_path: dict[str, int] = field(default_factory=dict)

    def copy(self) -> Stats:
        """An independent snapshot."""
        return Stats(
            self.requests, self.accepted, self.rejected, self.unauthorized, self.faulted, dict(self.by_path)
        )


REDACTED = "<redacted>"
REQUEST_LOG_LIMIT = 10_000
"""The log keeps the most recent requests only, so a long-running sandbox does not grow forever."""


class SandboxState:
    """Shared by the app (server thread) and the test or benchmark driving it (any thread)."""

    def __init__(self, config: SandboxConfig | None = None, catalog: Catalog | None = None) -> None:
        self.config = config if config is not None else SandboxConfig()
        self.catalog = catalog if catalog is not None else CATALOG
        self.faults = FaultQueue()
        self.stats = Stats()
        self.closing = threading.Event()
        self.connection_closer: ConnectionCloser | None = None
        self._lock = threading.Lock()
        self._requests: deque[RecordedRequest] = deque(maxlen=REQUEST_LOG_LIMIT)
        # (opportunity id, sort column, descending, event code) -> the activities in that order.
        self.orderings: dict[tuple[str, str, bool, int | None], list[Any]] = {}
        self._windows: dict[str, list[float]] = {}
        self._in_flight = 0
        self._idle = threading.Condition(self._lock)

    # ---- requests in flight -------------------------------------------------------------------

    def started(self) -> None:
        with self._lock:
            self._in_flight += 1

    def finished(self) -> None:
        with self._lock:
            self._in_flight -= 1
            self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no request is being served (a caller gone from an earlier test may have left
        one that would take the next test's fault); False if one still is after `timeout` seconds."""
        with self._lock:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout)

    # ---- faults -------------------------------------------------------------------------------

    def push_fault(self, fault: Fault) -> None:
        """Serve ``fault`` to the next ``fault.count`` authenticated API requests."""
        self.faults.push(fault)

    # ---- request log --------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of the request log (the last REQUEST_LOG_LIMIT requests), oldest first."""
        with self._lock:
            return list(self._requests)

    def record(self, request: RecordedRequest, route: str) -> None:
        """Log a request and count it under ``route`` (its canonical path)."""
        with self._lock:
            self._requests.append(request)
            self.stats.requests += 1
            self.stats.by_path[route] = self.stats.by_path.get(route, 0) + 1

    def count(self, counter: Literal["unauthorized", "faulted"]) -> None:
        """Bump one of the outcome counters."""
        with self._lock:
            setattr(self.stats, counter, getattr(self.stats, counter) + 1)

    def stats_snapshot(self) -> Stats:
        """A consistent copy of the counters."""
        with self._lock:
            return self.stats.copy()

    # ---- rate limit ---------------------------------------------------------------------------

    def admit(self, access_key: str, arrival: float) -> tuple[int, float] | None:
        """Sliding-window check: None if admitted (and counted), else the limit that refused it."""
        limit = self.config.rate_limit
        with self._lock:
            if limit is None:
                self.stats.accepted += 1
                return None
            calls, seconds = limit
            window = [t for t in self._windows.get(access_key, ()) if t > arrival - seconds]
            if len(window) >= calls:
                self._windows[access_key] = window
                self.stats.rejected += 1
                return limit
            window.append(arrival)
            self._windows[access_key] = window
            self.stats.accepted += 1
            return None

    # ---- housekeeping -------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget stats, the request log, the rate-limit window and pending faults."""
        self.faults.clear()
        with self._lock:
            self.stats = Stats()
            self._requests.clear()
            self._windows.clear()
