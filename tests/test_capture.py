"""`hw styles capture` (hwcli/generate/capture.py, hwcli/assets/capture/index.html): the server's
HTTP API driven with urllib (bad payloads answered 400 with a message, nothing saved), the CLI
stopped by Ctrl-C, and the page in headless Chromium written on with synthetic pen, mouse and
touch input through the Chrome DevTools Protocol (over --remote-debugging-pipe: no extra
dependency), saved, and closed midway. The browser tests skip, saying why, without Chromium.
"""

from __future__ import annotations

import http.client
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from hwcli.data.inkfile import read_ink
from hwcli.errors import UsageError
from hwcli.generate import library
from hwcli.generate.capture import SENTENCES, CaptureSession

CHROMIUM = next((Path(p) for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
                 if Path(p).exists()), None)
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium at /usr/bin/chromium "
                                    "(apt-get install chromium); the capture page's browser tests need it")


# ---------------------------------------------------------------- the HTTP API


NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # 127.0.0.1 direct, whatever the env says


def request(session, path, payload=None, token=True, body=None, headers=None, method=None):
    """(status, JSON answer) of a request to the session's server."""
    data = body if body is not None else (None if payload is None else json.dumps(payload).encode())
    head = {"Content-Type": "application/json"}
    if token:
        head["X-HW-Token"] = session.token
    head.update(headers or {})
    req = urllib.request.Request(session.url.rstrip("/") + path, data=data, headers=head, method=method)
    try:
        with NO_PROXY.open(req, timeout=20) as answer:
            raw = answer.read()
            return answer.status, (json.loads(raw) if answer.headers.get_content_type() == "application/json" else raw)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def line(text=SENTENCES[0], n=3, points=20):
    """Screen strokes (y down) of a wavy line: n strokes side by side."""
    strokes = []
    for k in range(n):
        x = np.linspace(0, 30, points) + 40 * k
        y = 100 + 15 * np.sin(x / 5)
        strokes.append(np.column_stack([x, y, np.arange(points) * 8]).round(2).tolist())
    return {"text": text, "strokes": strokes}


@pytest.fixture
def session(hw_home):
    with CaptureSession("mine", sentences=2) as s:
        yield s


def test_the_page_is_served_with_its_settings_and_nothing_from_the_network(session):
    status, page = request(session, "/", token=False)
    assert status == 200
    html = page.decode()
    assert '"__HW_SETTINGS__"' not in html and session.token in html and SENTENCES[1] in html
    assert "touch-action: none" in html and "getCoalescedEvents" in html
    for needle in ("http://", "https://", "//cdn", "<link", "src="):
        assert needle not in html.replace(session.url, ""), needle


def test_a_good_payload_is_saved_as_a_style(session, hw_home):
    status, answer = request(session, "/api/save", {"lines": [line(SENTENCES[0]), line(SENTENCES[1], n=2)]})
    assert status == 200, answer
    assert answer["saved"] == "mine" and answer["lines"] == 2
    assert session.wait(10).kind == "saved"
    lines = library.read_style(hw_home / "styles" / "mine.json").lines
    assert [ln.text for ln in lines] == list(SENTENCES[:2])
    assert [len(ln.strokes) for ln in lines] == [3, 2]
    # Screen y down -> y up: the sine's peaks on screen (larger y) are troughs in the stored ink.
    first = lines[0].strokes[0]
    assert np.corrcoef(first[:, 1], -np.sin(np.linspace(0, 30, 20) / 5))[0, 1] > 0.99
    # A session ends with its save: a second one is refused, the style kept as it was.
    before = (hw_home / "styles" / "mine.json").read_bytes()
    status, answer = request(session, "/api/save", {"lines": [line()]})
    assert status == 400 and "ended" in answer["error"]
    assert (hw_home / "styles" / "mine.json").read_bytes() == before


