"""The account's metadata that tools show beside the data: activity type names (code → name) and
each activity type's custom field names (schema name → display name).

Both change only when an admin edits the account, so each value is a `CachedLookup`: fresh for
an hour, looked up once however many calls need it at the same moment (they share the one
answer, or its failure), not asked for again for a while after a failure (each try costs a
rate-limit slot), and with LSQ_REDIS_URL shared (`SharedCache`): a process reads what another
one fetched, with the time it has left to live, before it calls the API itself.

Activity type names (`ActivityTypeCache`) are looked up in the server's own task group, started
as the server starts, so the lookup is never cut short by the tool call that happened to ask
first, and a tool call never waits behind it for long: past a short wait, or when the lookup
fails, codes simply stay codes. Names past their time-to-live are still shown while refreshed.

Field names (`ActivityFieldNames`) are looked up by the call that needs them, for the event codes
in its result only (a cancelled call makes no further API call). A code whose lookup fails keeps
its fields' schema names, and the call goes on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import Generic, Protocol, TypeVar

import anyio
from anyio.abc import TaskGroup
from pydantic import TypeAdapter, ValidationError

from lsq_mcp.api.connection import Connection
from lsq_mcp.api.endpoints import get_activity_setting, get_activity_types
from lsq_mcp.api.models import ACTIVITY_TYPES, RawActivitySetting, RawActivityType
from lsq_mcp.errors import LeadSquaredError

logger = logging.getLogger(__name__)

# How long a call waits for the first lookup of activity type names before showing codes.
NAMES_WAIT_SECONDS = 2.0


T = TypeVar("T")

TTL_SECONDS = 3600.0
# After a failure, type names are not asked for again for this long.
RETRY_AFTER_FAILURE_SECONDS = 60.0
# After a failure, a type's field names are not asked for again for this long: some types (system
# ones) may never answer, and a call needs its answer before it can reply.
FIELD_NAMES_RETRY_AFTER_FAILURE_SECONDS = 600.0
# The names of the values in the shared cache.
SHARED_NAME = "activity-types"
SETTING_SHARED_NAME = "activity-setting:{code}"
ACTIVITY_SETTING = TypeAdapter(RawActivitySetting)


class SharedCache(Protocol):
    """Values shared with the other processes on the account (Redis)."""

    async def get_or_fetch(
        self, name: str, fetch: Callable[[], Awaitable[str]], ttl: float
    ) -> tuple[str, float]:
        """The value `name` as text and the seconds it stays fresh: another process's, or else
        `fetch()`'s, stored for `ttl`. While one process fetches, the others wait for its answer."""
        ...


class CachedLookup(Generic[T]):
    """One value looked up through the API: fresh for `ttl`, one lookup at a time, a failure kept
    (and raised to whoever asks) for `quiet` seconds, shared as `name` through `shared` when given."""

    def __init__(
        self,
        name: str,
        fetch: Callable[[], Awaitable[T]],
        codec: TypeAdapter[T],
        *,
        shared: SharedCache | None,
        ttl: float,
        quiet: float,
        clock: Callable[[], float],
    ) -> None:
        self._name = name
        self._fetch = fetch
        self._codec = codec
        self._shared = shared
        self._ttl = ttl
        self._quiet = quiet
        self._clock = clock
        self._value: T | None = None
        self._expires = 0.0
        self._failure: Exception | None = None
        self._failed_at = 0.0
        self._lock = anyio.Lock()

    @property
    def known(self) -> T | None:
        """The last value looked up, fresh or not (None before the first)."""
        return self._value

    def fresh(self) -> bool:
        return self._value is not None and self._clock() < self._expires

    def failed_lately(self) -> bool:
        return self._failure is not None and self._clock() < self._failed_at + self._quiet

    async def get(self) -> T:
        """The value, from the cache while fresh; raises the lookup's failure (a recent one included)."""
        if self._value is not None and self.fresh():
            return self._value
        async with self._lock:
            # Whoever waited on the lock finds what the first caller fetched, or its failure.
            if self._value is not None and self.fresh():
                return self._value
            if self._failure is not None and self.failed_lately():
                raise self._failure
            try:
                value, fresh_for = await self._lookup()
            except Exception as exc:
                self._failure, self._failed_at = exc, self._clock()
                raise
            self._failure = None
            self._value, self._expires = value, self._clock() + fresh_for
        return value

    async def _lookup(self) -> tuple[T, float]:
        """The value and how long it stays fresh: from the other processes when shared, else the API."""
        if self._shared is None:
            return await self._fetch(), self._ttl
        text, fresh_for = await self._shared.get_or_fetch(self._name, self._fetch_json, self._ttl)
        try:
            return self._codec.validate_json(text), fresh_for
        except ValidationError:
            # Not what this version stores (another version wrote it?): ask the API, keep it here.
            logger.info("The shared %s is unreadable; looking it up for this process", self._name)
            return await self._fetch(), self._ttl

    async def _fetch_json(self) -> str:
        return self._codec.dump_json(await self._fetch(), by_alias=True).decode()


