"""HTTP API: FastAPI app, routes, problem+json errors."""
