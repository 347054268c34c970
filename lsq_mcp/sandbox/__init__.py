"""A LeadSquared look-alike over real HTTP, for tests, benchmarks and demos.

No machine here reaches LeadSquared, so the client is exercised against this sandbox: the
"Get Activities of an Opportunity" API and its companions (opportunity details, activity types
and their custom field names, an opportunity's tasks...), with LeadSquared's authentication,
rate limit and error shapes, deterministic sample data, and injectable faults.

    with SandboxServer() as sb:
        sb.url                                  # http://127.0.0.1:<port>
        sb.state.push_fault(Fault("drop"))      # next API call: connection closed, no answer
"""

from lsq_mcp.sandbox.app import create_app
from lsq_mcp.sandbox.catalog import Catalog
from lsq_mcp.sandbox.data import SAMPLE_OPPORTUNITIES, SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, build_catalog
from lsq_mcp.sandbox.server import SandboxServer, serve_forever
from lsq_mcp.sandbox.state import Fault, FaultKind, RecordedRequest, SandboxConfig, SandboxState, Stats

__all__ = [
    "SAMPLE_OPPORTUNITIES",
    "SANDBOX_ACCESS_KEY",
    "SANDBOX_SECRET_KEY",
    "Catalog",
    "Fault",
    "FaultKind",
    "RecordedRequest",
    "SandboxConfig",
    "SandboxServer",
    "SandboxState",
    "Stats",
    "build_catalog",
    "create_app",
    "serve_forever",
]
