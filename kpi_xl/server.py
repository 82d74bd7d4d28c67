"""The add-in server: ``kpi-xl serve``, a FastAPI app over the Excel layer.

It serves the Office.js add-in's files (``addin/officejs``, installed as
``kpi_xl.addin``) and the JSON API of docs/addin-protocol.md. Nothing is
computed here: requests are decoded, checked and handed to
``kpi_xl.excel.functions.call_json`` or ``kpi_xl.excel.actions.run_payload``.

What the server guards (docs/security.md, "The add-in server"):

- every ``/api`` call but ``/api/health`` needs ``Authorization: Bearer KEY``
  (compared in constant time), unless the app runs in development mode, which
  the command line allows on a loopback address only;
- request bodies are capped (``max_body_bytes``) before they are parsed, JSON
  is parsed strictly (no NaN; a too-deep nest is refused), payloads are validated with
  sentences a person can act on;
- at most ``max_busy`` computations run at once; more wait up to
  ``busy_timeout`` seconds, then get 503 — the server stays responsive;
- CORS is off unless origins are given (the task pane and custom functions
  are served from this origin, so Office needs none);
- every error is ``{"error": code, "message": sentence}``; a bug answers 500
  with a sentence and the traceback goes to the server's log only.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import threading
from dataclasses import dataclass
from importlib import resources
from typing import Any, Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from .excel import actions, functions

log = logging.getLogger("kpi_xl.server")

MAX_BODY_BYTES = 64 * 1024 * 1024  # a 100,000-row scorecard payload is about 15 MB
STATIC_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
}
STATIC_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
MANIFEST_TEMPLATE = "manifest.template.xml"
INTERNAL_ERROR = (
    "Something went wrong inside kpi_xl; nothing was changed in your workbook. "
    "The server's log has the details."
)
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@dataclass(frozen=True)
class ServerConfig:
    """How the app behaves. ``access_key`` is required unless ``dev`` is true."""

    access_key: str | None = None
    dev: bool = False
    base_url: str = "https://localhost:8000"
    allow_origins: tuple[str, ...] = ()
    max_body_bytes: int = MAX_BODY_BYTES
    max_busy: int = 2
    busy_timeout: float = 60.0

    def __post_init__(self) -> None:
        if not self.dev and not self.access_key:
            raise ValueError("an access key is required outside development mode")
        if self.access_key is not None and len(self.access_key) < 16:
            raise ValueError("the access key must be at least 16 characters long")
        if self.max_busy < 1:
            raise ValueError("max_busy must be at least 1")


class ApiError(Exception):
    """An answer other than 200: status, short code and a sentence for a person."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status, headers=headers)


def addin_files() -> Any:
    """The folder of the Office.js add-in's files (a Traversable)."""
    return resources.files("kpi_xl.addin") / "officejs"


