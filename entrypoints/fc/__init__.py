"""voicescribe on Alibaba Cloud Function Compute 3.0 (``deploy/s.yaml`` names these handlers).

``handlers`` translates FC's calls, ``runtime`` keeps the instance's state between them,
``http_event`` speaks HTTP trigger events as ASGI (the webhook app of ``entrypoints.http``
runs unchanged), ``worker_event`` parses the worker's triggers and ``worker_invocation``
runs one worker invocation.
"""

from entrypoints.fc.handlers import initializer, pre_stop, webhook_handler, worker_handler
from entrypoints.fc.runtime import reset_for_tests, runtime, shutdown

__all__ = [
    "initializer",
    "pre_stop",
    "reset_for_tests",
    "runtime",
    "shutdown",
    "webhook_handler",
    "worker_handler",
]
