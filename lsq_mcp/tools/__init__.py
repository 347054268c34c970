"""The MCP tools, one module each: its arguments, the calls it makes, its result model and its text.

`arguments` holds the rules every tool's arguments follow, `base_result` what every result shares,
`context` what a call reaches through its MCP context.
"""