class ActivityTypeCache:
    """The account's activity types, looked up in the background (see the module's docstring)."""

    def __init__(self, conn: Connection, *, shared: SharedCache | None = None) -> None:
        self._conn = conn
        self._lookup: CachedLookup[list[RawActivityType]] = CachedLookup(
            SHARED_NAME,
            partial(get_activity_types, conn),
            ACTIVITY_TYPES,
            shared=shared,
            ttl=TTL_SECONDS,
            quiet=RETRY_AFTER_FAILURE_SECONDS,
            clock=time.monotonic,
        )
        self._group: TaskGroup | None = None
        self._refreshed = anyio.Event()
        self._refreshing = False
        # The names, with the list of types they were made from.
        self._names: tuple[list[RawActivityType] | None, Mapping[int, str]] = (None, {})

    def start(self, group: TaskGroup) -> None:
        """Look names up in the background in `group` (the server's), starting now (with keys)."""
        if self._conn.settings.has_keys:
            self._group = group
            self._refresh_soon()

    async def types(self) -> tuple[RawActivityType, ...]:
        """The activity types, from the cache while fresh; raises `LeadSquaredError` on failure."""
        return _with_codes(await self._lookup.get())

    async def names(self, wait: float) -> Mapping[int, str]:
        """Code → name as known now, waiting at most `wait` seconds for a first lookup."""
        if not self._lookup.fresh():
            self._refresh_soon()
        if self._lookup.known is None and self._refreshing:
            with anyio.move_on_after(wait):
                await self._refreshed.wait()
        known = self._lookup.known
        if self._names[0] is not known:  # made once for each list looked up, not on every call
            types = _with_codes(known or ())
            self._names = (known, {t.code: t.label for t in types if t.code is not None and t.label})
        return self._names[1]

    def _refresh_soon(self) -> None:
        if self._group is None or self._refreshing or self._lookup.failed_lately():
            return
        self._refreshing = True
        self._refreshed = anyio.Event()
        self._group.start_soon(self._refresh)

    async def _refresh(self) -> None:
        try:
            await self._lookup.get()
        except LeadSquaredError as exc:
            logger.info("Activity type names unavailable, showing codes: %s", exc)
        except Exception:
            # This runs in the server's own task group: whatever happens, the server lives on.
            logger.exception("Activity type names unavailable, showing codes")
        finally:
            self._refreshing = False
            self._refreshed.set()


def _with_codes(types: Sequence[RawActivityType]) -> tuple[RawActivityType, ...]:
    return tuple(t for t in types if t.code is not None)


class ActivityFieldNames:
    """Each activity type's custom field names, by event code, from `GetActivitySetting`."""

    def __init__(
        self,
        conn: Connection,
        *,
        shared: SharedCache | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._conn = conn
        # Each code's lookup: an hour's life, 10 minutes' quiet after a failure.
        self._new_lookup = partial(
            CachedLookup,
            shared=shared,
            ttl=TTL_SECONDS,
            quiet=FIELD_NAMES_RETRY_AFTER_FAILURE_SECONDS,
            clock=clock,
        )
        self._lookups: dict[int, CachedLookup[RawActivitySetting]] = {}
        # Each code's names, with the setting they were read from (read again when that changes).
        self._names: dict[int, tuple[RawActivitySetting, Mapping[str, str]]] = {}

    async def names(self, codes: Iterable[int]) -> dict[int, Mapping[str, str]]:
        """Schema name → display name of the custom fields of each of `codes` whose setting can be had
        (looked up concurrently where not cached); a code whose lookup fails is left out."""
        wanted = {code: self._lookup(code) for code in set(codes)}
        due = [lookup for lookup in wanted.values() if not lookup.fresh() and not lookup.failed_lately()]
        if due:
            async with anyio.create_task_group() as group:
                for lookup in due:
                    group.start_soon(self._try, lookup)
        # Names past their time-to-live that could not be refreshed are still better than none.
        return {
            code: self._named(code, lookup.known)
            for code, lookup in wanted.items()
            if lookup.known is not None
        }

    def _named(self, code: int, setting: RawActivitySetting) -> Mapping[str, str]:
        """`setting`'s names: made once for each setting looked up, not on every call."""
        made = self._names.get(code)
        if made is None or made[0] is not setting:
            made = self._names[code] = (setting, field_names(setting))
        return made[1]

    def _lookup(self, code: int) -> CachedLookup[RawActivitySetting]:
        if code not in self._lookups:
            self._lookups[code] = self._new_lookup(
                SETTING_SHARED_NAME.format(code=code),
                partial(get_activity_setting, self._conn, code),
                ACTIVITY_SETTING,
            )
        return self._lookups[code]

    async def _try(self, lookup: CachedLookup[RawActivitySetting]) -> None:
        try:
            await lookup.get()
        except LeadSquaredError as exc:
            logger.info("Custom field names unavailable, showing schema names: %s", exc)
        except Exception:
            logger.exception("Custom field names unavailable, showing schema names")


def field_names(setting: RawActivitySetting) -> dict[str, str]:
    """Schema name → display name of `setting`'s fields. Two fields with one display name each get
    their schema name in brackets (`Visit Notes (mx_Custom_4)`); a field without one keeps its own."""
    named = [(f.schema_name, f.display_name) for f in setting.fields if f.schema_name and f.display_name]
    seen: dict[str, int] = {}
    for _, display in named:
        seen[display] = seen.get(display, 0) + 1
    return {
        schema: f"{display} ({schema})" if seen[display] > 1 else display
        for schema, display in named
        if display != schema
    }
