"""Socket.IO: the overlay and dashboard namespaces, snapshot + replay, the broadcast fast path."""