BAD_PAYLOADS = [
    ({}, "expected"),
    ({"lines": []}, "nothing written"),
    ({"lines": "abc"}, "expected"),
    ({"lines": [{"text": SENTENCES[0], "strokes": []}]}, "no strokes"),
    ({"lines": [{"text": "not the sentence", "strokes": line()["strokes"]}]}, "not one of the sentences"),
    ({"lines": [{"text": SENTENCES[0], "strokes": [[[5, 5]]]}]}, "single dot"),
    ({"lines": [{"text": SENTENCES[0], "strokes": [[[5, 5], [5, 5], [5, 5]]]}]}, "single dot"),
    ({"lines": [{"text": SENTENCES[0], "strokes": [[[0, 5], [30, 5]]]}]}, "flat"),
    ({"lines": [{"text": SENTENCES[0], "strokes": [[[0, 5], ["a", 5]]]}]}, "not [x, y] numbers"),
    ({"lines": [{"text": SENTENCES[0], "strokes": [[[0, 5], [1e300, 5]]]}]}, "not [x, y] numbers"),
    ({"lines": [{"text": SENTENCES[0], "strokes": [[[0, 5], [True, 5]]]}]}, "not [x, y] numbers"),
    ({"lines": [{"text": SENTENCES[0], "strokes": [[]]}]}, "expected a list"),
    ({"lines": [line(), line(), line()]}, "3 lines sent for 2 sentences"),
    ({"lines": [{"text": SENTENCES[0], "strokes": [[[0, 0]]] * 2001}]}, "at most 2000"),
    ({"lines": [{"text": SENTENCES[0], "strokes": [[[i % 7, i % 5] for i in range(100_001)]]}]}, "too many points"),
]


@pytest.mark.parametrize("payload, fragment", BAD_PAYLOADS, ids=[f[1] for f in BAD_PAYLOADS])
def test_bad_payloads_are_refused_with_a_message_and_nothing_saved(session, hw_home, payload, fragment):
    status, answer = request(session, "/api/save", payload)
    assert status == 400, answer
    assert fragment in answer["error"], answer["error"]
    assert "\n" not in answer["error"]
    assert not session.done.is_set()
    assert not (hw_home / "styles").exists() or not list((hw_home / "styles").iterdir())


def test_requests_without_the_token_or_with_bad_bodies_are_refused(session, hw_home):
    assert request(session, "/api/save", {"lines": [line()]}, token=False)[0] == 403
    assert request(session, "/api/save", {"lines": [line()]}, headers={"X-HW-Token": "guess"})[0] == 403
    assert request(session, "/api/save", body=b"{not json")[0] == 400
    assert request(session, "/api/save", body=b"[]", headers={"Content-Type": "text/plain"})[0] == 415
    # Too big: refused on its Content-Length, before a byte of it is read.
    connection = http.client.HTTPConnection("127.0.0.1", session.port, timeout=20)
    connection.putrequest("POST", "/api/save")
    for key, value in {"Content-Type": "application/json", "X-HW-Token": session.token,
                       "Content-Length": "5000001"}.items():
        connection.putheader(key, value)
    connection.endheaders()
    answer = connection.getresponse()
    assert answer.status == 413 and "at most" in json.loads(answer.read())["error"]
    connection.close()
    assert request(session, "/api/nothing", {})[0] == 404
    assert request(session, "/api/closed", body=b"")[0] == 403  # no token in the query
    # DNS rebinding: a page on another name that resolves here.
    assert request(session, "/", token=False, headers={"Host": "evil.example:80"})[0] == 403
    assert not (hw_home / "styles").exists()


def test_a_page_closed_before_save_ends_the_session_unsaved(hw_home):
    with CaptureSession("mine", close_grace=0.2) as s:
        assert request(s, f"/api/closed?token={s.token}", body=b"", token=False)[0] == 200
        assert s.wait(10).kind == "closed"
    assert not (hw_home / "styles").exists()


def test_a_reload_is_not_a_close(hw_home):
    with CaptureSession("mine", close_grace=1.0) as s:
        request(s, f"/api/closed?token={s.token}", body=b"", token=False)
        assert request(s, "/", token=False)[0] == 200  # the page is back
        assert s.wait(2) is None
        assert request(s, "/api/save", {"lines": [line()]})[0] == 200


def test_non_local_hosts_bad_counts_and_taken_names_are_refused_before_serving(hw_home):
    with pytest.raises(UsageError, match="--allow-remote"):
        CaptureSession("mine", host="0.0.0.0")
    with pytest.raises(UsageError, match="--allow-remote"):
        CaptureSession("mine", host="192.168.1.5")
    with pytest.raises(UsageError, match="sentences"):
        CaptureSession("mine", sentences=0)
    with pytest.raises(UsageError, match="built-in"):
        CaptureSession(library.builtin_names()[0])
    with pytest.raises(UsageError, match="cannot name"):
        CaptureSession("../etc")
    with CaptureSession("mine", host="localhost") as s:
        assert s.url.startswith("http://localhost:")


