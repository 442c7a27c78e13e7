"""`hw styles capture`: a local page that records the user's handwriting and saves it as a style.

A stdlib HTTP server in a thread serves hwcli/assets/capture/index.html (no network resources)
on 127.0.0.1; the page shows a sentence at a time, records pointer events (pen, touch and
mouse) on a canvas, and POSTs the strokes of every sentence written to /api/save when the
user presses Save. The server checks them (shape, numbers, sizes) and stores the style
through hwcli/generate/library.py, which writes atomically: a page closed midway, a bad
payload or Ctrl-C leave nothing in the library.

HTTP API (JSON both ways; every error is 4xx with {"error": "one line"}):

    GET  /             the page, its settings (sentences, token, limits) inside
    POST /api/save     {"lines": [{"text": SENTENCE, "strokes": [[[x, y, t?], ...], ...]}, ...]}
                       header X-HW-Token: the page's token; screen coordinates (y down)
                       -> 200 {"saved": NAME, "path": ..., "lines": N}; the session ends
    POST /api/closed?token=...   the page went away (pagehide beacon): unless it comes back
                       (a reload) within `close_grace` seconds, the session ends, unsaved

The token (in the page, not guessable) keeps other web pages the browser has open from
posting to the server; the Host header check keeps DNS-rebinding pages out.
"""

from __future__ import annotations

import ipaddress
import json
import math
import secrets
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from hwcli import paths
from hwcli.errors import DataError, HwError, UsageError

MAX_BODY_BYTES = 5_000_000
MAX_STROKES_PER_LINE = 2_000
MAX_COORDINATE = 1e6
# Sentences to write: short, common words, between them every letter of the alphabet.
SENTENCES = (
    "The quick brown fox jumps over the lazy dog.",
    "Pack my box with five dozen liquor jugs.",
    "Sphinx of black quartz, judge my vow.",
    "How vexingly quick daft zebras jump!",
    "We met at noon by the old river bridge.",
    "Bright vixens jump; dozy fowl quack.",
    "A small cup of tea and a slice of bread.",
    "Jackdaws love my big sphinx of quartz.",
    "Write a line or two in your own hand.",
    "Good morning, see you at seven.",
)


def is_local(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass
class Outcome:
    kind: str  # "saved" or "closed"
    path: Path | None = None
    lines: int = 0


class CaptureSession:
    """The capture server: `start()`, the user writes, `wait()` -> Outcome, `close()`."""

    def __init__(self, name: str, sentences: int = 3, host: str = "127.0.0.1", port: int = 0,
                 force: bool = False, allow_remote: bool = False, close_grace: float = 5.0):
        from hwcli.generate import library

        if not is_local(host) and not allow_remote:
            raise UsageError(f"--host {host} is not this machine: the page would be open to the network; "
                             "add --allow-remote if that is what you want")
        if not 1 <= sentences <= len(SENTENCES):
            raise UsageError(f"--sentences must be 1 to {len(SENTENCES)}, not {sentences}")
        library.check_free(name, force)  # a taken name: say so now, not after the user wrote
        self.name, self.force, self.allow_remote = name, force, allow_remote
        self.sentences = list(SENTENCES[:sentences])
        self.token = secrets.token_urlsafe(18)
        self.close_grace = close_grace
        self.done = threading.Event()
        self.outcome: Outcome | None = None
        self._lock = threading.Lock()
        self._close_timer: threading.Timer | None = None
        self._page = (paths.assets_dir() / "capture" / "index.html").read_text(encoding="utf-8")
        server_class = _Server6 if ":" in host else ThreadingHTTPServer
        try:
            self.server = server_class((host.strip("[]"), port), _handler(self))
        except OSError as error:
            raise DataError(f"cannot serve on {host}:{port}: {error.strerror or error}") from None
        self.server.daemon_threads = True
        self.host = host
        self.port = self.server.server_address[1]
        self._thread: threading.Thread | None = None
        self._closed = False

    @property
    def url(self) -> str:
        host = f"[{self.host.strip('[]')}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def start(self) -> "CaptureSession":
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="hw-capture", daemon=True)
        self._thread.start()
        return self

    def wait(self, timeout: float | None = None) -> Outcome | None:
        """The outcome once the session ends (None on timeout); short waits so Ctrl-C gets through."""
        import time

        end = None if timeout is None else time.monotonic() + timeout
        while not self.done.wait(0.2):
            if end is not None and time.monotonic() > end:
                return None
        return self.outcome

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with self._lock:
            if self._close_timer:
                self._close_timer.cancel()
        if self._thread is not None:
            self.server.shutdown()
            self._thread.join(5)
        self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------ what the handler calls

    def page(self) -> bytes:
        from hwcli.generate import library

        with self._lock:  # the page is back (a reload): not closed after all
            if self._close_timer:
                self._close_timer.cancel()
                self._close_timer = None
        settings = {"name": self.name, "sentences": self.sentences, "token": self.token,
                    "maxBytes": MAX_BODY_BYTES, "maxPoints": library.MAX_POINTS}
        blob = json.dumps(settings).replace("</", "<\\/")
        return self._page.replace('"__HW_SETTINGS__"', blob).encode("utf-8")

    def save(self, payload) -> dict:
        """Check a /api/save payload and store the style; HwError says what is wrong."""
        from hwcli.generate import library

        if self.done.is_set() or self.outcome:
            raise UsageError("this capture session has ended")
        lines = self._lines(payload)
        with self._lock:
            if self.done.is_set() or self.outcome:
                raise UsageError("this capture session has ended")
            path = library.add(self.name, [lines], self.force, source="capture")
            self.outcome = Outcome("saved", path, len(lines))  # done once the page has its answer
        return {"saved": self.name, "path": str(path), "lines": len(lines)}

    def closed(self) -> None:
        def end():
            with self._lock:
                if not self.done.is_set() and not self.outcome:
                    self.outcome = Outcome("closed")
                    self.done.set()

        with self._lock:
            if self._close_timer:
                self._close_timer.cancel()
            self._close_timer = threading.Timer(self.close_grace, end)
            self._close_timer.daemon = True
            self._close_timer.start()

    def _lines(self, payload):
        import numpy as np

        from hwcli.generate import library

        if not isinstance(payload, dict) or not isinstance(payload.get("lines"), list):
            raise DataError('expected {"lines": [{"text": ..., "strokes": [[[x, y], ...], ...]}, ...]}')
        raw_lines = payload["lines"]
        if not raw_lines:
            raise DataError("nothing written yet: write the sentence, then Save")
        if len(raw_lines) > len(self.sentences):
            raise DataError(f"{len(raw_lines)} lines sent for {len(self.sentences)} sentences")
        lines, total = [], 0
        for n, raw in enumerate(raw_lines, start=1):
            if not isinstance(raw, dict) or not isinstance(raw.get("strokes"), list):
                raise DataError(f'line {n}: expected {{"text": ..., "strokes": [...]}}')
            text = raw.get("text")
            if text not in self.sentences:
                raise DataError(f"line {n}: its text is not one of the sentences this page showed")
            strokes = raw["strokes"]
            if not strokes:
                raise DataError(f"line {n} ({text!r}) has no strokes: write it, or leave it out")
            if len(strokes) > MAX_STROKES_PER_LINE:
                raise DataError(f"line {n} has {len(strokes)} strokes; at most {MAX_STROKES_PER_LINE}")
            arrays = []
            for s, stroke in enumerate(strokes, start=1):
                if not isinstance(stroke, list) or not stroke:
                    raise DataError(f"line {n}, stroke {s}: expected a list of [x, y] points")
                total += len(stroke)
                if total > library.MAX_POINTS:
                    raise DataError(f"too many points: a style may hold at most {library.MAX_POINTS}")
                points = []
                for point in stroke:
                    if (not isinstance(point, list) or len(point) < 2
                            or not all(_number(v) for v in point[:2])):
                        raise DataError(f"line {n}, stroke {s}: a point is not [x, y] numbers")
                    points.append((point[0], -point[1]))  # screen y down -> y up
                arrays.append(np.array(points, np.float64) + 0.0)
            lines.append(library.check_line(library.Line(arrays, text), f"line {n} ({text!r})"))
        return lines


