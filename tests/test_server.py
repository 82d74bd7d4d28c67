"""The add-in server over HTTP on loopback: the same numbers as kpi-xl score, and a server that holds.

Requests go through a real socket to uvicorn (tests/servers.py), as the
Office.js client's would; payloads are built from real workbooks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

import kpi_xl
from kpi_xl.excel import actions
from kpi_xl.server import ServerConfig

from .conftest import SMOKE_SHEETS
from .payloads import payload_from_sheets, payload_from_xlsx
from .servers import ACCESS_KEY, free_port, running_server

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "templates" / "example_company.xlsx"
AUTH = {"Authorization": f"Bearer {ACCESS_KEY}"}


@pytest.fixture(scope="module")
def server():
    with running_server() as base_url:
        with httpx.Client(base_url=base_url, timeout=60) as client:
            yield client


def post(client: httpx.Client, path: str, body, headers=AUTH) -> httpx.Response:
    return client.post(path, json=body, headers=headers)


def payout_by_person(answer: dict) -> dict[str, float]:
    """The Payouts sheet's payout column, from the setValues actions of a Score answer."""
    positions = {}
    for action in answer["actions"]:
        if action["func"] == "addSheet":
            positions[action["args"][0]] = action["args"][1]
    for action in answer["actions"]:
        if action["func"] == "setValues" and positions.get(action["sheet_position"]) == "Payouts":
            header, *rows = action["values"]
            who, paid = header.index("employee_id"), header.index("payout")
            return {str(r[who]): r[paid] for r in rows}
    raise AssertionError("no Payouts sheet in the answer")


# ------------------------------------------------------------------ the numbers


def test_score_over_http_gives_the_hand_worked_payouts(server):
    answer = post(server, "/api/actions/score", payload_from_sheets("smoke.xlsx", SMOKE_SHEETS))
    assert answer.status_code == 200
    body = answer.json()
    assert body["ok"] is True and body["problems"] == []
    assert payout_by_person(body) == {"1001": 7894.74, "1002": 2105.26, "1003": 0}  # tests/conftest.py
    assert body["status"] == "Scored 3 people: payouts total 10,000.00."


def test_score_over_http_gives_what_kpi_xl_score_gives_on_the_example_company(server):
    answer = post(server, "/api/actions/score", payload_from_xlsx(EXAMPLE)).json()
    outcome = kpi_xl.score_workbook(EXAMPLE)
    want = {str(r.employee_id): float(r.payout) for r in outcome.payouts.itertuples()}
    got = payout_by_person(answer)
    assert got == want  # to the cent: the same rounded floats
    # 487,380.42 before the example company had rules: see tests/test_excel_actions.py
    assert round(sum(got.values()), 2) == 471814.17
    assert answer["status"] == "Scored 40 people: payouts total 471,814.17."


def test_custom_functions_over_http(server):
    # attainment 113/100 = 1.13; linear 0.8/1.2: 100 + (1.13 - 1) / 0.2 * 50 = 132.5
    score = post(server, "/api/functions/KPI_SCORE", {"args": [[[113]], [[100]], None, [[0.8]], [[1.2]]]})
    assert score.status_code == 200
    assert score.json()["result"][0][0] == pytest.approx(132.5, abs=1e-9)
    # a range spills element by element; a bad cell is an error value in its own cell
    many = post(server, "/api/functions/KPI_ATTAINMENT", {"args": [[[50, 100, "abc"]], [[100]]]}).json()
    assert many["result"][0][:2] == [0.5, 1.0]
    assert many["result"][0][2]["error"] == "#VALUE!" and "abc" in many["result"][0][2]["message"]
    # the metadata the task pane registers
    meta = server.get("/api/functions", headers=AUTH).json()
    assert [f["id"] for f in meta["functions"]] == list(kpi_xl.excel.functions.FUNCTIONS)
    assert server.get("/functions.json").json() == meta


def test_check_and_problems_over_http(server):
    sheets = {k: [list(r) for r in v] for k, v in SMOKE_SHEETS.items()}
    sheets["Scorecards"][1][4] = "abc"
    body = post(server, "/api/actions/check", payload_from_sheets("bad.xlsx", sheets)).json()
    assert body["ok"] is False
    assert any(p["sheet"] == "Scorecards" and p["cell"] == "E2" for p in body["problems"])
    assert {a["func"] for a in body["actions"]} >= {"addSheet", "setValues", "activateSheet"}
    listed = server.get("/api/actions", headers=AUTH).json()
    assert [a["name"] for a in listed] == ["check", "score", "whatif", "new_template"]
    assert listed[1]["label"] == {"en": "Score", "zh": "计分"}


# ------------------------------------------------------------------ access


def test_api_needs_the_access_key(server):
    assert server.get("/api/health").json()["ok"] is True  # health needs none
    for headers in ({}, {"Authorization": "Bearer wrong-key-0123456789"}, {"Authorization": ACCESS_KEY}):
        answer = server.get("/api/functions", headers=headers)
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"] == "Bearer"
        assert answer.json()["error"] == "unauthorized"
    refused = server.post("/api/actions/score", json=payload_from_sheets("smoke.xlsx", SMOKE_SHEETS))
    assert refused.status_code == 401 and "access key" in refused.json()["message"]