def create_app(config: ServerConfig) -> FastAPI:
    app = FastAPI(
        title="kpi_xl add-in server",
        version=_version(),
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json" if config.dev else None,
    )
    busy = threading.BoundedSemaphore(config.max_busy)
    base_url = config.base_url.rstrip("/")
    key = config.access_key.encode("utf-8") if config.access_key else None

    if config.allow_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(config.allow_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
            max_age=600,
        )

    # ---------------------------------------------------------- errors

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return error_response(exc.status, exc.code, exc.message, headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            return error_response(404, "not_found", f"There is nothing at {request.url.path}.")
        if exc.status_code == 405:
            return error_response(405, "method_not_allowed", f"{request.method} is not allowed on {request.url.path}.")
        return error_response(exc.status_code, "http_error", str(exc.detail))

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        log.exception("internal error on %s %s", request.method, request.url.path)
        return error_response(500, "internal", INTERNAL_ERROR)

    @app.middleware("http")
    async def _headers(request: Request, call_next: Callable) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.url.path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    # ---------------------------------------------------------- helpers

    def authorize(request: Request) -> None:
        if config.dev:
            return
        header = request.headers.get("authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            raise ApiError(401, "unauthorized", "This server needs its access key: enter it in the kpi_xl task pane.")
        assert key is not None
        if not hmac.compare_digest(given.strip().encode("utf-8"), key):
            raise ApiError(401, "unauthorized", "The access key is not right: check it with whoever runs the server.")

    async def read_json(request: Request) -> Any:
        declared = request.headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                raise ApiError(400, "bad_request", "The request's Content-Length is not a number.")
            if int(declared) > config.max_body_bytes:
                raise ApiError(413, "too_large", _too_large(config.max_body_bytes))
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind != "application/json":
            raise ApiError(415, "unsupported_media_type", "Send the request as JSON (Content-Type: application/json).")
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > config.max_body_bytes:
                raise ApiError(413, "too_large", _too_large(config.max_body_bytes))
            chunks.append(chunk)
        return parse_json(b"".join(chunks))

    async def compute(work: Callable[[], Any]) -> Any:
        acquired = await run_in_threadpool(busy.acquire, True, config.busy_timeout)
        if not acquired:
            raise ApiError(503, "busy", "The server is busy with other workbooks; try again in a minute.")
        try:
            return await run_in_threadpool(work)
        except ApiError:
            raise
        except Exception:  # a bug: the log gets the traceback, the user a sentence
            log.exception("internal error")
            raise ApiError(500, "internal", INTERNAL_ERROR) from None
        finally:
            busy.release()

    # ---------------------------------------------------------- API

    @app.get("/api/health")
    def health() -> dict[str, Any]:
        return {"ok": True, "version": _version()}

    @app.get("/api/functions")
    def list_functions(request: Request) -> dict[str, Any]:
        authorize(request)
        return functions.office_metadata()

    @app.post("/api/functions/{name}")
    async def call_function(name: str, request: Request) -> dict[str, Any]:
        authorize(request)
        if name not in functions.FUNCTIONS:
            raise ApiError(404, "unknown_function", f"There is no function {name[:60]!r}; see /api/functions.")
        body = await read_json(request)

        def work() -> dict[str, Any]:
            try:
                return functions.call_json(name, body)
            except ValueError as problem:
                raise ApiError(422, "bad_arguments", sentence(str(problem))) from None

        return await compute(work)

    @app.get("/api/actions")
    def list_actions(request: Request) -> list[dict[str, Any]]:
        authorize(request)
        return [
            {"name": spec.name, "label": spec.label, "description": spec.description}
            for spec in actions.ACTIONS.values()
        ]

    @app.post("/api/actions/{name}")
    async def run_action(name: str, request: Request) -> dict[str, Any]:
        authorize(request)
        if name not in actions.ACTIONS:
            raise ApiError(404, "unknown_action", f"There is no button {name[:60]!r}; see /api/actions.")
        payload = await read_json(request)

        def work() -> dict[str, Any]:
            try:
                return actions.run_payload(name, payload)
            except ValueError as problem:
                raise ApiError(422, "bad_payload", sentence(str(problem))) from None

        return await compute(work)

    # ---------------------------------------------------------- the add-in's files

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/taskpane.html")

    @app.get("/manifest.xml", include_in_schema=False)
    def manifest() -> Response:
        template = (addin_files() / MANIFEST_TEMPLATE).read_text(encoding="utf-8")
        return Response(template.replace("{{BASE_URL}}", base_url), media_type="application/xml")

    @app.get("/functions.json", include_in_schema=False)
    def functions_json() -> dict[str, Any]:
        return functions.office_metadata()

    @app.get("/assets/{name}", include_in_schema=False)
    def asset(name: str) -> Response:
        return static_file(addin_files() / "assets", name)

    @app.get("/{name}", include_in_schema=False)
    def page(name: str) -> Response:
        return static_file(addin_files(), name)

    return app


def static_file(folder: Any, name: str) -> Response:
    """A file of the add-in by its bare name: no paths, no hidden files, known types only."""
    suffix = name[name.rfind("."):].lower() if "." in name else ""
    if not STATIC_NAME.match(name) or suffix not in STATIC_TYPES:
        raise ApiError(404, "not_found", f"There is nothing at /{name[:60]}.")
    target = folder / name
    if not target.is_file():
        raise ApiError(404, "not_found", f"There is nothing at /{name[:60]}.")
    return Response(target.read_bytes(), media_type=STATIC_TYPES[suffix], headers={"Cache-Control": "no-cache"})


def parse_json(data: bytes) -> Any:
    """Strict JSON: UTF-8, no NaN/Infinity; a nest too deep for the parser is refused, not a crash."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "bad_json", "The request body is not UTF-8 text.") from None
    try:
        return json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise ApiError(400, "bad_json", "The request body is nested too deeply to be a workbook.") from None
    except ValueError as problem:
        raise ApiError(400, "bad_json", f"The request body is not valid JSON ({problem}).") from None


def sentence(text: str) -> str:
    """A message as a sentence: capital first letter, full stop at the end."""
    text = text.strip()
    if text and text[0].islower():
        text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?", "。")) else text + "."


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _too_large(limit: int) -> str:
    return (
        f"The workbook sent is larger than this server accepts ({limit // (1024 * 1024)} MB); "
        "score it with kpi-xl score instead."
    )


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("kpi_xl")
    except PackageNotFoundError:
        return "0+unknown"


# ------------------------------------------------------------------ running it


def is_loopback(host: str) -> bool:
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def new_access_key() -> str:
    import secrets

    return secrets.token_urlsafe(24)


def uvicorn_config(app: Any, host: str, port: int, certfile: str | None = None, keyfile: str | None = None,
                   log_level: str = "info") -> Any:
    """How uvicorn serves the app (also used by the tests, so they test what runs)."""
    import uvicorn

    return uvicorn.Config(
        app,
        host=host,
        port=port,
        ssl_certfile=certfile,
        ssl_keyfile=keyfile,
        log_level=log_level,
        server_header=False,  # do not advertise the server software
        timeout_keep_alive=5,
    )


def run(config: ServerConfig, host: str, port: int, certfile: str | None = None, keyfile: str | None = None) -> None:
    """Serve the app with uvicorn until interrupted (Ctrl+C)."""
    import uvicorn

    if config.dev and not is_loopback(host):
        raise ValueError("development mode (no access key) is allowed on this computer only: use --host 127.0.0.1")
    uvicorn.Server(uvicorn_config(create_app(config), host, port, certfile, keyfile)).run()
