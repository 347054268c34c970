"""Which LeadSquared account a command uses: the configured one, or with `--demo` the sandbox's,
started in this process for as long as the command runs."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from datetime import datetime, timezone

from lsq_mcp.errors import NotConfiguredError
from lsq_mcp.settings import Settings

logger = logging.getLogger("lsq_mcp")


@contextlib.contextmanager
def account(settings: Settings, demo: bool) -> Iterator[Settings]:
    """The settings to use: as configured, or pointed at an in-process sandbox with `--demo`."""
    if not demo:
        if not settings.has_keys:
            # The words of the tool error every call will answer, said once as the server starts.
            logger.warning("%s Until then, every tool call fails.", NotConfiguredError(settings.key_problems))
        yield settings
        return
    from lsq_mcp.sandbox import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, SandboxServer
    from lsq_mcp.sandbox.today import as_of

    # Dated as of today: the demo's open deals read as live ones.
    with SandboxServer(catalog=as_of(datetime.now(timezone.utc))) as sandbox:
        logger.info("Demo mode: using the built-in sandbox at %s", sandbox.url)
        yield settings.with_overrides(
            access_key=SANDBOX_ACCESS_KEY, secret_key=SANDBOX_SECRET_KEY, base_url=sandbox.url
        )
