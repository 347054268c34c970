"""The account's metadata that tools show beside the data: activity type names (code → name).

`ActivityTypes.Get` changes only when an admin adds an activity type, so its answer is
cached. Many calls needing it at the same moment make one API call between them. The
lookup runs in the server's own task group, started as the server starts, so it is
never cut short by the tool call that happened to ask first, and a tool call never
waits behind it for long: past a short wait, or when the lookup fails, codes simply
stay codes. Names past their time-to-live are still shown while they are refreshed.

With LSQ_REDIS_URL the answer is shared (`SharedCache`): a process reads what another one
fetched, with the time it has left to live, before it calls the API itself.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

import anyio
from anyio.abc import TaskGroup
from pydantic import ValidationError

from lsq_mcp.api.connection import Connection
from lsq_mcp.api.endpoints import get_activity_types
from lsq_mcp.api.models import ACTIVITY_TYPES, RawActivityType
from lsq_mcp.errors import LeadSquaredError

logger = logging.getLogger(__name__)

TTL_SECONDS = 3600.0
# After a failure, names are not asked for again for this long (each try costs a rate-limit slot).
RETRY_AFTER_FAILURE_SECONDS = 60.0
# The name of the activity types in the shared cache.
SHARED_NAME = "activity-types"


class SharedCache(Protocol):
    """Values shared with the other processes on the account (Redis)."""

    async def get_or_fetch(
        self, name: str, fetch: Callable[[], Awaitable[str]], ttl: float
    ) -> tuple[str, float]:
        """The value `name` as text and the seconds it stays fresh: another process's, or else
        `fetch()`'s, stored for `ttl`. While one process fetches, the others wait for its answer."""
        ...


class ActivityTypeCache:
    def __init__(
        self,
        conn: Connection,
        *,
        shared: SharedCache | None = None,
        ttl: float = TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._conn = conn
        self._shared = shared
        self._ttl = ttl
        self._clock = clock
        self._types: tuple[RawActivityType, ...] | None = None
        self._expires = 0.0
        self._quiet_until = 0.0
        self._failure: LeadSquaredError | None = None
        self._failed_at = 0.0
        self._lock = anyio.Lock()
        self._group: TaskGroup | None = None
        self._refreshed = anyio.Event()
        self._refreshing = False

    def start(self, group: TaskGroup) -> None:
        """Look names up in the background in `group` (the server's), starting now (with keys)."""
        if self._conn.settings.has_keys:
            self._group = group
            self._refresh_soon()

    async def types(self) -> tuple[RawActivityType, ...]:
        """The activity types, from the cache while fresh; raises `LeadSquaredError` on failure."""
        if self._types is not None and self._clock() < self._expires:
            return self._types
        asked_at = self._clock()
        async with self._lock:
            # Whoever waited on the lock finds what the first caller fetched, or its failure.
            if self._types is not None and self._clock() < self._expires:
                return self._types
            if self._failure is not None and self._failed_at >= asked_at:
                raise self._failure
            try:
                types, fresh_for = await self._lookup()
            except LeadSquaredError as exc:
                self._failure, self._failed_at = exc, self._clock()
                raise
            self._types = tuple(t for t in types if t.code is not None)
            self._expires = self._clock() + fresh_for
        return self._types

    async def _lookup(self) -> tuple[Sequence[RawActivityType], float]:
        """The types and how long they stay fresh: from the other processes when shared, else the API."""
        if self._shared is None:
            return await get_activity_types(self._conn), self._ttl
        text, fresh_for = await self._shared.get_or_fetch(SHARED_NAME, self._fetch_json, self._ttl)
        try:
            return ACTIVITY_TYPES.validate_json(text), fresh_for
        except ValidationError:
            # Not what this version stores (another version wrote it?): ask the API, keep it here.
            logger.info("Shared activity type names are unreadable; looking them up for this process")
            return await get_activity_types(self._conn), self._ttl

    async def _fetch_json(self) -> str:
        return ACTIVITY_TYPES.dump_json(await get_activity_types(self._conn), by_alias=True).decode()

    async def names(self, wait: float) -> dict[int, str]:
        """Code → name as known now, waiting at most `wait` seconds for a first lookup."""
        if self._types is None or self._clock() >= self._expires:
            self._refresh_soon()
        if self._types is None and self._refreshing:
            with anyio.move_on_after(wait):
                await self._refreshed.wait()
        return {t.code: t.label for t in self._types or () if t.code is not None and t.label}

    def _refresh_soon(self) -> None:
        if self._group is None or self._refreshing or self._clock() < self._quiet_until:
            return
        self._refreshing = True
        self._refreshed = anyio.Event()
        self._group.start_soon(self._refresh)

    async def _refresh(self) -> None:
        try:
            await self.types()
        except LeadSquaredError as exc:
            self._quiet_until = self._clock() + RETRY_AFTER_FAILURE_SECONDS
            logger.info("Activity type names unavailable, showing codes: %s", exc)
        except Exception:
            # This runs in the server's own task group: whatever happens, the server lives on.
            self._quiet_until = self._clock() + RETRY_AFTER_FAILURE_SECONDS
            logger.exception("Activity type names unavailable, showing codes")
        finally:
            self._refreshing = False
            self._refreshed.set()