# ---------------------------------------------------------------- the CLI


def start_cli(hw_home, *args):
    env = {**os.environ, "HW_HOME": str(hw_home), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "-m", "hwcli", "styles", "capture", *args],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    ready, _, _ = select.select([process.stdout], [], [], 60)
    if not ready:
        process.kill()
        pytest.fail("hw styles capture printed no URL within 60 s")
    url = process.stdout.readline().strip()
    assert url.startswith("http://127.0.0.1:") and url.endswith("/"), (url, process.stderr.read())
    return process, url


def test_ctrl_c_stops_the_server_with_130_and_saves_nothing(hw_home):
    process, url = start_cli(hw_home, "mine")
    with NO_PROXY.open(url, timeout=20) as answer:
        assert answer.status == 200
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert err.strip().splitlines()[-1] == "error: capture stopped; nothing saved"
    assert "Traceback" not in err
    assert not (hw_home / "styles").exists()


def test_sigterm_stops_the_server_with_143(hw_home):
    process, _ = start_cli(hw_home, "mine")
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 143, err
    assert err.strip().splitlines()[-1] == "error: capture stopped; nothing saved"
    assert not (hw_home / "styles").exists()


@pytest.mark.parametrize("args, fragment, code", [
    (["mine", "--host", "0.0.0.0"], "--allow-remote", 2),
    (["mine", "--sentences", "11"], "--sentences", 2),
    (["bad/name"], "cannot name a style", 2),
])
def test_cli_refusals_are_one_line(hw_home, args, fragment, code):
    env = {**os.environ, "HW_HOME": str(hw_home)}
    done = subprocess.run([sys.executable, "-m", "hwcli", "styles", "capture", *args],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == code, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], done.stderr
    assert done.stdout == ""


# ---------------------------------------------------------------- the page in Chromium


