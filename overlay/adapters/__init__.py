"""Every use of a library's private attributes, one module per library (docs/architecture.md).

The rest of overlay/ calls these modules' public functions and classes; tests/test_layout.py
fails on a private attribute of anything but ``self``/``cls`` outside this package. Each
module says what it relies on, how a process checks at start-up that it still holds, and the
supported behaviour it falls back to when it does not. The adapters import no overlay module.
"""
