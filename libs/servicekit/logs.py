"""JSON log lines that carry the app id, and the request id and trace id of the call being served."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from servicekit.context import current_request_id
from servicekit.tracing import current_trace_id


class JsonFormatter(logging.Formatter):
    def __init__(self, app_id: str) -> None:
        super().__init__()
        self.app_id = app_id

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "app": self.app_id,
            "logger": record.name,
            "requestId": current_request_id(),
            "traceId": current_trace_id(),
            "message": record.getMessage(),
        }
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            line.update(extra)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure_logging(app_id: str, level: str = "INFO") -> None:
    """Send every logger, uvicorn's included, to stdout as JSON lines."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(app_id))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True
    logging.getLogger("httpx").setLevel(logging.WARNING)
