"""Prometheus metrics of one worker process, served at /metrics."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

WS_CONNECTIONS = Gauge("collab_ws_connections", "Open websocket connections", ["kind"])
ROOMS_LOADED = Gauge("collab_rooms_loaded", "CRDT rooms loaded in this worker")
UPDATES = Counter("collab_updates", "CRDT updates applied", ["source"])
UPDATE_BYTES = Counter("collab_update_bytes", "Bytes of CRDT updates accepted from clients")
REPAIRS = Counter("collab_repairs", "State-vector repairs sent to a peer room")
FRAMES_REJECTED = Counter("collab_frames_rejected", "Frames or connections refused", ["reason"])
COMPACTIONS = Counter("collab_compactions", "Update-log compactions into a snapshot")
FANOUT_LATENCY = Histogram(
    "collab_fanout_latency_seconds",
    "From a worker accepting an update to another worker applying it",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
)
EVENT_LOOP_LAG = Histogram(
    "collab_event_loop_lag_seconds",
    "How late a 100 ms timer fires on the worker's event loop (time the loop was blocked)",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
WS_ADMISSION_WAITS = Counter(
    "collab_ws_admission_waits_total",
    "New websockets that waited in line for a set-up slot instead of being refused",
)
WS_SETUP_SECONDS = Histogram(
    "collab_ws_setup_seconds",
    "From admitting a new websocket to accepting or closing it (authentication, authorisation, room load)",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 4.0, 10.0),
)
LOG_FLUSH_SECONDS = Histogram(
    "collab_log_flush_seconds",
    "Time to write one batch of updates to the durable log",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
OUTBOX_BYTES = Gauge(
    "collab_outbox_bytes", "Accepted CRDT updates not yet written to the database (all rooms of this worker)"
)
LOG_FLUSH_FAILURES = Counter("collab_log_flush_failures", "Failed writes of a batch of updates to the log")
SHUTDOWN_SECONDS = Gauge("collab_shutdown_seconds", "How long the last graceful shutdown took")
