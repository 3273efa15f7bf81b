"""Prometheus metrics the library records (imports, predictions); served by ``GET /metrics``.

The objects live on the default registry, once per process. With several worker processes set
``PROMETHEUS_MULTIPROC_DIR`` to an empty, writable folder before start-up: every process then writes its
samples there and ``GET /metrics`` adds them up (prometheus-client's multiprocess mode).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

NAMESPACE = "student_success"

HTTP_LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time to answer an HTTP request, by route template, method and status.",
    ["route", "method", "status"],
    namespace=NAMESPACE,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
IMPORTS = Counter(
    "imports",
    "Gradebook imports, by source type and outcome (completed, unchanged, failed).",
    ["source_type", "outcome"],
    namespace=NAMESPACE,
)
PREDICTIONS = Counter(
    "predictions_scored",
    "Predictions written by imports, by model variant.",
    ["variant"],
    namespace=NAMESPACE,
)
ACTIVE_MODEL = Gauge(
    "active_model_info",
    "1 for the active model version (label version; 'none' when no model is active).",
    ["version"],
    namespace=NAMESPACE,
    multiprocess_mode="liveall",
)


def record_import(
    source_type: str, outcome: str, *, predictions: int = 0, variant: str | None = None
) -> None:
    """Count one import attempt and the predictions it wrote."""
    IMPORTS.labels(source_type=source_type or "unknown", outcome=outcome).inc()
    if predictions:
        PREDICTIONS.labels(variant=variant or "unknown").inc(predictions)
