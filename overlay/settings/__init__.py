"""Settings: the pydantic models of config.yaml (and of the bodies that reuse them). A leaf:
nothing here imports anything of ours outside overlay.settings, and nothing does I/O;
overlay/config.py reads the file into these models (docs/architecture.md)."""
