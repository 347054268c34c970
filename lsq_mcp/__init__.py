"""lsq-mcp: an MCP server for LeadSquared opportunity activity history."""

__version__ = "0.1.0"
