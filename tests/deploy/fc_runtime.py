"""A stand-in for Function Compute's Python runtime, run by the FC runtime's Python (3.12).

Why this exists: the package that deploy/build.sh builds must start and answer on
Python 3.12 with nothing but its own files (the code at the root, the dependencies in
``python/``, as FC lays them out under /code). This script is started with ``-S`` (no
site-packages of the interpreter) and the package first on ``sys.path``; it loads the
handlers as FC does, by name from ``entrypoints.fc``, and calls them on request, one JSON
line in and one out: ``{"call": "webhook_handler", "event": <base64>, "context": {...}}``.
It imports nothing from the tests: the package is on its own.
"""

import base64
import importlib
import json
import sys
import traceback
from types import SimpleNamespace


def main() -> None:
    package = sys.argv[1]
    sys.path[:1] = [package, f"{package}/python"]  # /code and PYTHONPATH=/code/python
    fc = importlib.import_module("entrypoints.fc")  # by name, as FC loads a handler

    out = sys.stdout
    sys.stdout = sys.stderr  # anything the code prints must not break the protocol
    hello = {"python": list(sys.version_info[:2]), "fc": fc.__file__}
    for name in ("av", "lameenc", "tablestore", "mns", "telegram"):
        hello[name] = getattr(__import__(name), "__file__", None)
    out.write(json.dumps(hello) + "\n")
    out.flush()
    for line in sys.stdin:
        request = json.loads(line)
        context = SimpleNamespace(
            request_id=request["context"]["request_id"],
            function=SimpleNamespace(**request["context"]["function"]),
            region="cn-hangzhou",
            account_id="1234567890123456",
        )
        assert request["call"] in ("initializer", "webhook_handler", "worker_handler", "pre_stop")
        handler = getattr(fc, request["call"])
        try:
            if request["call"] in ("initializer", "pre_stop"):
                result = handler(context)
            else:
                result = handler(base64.b64decode(request["event"]), context)
            answer = {"ok": True, "result": result}
        except Exception as error:  # the runtime reports a failed invocation
            answer = {"ok": False, "error": f"{type(error).__name__}: {error}",
                      "traceback": traceback.format_exc()}  # fmt: skip
        out.write(json.dumps(answer, default=str) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
