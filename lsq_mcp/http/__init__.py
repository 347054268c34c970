"""MCP over Streamable HTTP: `/mcp`, `/healthz`, a bearer token, and Host/Origin checks.

By job:
- `security`: the start-up checks (token strength, loopback or not) and the Host headers allowed
- `middleware`: what runs around the SDK's app (the bearer token, lower-cased Host/Origin, `GET /mcp`
  refused, cancellation of a stateless call)
- `app`: `create_http_app` assembles the Starlette app (tests use it too), `/healthz`, and `listen`
  binds the socket
- `serving`: `run` serves the app with uvicorn (graceful stop on SIGTERM, a deadline for request
  headers); imported only to serve, as uvicorn costs a second of imports

Stateless: every POST to `/mcp` is served on its own, so any replica behind a load balancer can
answer any request. Answers are SSE streams rather than plain JSON so that a long `fetch_all`
can report progress per page while it runs (a JSON answer could carry only the final result).
The MCP server's lifespan (the pooled LeadSquared client, the activity type lookup) is entered
once, when the app starts, by the SDK's session manager, and shared by every request.

The SDK, Starlette and uvicorn are imported where used: the start-up checks (a missing token,
a malformed setting, a port in use) then answer at once, before a second of imports.
"""
