"""HTTP: the API, pages, auth, the one error type and JSON reader, rate limits."""
