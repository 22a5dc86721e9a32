"""Every log line about a call carries its UUID."""
import logging


class CallLogger(logging.LoggerAdapter):
    def __init__(self, logger: logging.Logger, call_uuid: str | None):
        super().__init__(logger, {"call_uuid": call_uuid or "-"})

    def process(self, msg, kwargs):
        return f"[{self.extra['call_uuid']}] {msg}", kwargs


def call_logger(name: str, call_uuid: str | None) -> CallLogger:
    return CallLogger(logging.getLogger(name), call_uuid)
