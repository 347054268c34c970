"""Pacing API calls under the account's rate limit, shared by every call.

`SlidingWindowLimiter` (`local`) paces one process; with LSQ_REDIS_URL, `RedisLimiter`
(`redis`) gives the same guarantee to every process sharing the account. Both satisfy
`Limiter` and pace to a `LearnedLimit`; `create_server` picks one.
"""

from lsq_mcp.pacing.limiter import WINDOW_MARGIN, LearnedLimit, Limiter
from lsq_mcp.pacing.local import SlidingWindowLimiter

__all__ = ["WINDOW_MARGIN", "LearnedLimit", "Limiter", "SlidingWindowLimiter"]
