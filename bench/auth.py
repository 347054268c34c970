"""What checking a signed-in user's access token adds to a request, against the static token.

One `lsq-mcp serve --transport http` process accepts both: the static LSQ_MCP_TOKEN, compared by
digest, and JWT access tokens of a look-alike issuer on loopback (`tests/http/issuer.py`), checked
as every signed-in request is (signature by the issuer's RS256 key, issuer, audience, expiry,
scope). The key set is fetched once before timing, so this is the cached path. The same request
(an MCP `initialize` POST to /mcp) is sent with one token and the other, `--rounds` pairs over one
kept-alive connection (which goes first alternates), each timed from send to the answer read whole.

Target: the median of the per-pair differences (JWT minus static) is at most 1 ms.

Run: python bench/auth.py [--rounds 2000]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx2
from _common import env_for, percentile, print_table, running_sandbox, verdict

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.http.issuer import RESOURCE, FakeIssuer
from tests.http.test_app import INITIALIZE, MCP_HEADERS, free_port

STATIC_TOKEN = "bench-static-7d0c5e2a9f1b4e68a3c1"  # noqa: S105 - the bench's own
SCOPE = "lsq.read"
TARGET_MS = 1.0
LSQ_MCP = str(Path(sys.executable).parent / "lsq-mcp")


def serve(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    """The server, once /healthz answers."""
    log = tempfile.TemporaryFile()  # noqa: SIM115 - the server's stderr, closed with the process
    process = subprocess.Popen(
        [LSQ_MCP, "serve", "--transport", "http", "--port", str(port)], env=env, stdout=log, stderr=log
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx2.TransportError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("the server did not start")


def timed(client: httpx2.Client, url: str, token: str) -> float:
    """Milliseconds for one initialize POST with `token`, its answer read whole; it must succeed."""
    started = time.perf_counter()
    answer = client.post(url, json=INITIALIZE, headers={**MCP_HEADERS, "Authorization": f"Bearer {token}"})
    answer.read()
    elapsed = (time.perf_counter() - started) * 1000
    if answer.status_code != 200:
        raise RuntimeError(f"refused ({answer.status_code}): {answer.text[:200]}")
    return elapsed


def pair(client: httpx2.Client, url: str, jwt_token: str, *, static_first: bool) -> tuple[float, float]:
    """(static, JWT) milliseconds, sent in the order given: alternated, so that neither is always second."""
    if static_first:
        static = timed(client, url, STATIC_TOKEN)
        return static, timed(client, url, jwt_token)
    signed = timed(client, url, jwt_token)
    return timed(client, url, STATIC_TOKEN), signed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=2000, help="pairs of requests timed")
    args = parser.parse_args()
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    with running_sandbox(None) as sandbox, FakeIssuer() as issuer:
        env = env_for(
            sandbox,
            LSQ_MCP_TOKEN=STATIC_TOKEN,
            LSQ_MCP_AUTH_ISSUER=issuer.url,
            LSQ_MCP_PUBLIC_URL=RESOURCE,
            LSQ_MCP_AUTH_SCOPES=SCOPE,
        )
        process = serve({"PATH": "/usr/bin:/bin", **env}, port)
        jwt_token = issuer.mint(scope=SCOPE, lifetime=3600)
        try:
            with httpx2.Client(timeout=30, trust_env=False) as client:
                for _ in range(50):  # warm-up: the key set fetched, connections and caches warm
                    timed(client, url, jwt_token)
                    timed(client, url, STATIC_TOKEN)
                pairs = [pair(client, url, jwt_token, static_first=i % 2 == 0) for i in range(args.rounds)]
        finally:
            process.terminate()
            process.wait(10)
        fetches = issuer.jwks_fetches
    static = [s for s, _ in pairs]
    signed = [j for _, j in pairs]
    added = [j - s for s, j in pairs]
    rows = [
        [name, f"{statistics.median(values):.3f}", f"{percentile(values, 90):.3f}"]
        for name, values in (
            ("static token", static),
            ("JWT access token", signed),
            ("added (JWT - static)", added),
        )
    ]
    print_table(["request", "median ms", "p90 ms"], rows)
    print(f"{args.rounds} pairs; the issuer's key set was fetched {fetches} time(s)")
    median_added = statistics.median(added)
    print(
        f"RESULT a token check adds {median_added:.3f} ms per request at the median "
        f"(target <= {TARGET_MS:g} ms: {verdict(median_added <= TARGET_MS)})"
    )


if __name__ == "__main__":
    main()
