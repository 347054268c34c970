"""The command line's exit codes: 0 success, 1 the API call failed, 2 bad usage or configuration."""

from __future__ import annotations

EXIT_OK, EXIT_API_FAILED, EXIT_USAGE = 0, 1, 2
# As shells report a command stopped by SIGINT (128 + 2).
EXIT_INTERRUPTED = 130
# Failed tool calls that are the caller's to fix (by their kind, `ERROR_KIND_META`): exit 2, not 1.
USAGE_ERRORS = frozenset({"InvalidArgumentError", "NotConfiguredError"})


def exit_code_for(error_kind: object) -> int:
    """The exit code of a failed tool call of this kind (the error's class name)."""
    return EXIT_USAGE if error_kind in USAGE_ERRORS else EXIT_API_FAILED
