"""The channel services: the only way handlers read and write a channel (docs/architecture.md)."""
