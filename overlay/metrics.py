"""Prometheus metrics, created once at import (default registry)."""
from prometheus_client import Counter, Gauge, Histogram

DONATIONS = Counter("overlay_donations_total", "Donations accepted", ["channel", "source", "status"])
EVENTS = Counter("overlay_events_emitted_total", "Socket.IO events broadcast", ["channel", "type"])
PUBSUB_MESSAGES = Counter("overlay_pubsub_commit_messages_total",
                          "Commit messages received through Redis pub/sub (the channels this process attends)")
CLIENTS = Gauge("overlay_connected_clients", "Connected Socket.IO clients", ["namespace"])
STALLED = Counter("overlay_stalled_connections_cut_total",
                  "Socket.IO connections aborted because they stopped reading (overlay/realtime/stalls.py)")
CHANNELS_LOADED = Gauge("overlay_channels_loaded", "Channels whose state is in this process's memory")
QUEUE = Gauge("overlay_alert_queue_length", "Alerts waiting to play", ["channel"])
REQUESTS = Histogram("overlay_http_request_duration_seconds", "HTTP request latency",
                     ["method", "route", "status"],
                     buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5))
INTEGRATION_DELIVERIES = Counter("overlay_integration_deliveries_total",
                                 "Webhook deliveries by outcome: accepted, refused, failed (our 5xx)",
                                 ["channel", "provider", "outcome"])
INTEGRATION_LAST_DELIVERY = Gauge("overlay_integration_last_delivery_timestamp_seconds",
                                  "When this process last received a delivery from the provider (Unix time)",
                                  ["channel", "provider"])
WEBHOOKS = Counter("overlay_webhooks_total", "Webhook deliveries", ["channel", "provider", "outcome"])
FAST_BROADCAST = Gauge("overlay_fast_broadcast",
                       "1: broadcasts are framed once and written directly (start-up self-test passed); "
                       "0: stock python-socketio emission", ["reason"])
COMMITS = Counter("overlay_writer_commits_total", "Writer batch commit attempts", ["channel", "outcome"])
BATCH_OPS = Histogram("overlay_writer_batch_ops", "Operations committed together", ["channel"],
                      buckets=(1, 2, 5, 10, 20, 50, 100, 256))
SOURCE_STATE = Gauge("overlay_source_state",
                     "1 for the state of a source this process runs (it holds the lease): polling, connected, "
                     "throttled, unreachable, disconnected, error", ["channel", "provider", "state"])
GROUP_COMMIT = Histogram("overlay_store_group_commit_channels",
                         "Channels' commits (or lookups) sharing one store transaction or round trip", ["group"], buckets=(1, 2, 5, 10, 20, 50, 100, 200))