def _number(value) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value) and abs(value) <= MAX_COORDINATE)


class _Server6(ThreadingHTTPServer):
    import socket

    address_family = socket.AF_INET6


def _handler(session: CaptureSession):
    class Handler(BaseHTTPRequestHandler):
        server_version = "hw-capture"
        protocol_version = "HTTP/1.0"
        timeout = 15  # a client that sends less than its Content-Length

        def log_message(self, format, *args):  # quiet: the CLI says what matters
            pass

        def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            if content_type.startswith("text/html"):
                self.send_header("Content-Security-Policy",
                                 "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                                 "connect-src 'self'; img-src 'self' data:")
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, document: dict) -> None:
            self._send(status, json.dumps(document).encode("utf-8"))

        def _host_ok(self) -> bool:
            if session.allow_remote:
                return True
            host = (self.headers.get("Host") or "").rsplit(":", 1)[0].strip("[]")
            if is_local(host):
                return True
            self._json(403, {"error": f"Host {host!r} is not this machine"})
            return False

        def do_GET(self):
            if not self._host_ok():
                return
            if urlsplit(self.path).path in ("/", "/index.html"):
                self._send(200, session.page(), "text/html; charset=utf-8")
            else:
                self._json(404, {"error": f"no page {urlsplit(self.path).path}"})

        def do_POST(self):
            if not self._host_ok():
                return
            url = urlsplit(self.path)
            if url.path == "/api/closed":
                if parse_qs(url.query).get("token", [""])[0] == session.token:
                    session.closed()
                    self._json(200, {"ok": True})
                else:
                    self._json(403, {"error": "wrong or missing token"})
                return
            if url.path != "/api/save":
                self._json(404, {"error": f"no endpoint {url.path}"})
                return
            if self.headers.get("X-HW-Token") != session.token:
                self._json(403, {"error": "wrong or missing X-HW-Token"})
                return
            if not (self.headers.get("Content-Type") or "").startswith("application/json"):
                self._json(415, {"error": "send the strokes as application/json"})
                return
            try:
                length = int(self.headers.get("Content-Length") or "")
            except ValueError:
                self._json(411, {"error": "a Content-Length is needed"})
                return
            if length > MAX_BODY_BYTES or length < 0:
                self._json(413, {"error": f"the ink is {length} bytes; at most {MAX_BODY_BYTES} are taken"})
                return
            body = self.rfile.read(length)
            try:
                payload = json.loads(body)
            except (ValueError, UnicodeDecodeError) as error:
                self._json(400, {"error": f"not valid JSON: {str(error).splitlines()[0]}"})
                return
            try:
                answer = session.save(payload)
            except HwError as error:
                self._json(400, {"error": str(error)})
                return
            self._json(200, answer)
            self.wfile.flush()
            session.done.set()

    return Handler
