"""Logging: stderr only (stdout is the MCP protocol), quiet HTTP libraries, keys scrubbed."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

from lsq_mcp.redaction import redact


class RedactingFilter(logging.Filter):
    """Last line of defence: no log line may carry a key, whoever logs it."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            cleaned = redact(message, self.secrets)
            if cleaned != message:
                record.msg, record.args = cleaned, None
            if record.exc_info and not record.exc_text:
                # Formatters use exc_text when it is set: format the traceback once, scrubbed.
                record.exc_text = redact(_FORMATTER.formatException(record.exc_info), self.secrets)
        return True


_FORMATTER = logging.Formatter()


def configure_logging(secrets: Iterable[str], level: int = logging.INFO) -> None:
    """Send every log line to stderr, scrubbed of `secrets`; before MCPServer configures its own."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger("lsq_mcp").setLevel(level)
    # httpx2 logs every request at INFO (with its URL); the SDK logs every message it handles.
    for noisy in ("httpx2", "httpx", "httpcore", "mcp", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