class Browser:
    """Headless Chromium driven over the DevTools protocol on a pipe (fds 3 and 4)."""

    def __init__(self, profile: Path):
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def fds():  # the child's fd 3 reads our commands, fd 4 carries its answers
            read, write = os.dup(to_browser_r), os.dup(from_browser_w)  # above 4: dup2 clobbers neither
            os.dup2(read, 3)
            os.dup2(write, 4)

        flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--remote-debugging-pipe",
                 "--window-size=1000,800", "about:blank"]
        self.process = subprocess.Popen([str(CHROMIUM), *flags], preexec_fn=fds, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, pass_fds=(3, 4))
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._id = 0
        self.events: list[dict] = []
        targets = self.send("Target.getTargets")["targetInfos"]
        page = next(t for t in targets if t["type"] == "page")
        self.session = self.send("Target.attachToTarget", targetId=page["targetId"], flatten=True)["sessionId"]

    def send(self, method, session=None, timeout=60, **params):
        self._id += 1
        message = {"id": self._id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        end = time.monotonic() + timeout
        while True:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                answer = json.loads(raw)
                if answer.get("id") == self._id:
                    if "error" in answer:
                        raise RuntimeError(f"{method}: {answer['error']}")
                    return answer.get("result", {})
                self.events.append(answer)
            left = end - time.monotonic()
            if left <= 0 or not select.select([self._from_browser], [], [], left)[0]:
                raise TimeoutError(f"Chromium did not answer {method} within {timeout} s")
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self._buffer += chunk

    def page(self, method, **params):
        return self.send(method, session=self.session, **params)

    def js(self, expression):
        answer = self.page("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in answer:
            raise RuntimeError(f"{expression}: {answer['exceptionDetails']}")
        return answer["result"].get("value")

    def wait_for(self, expression, timeout=60):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.js(expression):
                return
            time.sleep(0.1)
        raise TimeoutError(f"{expression} never held")

    def drag(self, points, pointer_type="mouse"):
        """One stroke through `points` (CSS pixels) with the mouse or a pen."""
        kind = {"pointerType": pointer_type} if pointer_type == "pen" else {}
        (x, y), rest = points[0], points[1:]
        self.page("Input.dispatchMouseEvent", type="mousePressed", x=x, y=y, button="left", buttons=1,
                  clickCount=1, **kind)
        for x, y in rest:
            self.page("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y, button="left", buttons=1, **kind)
        self.page("Input.dispatchMouseEvent", type="mouseReleased", x=x, y=y, button="left", buttons=0,
                  clickCount=1, **kind)

    def swipe(self, points):
        """One stroke through `points` with a finger."""
        (x, y), rest = points[0], points[1:]
        self.page("Input.dispatchTouchEvent", type="touchStart", touchPoints=[{"x": x, "y": y}])
        for x, y in rest:
            self.page("Input.dispatchTouchEvent", type="touchMove", touchPoints=[{"x": x, "y": y}])
        self.page("Input.dispatchTouchEvent", type="touchEnd", touchPoints=[])

    def close(self):
        try:
            self.send("Browser.close", timeout=10)
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        os.close(self._to_browser)
        os.close(self._from_browser)


@pytest.fixture
def browser(tmp_path):
    if CHROMIUM is None:
        pytest.skip("no Chromium at /usr/bin/chromium (apt-get install chromium)")
    profile = tmp_path / "chromium-profile"
    b = Browser(profile)
    yield b
    b.close()
    shutil.rmtree(profile, ignore_errors=True)


def open_page(browser, url):
    browser.page("Page.enable")
    browser.page("Emulation.setTouchEmulationEnabled", enabled=True, maxTouchPoints=2)
    browser.page("Page.navigate", url=url)
    browser.wait_for("document.body && document.body.dataset.ready === '1'")
    box = browser.js("JSON.stringify(document.getElementById('pad').getBoundingClientRect())")
    return json.loads(box)


def wave(box, left, count=12, depth=1.0):
    """Points of a stroke going down the screen and right, inside the canvas."""
    x0, y0 = box["left"] + left, box["top"] + box["height"] * 0.3
    return [(x0 + 3 * i, y0 + 6 * i * depth + 4 * (i % 2)) for i in range(count)]


@needs_chromium
def test_the_page_records_pen_mouse_and_touch_and_saves_the_style(browser, hw_home):
    process, url = start_cli(hw_home, "mine", "--sentences", "2")
    try:
        box = open_page(browser, url)
        assert browser.js("document.getElementById('prompt').textContent") == SENTENCES[0]
        assert browser.js("document.getElementById('save').disabled") is True  # nothing written yet
        browser.drag(wave(box, 40), "pen")
        browser.drag(wave(box, 100), "mouse")
        browser.drag(wave(box, 160), "mouse")
        browser.js("document.getElementById('undo').click()")  # the third stroke taken back
        assert browser.js("document.body.dataset.written") == "1"
        browser.js("document.getElementById('next').click()")
        assert browser.js("document.getElementById('prompt').textContent") == SENTENCES[1]
        browser.drag(wave(box, 40), "mouse")
        browser.js("document.getElementById('clear').click()")  # written again from scratch
        browser.swipe(wave(box, 60))
        browser.drag(wave(box, 120, count=8), "pen")
        browser.js("document.getElementById('save').click()")
        browser.wait_for("document.body.dataset.saved === '1'")
        assert "Saved as style" in browser.js("document.getElementById('status').textContent")
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "saved style 'mine' (2 lines)" in err
    path = hw_home / "styles" / "mine.json"
    lines = library.read_style(path).lines
    assert [ln.text for ln in lines] == list(SENTENCES[:2])
    assert [len(ln.strokes) for ln in lines] == [2, 2]
    for stroke in [s for ln in lines for s in ln.strokes]:
        assert len(stroke) >= 8  # every move recorded (coalesced events included)
        assert stroke[-1, 1] < stroke[0, 1]  # drawn down the screen: down in y-up ink
        assert stroke[-1, 0] > stroke[0, 0]
    strokes, text = read_ink(path)  # the project's own JSON ink: read_ink takes it as it is
    assert text == "\n".join(SENTENCES[:2]) and len(strokes) == 4


@needs_chromium
def test_a_page_closed_midway_leaves_nothing(browser, hw_home):
    process, url = start_cli(hw_home, "mine")
    try:
        box = open_page(browser, url)
        browser.drag(wave(box, 40), "pen")
        browser.js("document.getElementById('next').click()")
        browser.drag(wave(box, 40), "mouse")
        browser.page("Page.navigate", url="about:blank")  # the page goes away before Save
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 1, err
    assert err.strip().splitlines()[-1].startswith("error: the capture page was closed before Save; nothing saved")
    assert not (hw_home / "styles").exists() or not list((hw_home / "styles").iterdir())
