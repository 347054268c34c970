"""LeadSquared access: the connection, its answers, one function per endpoint, the raw models, paging.

Nothing here knows of MCP: the tools in `lsq_mcp.tools` build on it.
"""
