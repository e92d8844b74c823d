"""The public API, `/api/v1`."""
