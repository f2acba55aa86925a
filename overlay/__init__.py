"""Self-hosted live donation overlay server."""
