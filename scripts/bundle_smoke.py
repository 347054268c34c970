"""Start a packed MCP Bundle the way Claude Desktop does and check that it answers.

Usage: python scripts/bundle_smoke.py dist/lsq-mcp.mcpb

Unpacks the bundle, fills its manifest's `mcp_config` (`${__dirname}`, `${user_config.*}`) with
the built-in sandbox's keys and address, and talks MCP over stdio to the command it names
(`uv run ...`: `uv` must be on PATH; the first run installs the dependencies from the package
index). Checks that the tools listed equal the manifest's and that one tool call succeeds.
Exit status 0 when all holds.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from lsq_mcp.sandbox import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, SandboxServer

SAMPLE_OPPORTUNITY = "6f1c2a9e-4b7d-4e52-9c0a-1d3e5f7a9b21"


def fill(value: str, bundle_dir: Path, user_config: dict[str, str]) -> str:
    value = value.replace("${__dirname}", str(bundle_dir))
    for key, given in user_config.items():
        value = value.replace("${user_config." + key + "}", given)
    assert "${" not in value, f"unfilled variable in {value!r}"
    return value


async def check(
    bundle_dir: Path, manifest: dict[str, Any], command: str, args: list[str], env: dict[str, str]
) -> None:
    with (bundle_dir / "stderr.log").open("w") as errlog:
        params = StdioServerParameters(command=command, args=args, env=env)
        async with Client(stdio_client(params, errlog=errlog)) as client:
            tools = sorted(t.name for t in (await client.list_tools()).tools)
            declared = sorted(t["name"] for t in manifest["tools"])
            assert tools == declared, f"the bundle lists {tools}, its manifest {declared}"
            result = await client.call_tool(
                "get_opportunity_activities", {"opportunity_id": SAMPLE_OPPORTUNITY, "page_size": 3}
            )
            assert not result.is_error, f"tool call failed: {result.content}"
    print(f"bundle_smoke: {len(tools)} tools listed as declared; a tool call on the sandbox succeeded")


def main(bundle: str) -> int:
    with tempfile.TemporaryDirectory(prefix="lsq-mcp-bundle-") as tmp, SandboxServer() as sandbox:
        bundle_dir = Path(tmp)
        with zipfile.ZipFile(bundle) as archive:
            archive.extractall(bundle_dir)
        manifest = json.loads((bundle_dir / "manifest.json").read_text(encoding="utf-8"))
        user_config = {
            key: str(option.get("default", "")) for key, option in manifest.get("user_config", {}).items()
        }
        user_config |= {"access_key": SANDBOX_ACCESS_KEY, "secret_key": SANDBOX_SECRET_KEY}
        user_config["host"] = sandbox.url
        config = manifest["server"]["mcp_config"]
        command = fill(config["command"], bundle_dir, user_config)
        args = [fill(a, bundle_dir, user_config) for a in config.get("args", [])]
        env = {k: fill(v, bundle_dir, user_config) for k, v in config.get("env", {}).items()}
        # The first start installs the dependencies: before the MCP session, outside its timeouts.
        subprocess.run([command, *args, "--version"], check=True, timeout=600)  # noqa: S603 (our manifest)
        try:
            anyio.run(check, bundle_dir, manifest, command, args, env)
        except BaseException:
            log = bundle_dir / "stderr.log"
            if log.exists():
                sys.stderr.write(log.read_text())
            raise
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