def test_a_config_without_key_is_refused_outside_development_mode():
    with pytest.raises(ValueError, match="access key is required"):
        ServerConfig()
    with pytest.raises(ValueError, match="at least 16"):
        ServerConfig(access_key="short")
    assert ServerConfig(dev=True).access_key is None


def test_development_mode_needs_no_key():
    port = free_port()
    with running_server(ServerConfig(dev=True, base_url=f"http://127.0.0.1:{port}"), port=port) as url:
        answer = httpx.post(f"{url}/api/functions/KPI_TOTAL", json={"args": [[[100, 150]], [[60, 40]]]})
        assert answer.json() == {"result": [[120.0]]}  # 100 * 0.6 + 150 * 0.4


def test_cli_refuses_development_mode_off_loopback_and_short_keys(tmp_path, capsys):
    from kpi_xl.cli import main

    assert main(["serve", "--dev", "--host", "0.0.0.0"]) == 2
    assert "this computer only" in capsys.readouterr().err
    short = tmp_path / "key.txt"
    short.write_text("abc\n")
    assert main(["serve", "--access-key-file", str(short)]) == 2
    assert "at least 16 characters" in capsys.readouterr().err
    assert main(["serve", "--certfile", str(short)]) == 2
    assert "both --certfile and --keyfile" in capsys.readouterr().err


