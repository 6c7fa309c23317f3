"""Open Runtimes v5 function server for Python, stdlib only.

Loads ``function.<entrypoint>`` (the code lives in ``/usr/local/server/src/function``), calls
``main(context)`` for each request and answers the way the v5 runtime does. Listens on the
Unix socket ``OPEN_RUNTIMES_SOCKET`` when set, else on TCP port ``OPEN_RUNTIMES_PORT`` (3000).
Async ``main`` runs on the event loop; a sync ``main`` runs in a worker thread, so a slow sync
function neither blocks other requests nor escapes the soft timeout.
"""

import asyncio
import contextlib
import contextvars
import importlib
import inspect
import json
import os
import re
import signal
import sys
import traceback
from concurrent.futures import ThreadPoolExecutor

import opr_context
import opr_http
from opr_context import Context, Logger

TIMEOUT_ERROR = 'Header "x-open-runtimes-timeout" must be an integer greater than 0.'
SECRET_ERROR = 'Unauthorized. Provide correct "x-open-runtimes-secret" header.'
RETURN_MISSING = "Return statement missing. return context.res.empty() if no response is expected."
SIGNATURE_INVALID = "Function signature invalid. Did you forget to export a 'main' function?"
TEXT_PLAIN = "text/plain; charset=utf-8"
QS_KEEP = "+&=;"
ESCAPES = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
RUNTIME_PREFIX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "opr_")


def _is_runtime_frame(frame):
    name = frame.filename
    return name.startswith(RUNTIME_PREFIX) or "/concurrent/futures/" in name or "/asyncio/" in name


def format_exception(error):
    """The traceback text of an error raised by user code, without the runtime's own
    leading frames (the server, asyncio and the worker thread)."""
    trace = traceback.TracebackException.from_exception(error)
    pending = [trace]
    while pending:
        current = pending.pop()
        frames = list(current.stack)
        while len(frames) > 1 and _is_runtime_frame(frames[0]):
            frames.pop(0)
        current.stack = traceback.StackSummary.from_list(frames)
        pending.extend(chained for chained in (current.__cause__, current.__context__) if chained)
    return "".join(trace.format())


def _decode_escapes(match, keep):
    text = bytes.fromhex(match.group(0).replace("%", "")).decode("utf-8", "surrogateescape")
    out = []
    for char in text:
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:  # not valid UTF-8: keep the escape as it was
            out.append(f"%{code - 0xDC00:02X}")
        elif char in keep:
            out.append(f"%{code:02X}")
        else:
            out.append(char)
    return "".join(out)


def unquote(value, keep=""):
    """Percent-decode like yarl: escapes that are not valid UTF-8 and characters in ``keep``
    stay escaped."""
    if "%" not in value:
        return value
    return ESCAPES.sub(lambda match: _decode_escapes(match, keep), value)


def unquote_query(value):
    """A raw query string decoded as yarl's ``query_string`` (what aiohttp gives): ``+`` is a
    space, and the query delimiters ``+&=;`` stay escaped."""
    return unquote(value.replace("+", " "), QS_KEEP)


def parse_query(query_string):
    query = {}
    for param in query_string.split("&"):
        key, _, value = param.partition("=")
        if key:
            query[key] = value
    return query


def module_name(entrypoint):
    path = entrypoint[2:] if entrypoint.startswith("./") else entrypoint
    if path.endswith(".py"):
        path = path[:-3]
    return "function." + path.replace("/", ".")


class LoadError(Exception):
    """The entrypoint cannot serve: answered 503 with this message in the errors."""


