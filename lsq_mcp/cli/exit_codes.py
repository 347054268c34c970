"""The command line's exit codes: 0 success, 1 the API call failed, 2 bad usage or configuration."""

from __future__ import annotations

EXIT_OK, EXIT_API_FAILED, EXIT_USAGE = 0, 1, 2
# As shells report a command stopped by SIGINT (128 + 2).
EXIT_INTERRUPTED = 130
# As shells report a command whose reader went away (128 + SIGPIPE): `lsq-mcp ... | head`.
EXIT_BROKEN_PIPE = 141