def test_kpi_xl_serve_runs_as_a_command():
    port = free_port()
    env = {**os.environ, "KPI_XL_ACCESS_KEY": ACCESS_KEY}
    process = subprocess.Popen(
        [sys.executable, "-m", "kpi_xl", "serve", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/api/health").status_code == 200:
                    break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(process.stdout.read() if process.stdout else "did not start")
                time.sleep(0.2)
        answer = httpx.post(f"{url}/api/functions/KPI_ATTAINMENT", json={"args": [[[90]], [[100]]]}, headers=AUTH)
        assert answer.json() == {"result": [[0.9]]}
        assert httpx.get(f"{url}/api/functions").status_code == 401
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=20)
    assert f"http://127.0.0.1:{port}/manifest.xml" in output
    assert ACCESS_KEY not in output  # a key given by the environment is never printed


# ------------------------------------------------------------------ bad requests


@pytest.mark.parametrize(
    "content, content_type, status, code",
    [
        (b"{not json", "application/json", 400, "bad_json"),
        (b'{"args": [NaN]}', "application/json", 400, "bad_json"),
        (b"\xff\xfe", "application/json", 400, "bad_json"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", 400, "bad_json"),
        (b'{"args": [[[1]], [[1]]]}', "text/plain", 415, "unsupported_media_type"),
        (b'{"arguments": []}', "application/json", 422, "bad_arguments"),
        (b'{"args": [1, 2, 3, 4, 5, 6, 7, 8, 9]}', "application/json", 422, "bad_arguments"),
    ],
)
def test_bad_function_requests_get_a_sentence(server, content, content_type, status, code):
    answer = server.post(
        "/api/functions/KPI_ATTAINMENT", content=content, headers={**AUTH, "Content-Type": content_type}
    )
    assert answer.status_code == status
    body = answer.json()
    assert body["error"] == code and body["message"].endswith((".", ")")) and "Traceback" not in answer.text


@pytest.mark.parametrize(
    "payload, words",
    [
        ({"book": {"name": "x.xlsx"}}, '"sheets" must be a list'),
        ({"book": {}, "sheets": []}, '"book" must be an object'),
        ({"book": {"name": "x.xlsx"}, "sheets": [{"name": "KPIs", "values": [[{"a": 1}]]}]}, "a cell holds dict"),
        ([1, 2], "must be a JSON object"),
    ],
)
def test_malformed_book_payloads_get_422_with_a_sentence(server, payload, words):
    answer = post(server, "/api/actions/score", payload)
    assert answer.status_code == 422
    assert answer.json()["error"] == "bad_payload" and words in answer.json()["message"]


def test_unknown_names_paths_and_methods_are_json_errors(server):
    cases = [
        (server.post("/api/functions/NOPE", json={"args": []}, headers=AUTH), 404, "unknown_function"),
        (server.post("/api/actions/format_disk", json={}, headers=AUTH), 404, "unknown_action"),
        (server.get("/api/actions/score", headers=AUTH), 405, "method_not_allowed"),
        (server.get("/nothing.html"), 404, "not_found"),
        (server.get("/.env"), 404, "not_found"),
        (server.get("/manifest.template.xml"), 404, "not_found"),
        (server.get("/..%2F..%2Fpyproject.toml"), 404, "not_found"),
        (server.get("/assets/..%2F..%2F__init__.py"), 404, "not_found"),
    ]
    for answer, status, code in cases:
        assert (answer.status_code, answer.json()["error"]) == (status, code), answer.url


def test_bodies_over_the_limit_are_refused_before_they_are_read():
    port = free_port()
    config = ServerConfig(access_key=ACCESS_KEY, base_url=f"http://127.0.0.1:{port}", max_body_bytes=10_000)
    with running_server(config, port=port) as url, httpx.Client(base_url=url) as client:
        big = {"args": [[[1.0] * 5_000], [[1.0]]]}
        declared = client.post("/api/functions/KPI_ATTAINMENT", json=big, headers=AUTH)
        assert declared.status_code == 413 and declared.json()["error"] == "too_large"
        assert "kpi-xl score" in declared.json()["message"]

        def chunks():  # no Content-Length: the stream itself is counted
            yield b'{"args": [[['
            for _ in range(5_000):
                yield b"1.0, "
            yield b"1.0]], [[1.0]]]}"

        streamed = client.post(
            "/api/functions/KPI_ATTAINMENT", content=chunks(), headers={**AUTH, "Content-Type": "application/json"}
        )
        assert streamed.status_code == 413
        small = client.post("/api/functions/KPI_ATTAINMENT", json={"args": [[[1.0] * 100], [[2.0]]]}, headers=AUTH)
        assert small.status_code == 200 and small.json()["result"][0][0] == 0.5


def test_an_internal_error_answers_a_sentence_and_never_a_traceback(server, monkeypatch):
    def broken(name, payload):
        raise RuntimeError("secret internal detail at /srv/kpi_xl/engine.py line 42")

    monkeypatch.setattr(actions, "run_payload", broken)
    answer = post(server, "/api/actions/score", payload_from_sheets("smoke.xlsx", SMOKE_SHEETS))
    assert answer.status_code == 500
    assert answer.json()["error"] == "internal"
    assert "nothing was changed" in answer.json()["message"]
    assert "secret" not in answer.text and "Traceback" not in answer.text and ".py" not in answer.text


def test_security_headers_and_no_caching_of_answers(server):
    answer = server.get("/api/functions", headers=AUTH)
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert "server" not in answer.headers  # the server software is not advertised


# ------------------------------------------------------------------ CORS


def test_no_cross_origin_access_unless_an_origin_is_allowed(server):
    preflight = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization,content-type"}
    answer = server.options("/api/actions/score", headers=preflight)
    assert "access-control-allow-origin" not in answer.headers
    plain = server.get("/api/functions", headers={**AUTH, "Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in plain.headers

    port = free_port()
    config = ServerConfig(access_key=ACCESS_KEY, base_url=f"http://127.0.0.1:{port}",
                          allow_origins=("https://excel.example.com",))
    with running_server(config, port=port) as url, httpx.Client(base_url=url) as client:
        allowed = client.options("/api/actions/score", headers={**preflight, "Origin": "https://excel.example.com"})
        assert allowed.headers["access-control-allow-origin"] == "https://excel.example.com"
        assert "POST" in allowed.headers["access-control-allow-methods"]
        other = client.options("/api/actions/score", headers=preflight)
        assert other.headers.get("access-control-allow-origin") != "https://evil.example"


# ------------------------------------------------------------------ load


def test_a_busy_server_says_so_instead_of_queueing_forever(monkeypatch):
    started, release = threading.Event(), threading.Event()
    real = actions.run_payload

    def slow(name, payload):
        started.set()
        release.wait(30)
        return real(name, payload)

    monkeypatch.setattr(actions, "run_payload", slow)
    port = free_port()
    config = ServerConfig(access_key=ACCESS_KEY, base_url=f"http://127.0.0.1:{port}", max_busy=1, busy_timeout=0.2)
    payload = payload_from_sheets("smoke.xlsx", SMOKE_SHEETS)
    with running_server(config, port=port) as url, ThreadPoolExecutor(1) as pool:
        first = pool.submit(httpx.post, f"{url}/api/actions/score", json=payload, headers=AUTH, timeout=60)
        assert started.wait(30)
        second = httpx.post(f"{url}/api/actions/score", json=payload, headers=AUTH, timeout=60)
        assert second.status_code == 503 and second.json()["error"] == "busy"
        assert httpx.get(f"{url}/api/health").status_code == 200  # still answering
        release.set()
        assert first.result().status_code == 200
        assert payout_by_person(first.result().json())["1001"] == 7894.74


def test_concurrent_requests_all_succeed_with_identical_answers(server):
    """A bounded load test (the long one is benchmarks/load_server.py): 48 mixed requests, 8 at a time."""
    smoke = payload_from_sheets("smoke.xlsx", SMOKE_SHEETS)
    requests = [("/api/actions/score", smoke), ("/api/functions/KPI_SCORE", {"args": [[[113]], [[100]], None, [[0.8]], [[1.2]]]})] * 24

    def send(item):
        path, body = item
        return server.post(path, json=body, headers=AUTH)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(send, requests))
    assert [a.status_code for a in answers] == [200] * 48
    scores = {json.dumps(a.json(), sort_keys=True) for a in answers[1::2]}
    assert len(scores) == 1  # every answer the same, to the last bit
    assert json.loads(scores.pop())["result"][0][0] == pytest.approx(132.5, abs=1e-9)
    payouts = [payout_by_person(a.json()) for a in answers[0::2]]
    assert all(p == {"1001": 7894.74, "1002": 2105.26, "1003": 0} for p in payouts)
