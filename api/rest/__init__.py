"""The HTTP API (FastAPI): authentication, roles, signed writes, reads, problem details."""