class Runtime:
    def __init__(self, env, pool):
        self.secret = env.get("OPEN_RUNTIMES_SECRET", "")
        self.entrypoint = env.get("OPEN_RUNTIMES_ENTRYPOINT", "main.py")
        self.logs_dir = env.get("OPEN_RUNTIMES_LOGS_DIR", "/mnt/logs")
        self.development = env.get("OPEN_RUNTIMES_ENV") == "development"
        self.forced_headers = {
            str(k).lower(): str(v)
            for k, v in json.loads(env.get("OPEN_RUNTIMES_HEADERS") or "{}").items()
        }
        self.pool = pool
        self.module = None

    # -- request -> context ------------------------------------------------------------
    def build_context(self, request, logger):
        context = Context(logger)
        req = context.req
        req.body_binary = request.body
        req.method = request.method
        raw_path, _, raw_query = request.target.partition("?")
        req.path = unquote(raw_path)
        req.query_string = unquote_query(raw_query)
        req.query = parse_query(req.query_string)
        headers = {}
        for name, value in request.headers:
            if not name.startswith("x-open-runtimes-"):
                headers.setdefault(name, value)
        headers.update(self.forced_headers)
        req.headers = headers
        req.scheme = headers.get("x-forwarded-proto", "http")
        default_port = 443 if req.scheme == "https" else 80
        host = headers.get("host", "")
        req.host, _, port = host.partition(":")
        req.port = int(port) if port.isdigit() else default_port
        req.url = f"{req.scheme}://{req.host}"
        if req.port != default_port:
            req.url += f":{req.port}"
        req.url += req.path
        if req.query_string:
            req.url += "?" + req.query_string
        return context

    # -- user code -----------------------------------------------------------------------
    async def in_thread(self, func, *args):
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool, contextvars.copy_context().run, func, *args)

    async def load(self):
        """The entrypoint's module, loaded once; a module that cannot serve raises LoadError
        with open-runtimes' 503 message (its "safe entrypoints")."""
        if self.module is None:
            if not os.path.isfile(os.path.join("function", self.entrypoint)):
                raise LoadError(
                    f"Failed to load entrypoint, file {self.entrypoint} does not exist."
                )
            try:
                module = await self.in_thread(importlib.import_module, module_name(self.entrypoint))
            except SyntaxError as error:
                where = f"{os.path.basename(error.filename or self.entrypoint)}:{error.lineno}"
                raise LoadError(f"Syntax error in {where}: {error.msg}") from error
            except ModuleNotFoundError as error:
                raise LoadError(f"Module not found: {error.name}") from error
            except Exception as error:  # noqa: BLE001 - any import failure is the user's
                raise LoadError(f"Failed to load module: {format_exception(error)}") from error
            if not callable(getattr(module, "main", None)):
                raise LoadError(SIGNATURE_INVALID)
            self.module = module
        return self.module

    async def execute(self, context):
        main = self.module.main
        if inspect.iscoroutinefunction(main):
            output = await main(context)
        else:
            output = await self.in_thread(main, context)
        if inspect.isawaitable(output):
            output = await output
        return output

    async def run_user_code(self, context, timeout):
        buffer = opr_context.start_capture()
        try:
            if timeout is None:
                return await self.execute(context)
            async with asyncio.timeout(timeout):  # no extra task, unlike wait_for
                return await self.execute(context)
        except TimeoutError:
            context.error("Execution timed out.")
        except (Exception, SystemExit) as error:
            context.error(format_exception(error))
        finally:
            opr_context.stop_capture(buffer, context.logger)
        return context.res.text("", 500, {})

    # -- HTTP ----------------------------------------------------------------------------
    async def handle(self, request):
        path = request.target.partition("?")[0]
        if path == "/__opr/health":
            return 200, [("content-type", TEXT_PLAIN)], b"OK"
        if path == "/__opr/timings":
            return 200, [("content-type", TEXT_PLAIN)], read_timings()
        logger = Logger(
            request.header("x-open-runtimes-logging"),
            request.header("x-open-runtimes-log-id"),
            self.logs_dir,
            self.development,
        )
        try:
            return await self.action(request, logger)
        except Exception as error:  # noqa: BLE001 - report any failure as a 500 with its trace
            logger.write([format_exception(error)], Logger.TYPE_ERROR)
            headers = [("content-type", TEXT_PLAIN), ("x-open-runtimes-log-id", logger.id)]
            return 500, headers, b""
        finally:
            logger.end()

    async def action(self, request, logger):
        timeout = request.header("x-open-runtimes-timeout")
        if timeout and (not timeout.isdigit() or int(timeout) == 0):
            return 500, [("content-type", TEXT_PLAIN)], TIMEOUT_ERROR.encode()
        if self.secret and request.header("x-open-runtimes-secret") != self.secret:
            return 500, [("content-type", TEXT_PLAIN)], SECRET_ERROR.encode()
        try:
            await self.load()
        except LoadError as error:
            logger.write([str(error)], Logger.TYPE_ERROR)
            return 503, [("content-type", TEXT_PLAIN), ("x-open-runtimes-log-id", logger.id)], b""
        context = self.build_context(request, logger)
        output = await self.run_user_code(context, int(timeout) if timeout else None)
        if output is None:
            context.error(RETURN_MISSING)
            output = context.res.text("", 500, {})
        status, headers, body = normalise(output)
        headers.append(("x-open-runtimes-log-id", logger.id))
        return status, headers, body


def read_timings():
    try:
        with open("/mnt/telemetry/timings.txt", "rb") as handle:
            return handle.read()
    except OSError:
        return b""


def encode_body(body):
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    if isinstance(body, (dict, list, tuple, int, float, bool)):
        return json.dumps(body, separators=(",", ":")).encode("utf-8")
    raise TypeError(f"Response body of type {type(body).__name__} is not supported.")


def header_value(value):
    text = str(value)
    if "\r" in text or "\n" in text:
        raise ValueError(f"Invalid response header value: {text!r}")
    return text


def normalise(output):
    """The user's ``{body, statusCode, headers}`` as (status, [(name, value)], bytes)."""
    if not hasattr(output, "get"):
        raise TypeError(
            f"Function returned {type(output).__name__}; return one of the context.res.* results."
        )
    status = int(output.get("statusCode", 200))
    if not 100 <= status <= 999:
        raise ValueError(f"Invalid response status code: {status}")
    body = encode_body(output.get("body", ""))
    headers, content_type = [], "text/plain"
    for key, value in (output.get("headers") or {}).items():
        name = str(key).lower()
        if name.startswith("x-open-runtimes-") or name in (
            "content-length",
            "transfer-encoding",
            "connection",
        ):
            continue
        if name == "content-type":
            content_type = str(value)
            continue
        for item in value if isinstance(value, (list, tuple)) else [value]:
            headers.append((name, header_value(item)))
    content_type = header_value(content_type).lower()
    if not content_type.startswith("multipart/") and "charset=" not in content_type:
        content_type += "; charset=utf-8"
    headers.insert(0, ("content-type", content_type))
    return status, headers, body


def main():
    env = os.environ
    opr_context.install_native_capture()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    pool = ThreadPoolExecutor(int(env.get("OPEN_RUNTIMES_THREADS") or 16), thread_name_prefix="opr")
    loop.set_default_executor(pool)
    runtime = Runtime(env, pool)
    socket_path = env.get("OPEN_RUNTIMES_SOCKET", "")
    port = int(env.get("OPEN_RUNTIMES_PORT") or 3000)
    loop.run_until_complete(opr_http.start(runtime.handle, socket_path=socket_path, port=port))
    print("HTTP server successfully started!", flush=True)
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, loop.stop)
    loop.run_forever()
    if socket_path:
        with contextlib.suppress(OSError):
            os.unlink(socket_path)
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
