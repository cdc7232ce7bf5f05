# policy-check's Python bootstrap for a local Lambda execution environment: it loads the handler named by
# `_HANDLER` (`file.function`, `file.py` resolved in `LAMBDA_TASK_ROOT`) and serves invocations through
# the Lambda Runtime API at `AWS_LAMBDA_RUNTIME_API`, as the documented protocol says ("Using the Lambda
# runtime API for custom runtimes"): GET .../invocation/next, then POST .../invocation/{id}/response or
# .../invocation/{id}/error; POST .../init/error when the handler cannot be loaded. Written for
# policy-check from that documentation. Handlers are `def handler(event, context)`.
import http.client
import importlib.util
import json
import os
import sys
import time
import traceback

BASE = "/2018-06-01/runtime"
_host, _, _port = os.environ.get("AWS_LAMBDA_RUNTIME_API", "").rpartition(":")
_conn = http.client.HTTPConnection(_host, int(_port or 0))


def call(method, path, body=None, headers=None):
    _conn.request(method, BASE + path, body=body, headers=headers or {})
    r = _conn.getresponse()
    return r.status, r.headers, r.read()


class RuntimeError_(Exception):
    def __init__(self, kind, message):
        super().__init__(message)
        self.kind = kind


def error_body(e):
    kind = getattr(e, "kind", None) or type(e).__name__
    return {
        "errorMessage": str(e),
        "errorType": kind,
        "stackTrace": traceback.format_tb(e.__traceback__) if e.__traceback__ else [],
    }


class Context:
    def __init__(self, headers, request_id):
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = headers.get("Lambda-Runtime-Invoked-Function-Arn")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self._deadline = int(headers.get("Lambda-Runtime-Deadline-Ms") or 0)
        self.identity = None
        self.client_context = None

    def get_remaining_time_in_millis(self):
        return max(0, self._deadline - int(time.time() * 1000))


def load():
    root = os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd()
    handler = os.environ.get("_HANDLER", "")
    module, _, fn = handler.rpartition(".")
    if not module or not fn:
        raise RuntimeError_("Runtime.MalformedHandlerName", "Bad handler '%s'" % handler)
    sys.path.insert(0, root)
    file = os.path.join(root, module.replace("/", os.sep) + ".py")
    if not os.path.isfile(file):
        raise RuntimeError_(
            "Runtime.ImportModuleError",
            "Unable to import module '%s': No module named '%s'" % (module, module),
        )
    try:
        spec = importlib.util.spec_from_file_location(module.replace("/", "."), file)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = mod
        spec.loader.exec_module(mod)
    except Exception as e:  # the user's module failed to import
        raise RuntimeError_(
            "Runtime.ImportModuleError", "Unable to import module '%s': %s" % (module, e)
        )
    f = getattr(mod, fn, None)
    if not callable(f):
        raise RuntimeError_(
            "Runtime.HandlerNotFound", "Handler '%s' missing on module '%s'" % (fn, module)
        )
    return f


def main():
    try:
        handler = load()
    except Exception as e:
        body = error_body(e)
        call(
            "POST",
            "/init/error",
            json.dumps(body),
            {"Content-Type": "application/json", "Lambda-Runtime-Function-Error-Type": body["errorType"]},
        )
        sys.exit(1)
    while True:
        _, headers, data = call("GET", "/invocation/next")
        request_id = headers.get("Lambda-Runtime-Aws-Request-Id")
        os.environ["_X_AMZN_TRACE_ID"] = headers.get("Lambda-Runtime-Trace-Id") or ""
        try:
            event = json.loads(data)
            result = handler(event, Context(headers, request_id))
            try:
                body = json.dumps(result)
            except (TypeError, ValueError) as e:
                raise RuntimeError_(
                    "Runtime.MarshalError", "Unable to marshal response: %s" % e
                )
        except Exception as e:
            err = error_body(e)
            call(
                "POST",
                "/invocation/%s/error" % request_id,
                json.dumps(err),
                {"Content-Type": "application/json", "Lambda-Runtime-Function-Error-Type": err["errorType"]},
            )
            continue
        call(
            "POST",
            "/invocation/%s/response" % request_id,
            body,
            {"Content-Type": "application/json"},
        )


if __name__ == "__main__":
    main()
