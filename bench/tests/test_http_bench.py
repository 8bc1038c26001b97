"""The pure helpers of bench/http_bench.py (the bench itself is run by hand: `make bench-http`)."""

import pytest

from bench.http_bench import budgets, logged_problems, parse_wrk, raw_request, requests_per_worker, summarize

WRK_OUTPUT = """Running 8s test @ http://127.0.0.1:40571
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    40.12ms   10.01ms 105.70ms   80.00%
  2940 requests in 8.00s, 1.01MB read
Requests/sec:    367.50
Transfer/sec:    129.20KB
BENCH requests=2940 duration_us=8000000 p50_us=40800 p95_us=69900 p99_us=105700 max_us=105700 ok=2938 \
bad=2 wrapped=0 connect_errors=0 read_errors=1 write_errors=0 timeouts=3
"""


def row(name, rps, p95=10.0, queries=(1, 1)):
    return {"name": name, "rps": rps, "p50": 1.0, "p95": p95, "p99": p95, "queries": list(queries), "bad": 0}


def test_parse_wrk_reads_the_line_of_the_lua_script():
    figures = parse_wrk(WRK_OUTPUT)

    assert figures == {
        "requests": 2940,
        "duration_us": 8_000_000,
        "p50_us": 40800,
        "p95_us": 69900,
        "p99_us": 105700,
        "max_us": 105700,
        "ok": 2938,
        "bad": 2,
        "wrapped": 0,
        "connect_errors": 0,
        "read_errors": 1,
        "write_errors": 0,
        "timeouts": 3,
    }


def test_summarize_gives_requests_per_second_milliseconds_and_every_failure():
    summary = summarize(parse_wrk(WRK_OUTPUT))

    assert summary == {
        "rps": 367.5,
        "p50": 40.8,
        "p95": 69.9,
        "p99": 105.7,
        "requests": 2940,
        "bad": 6,
        "wrapped": 0,
    }


def test_raw_request_of_a_form_carries_cookies_and_the_body_length():
    raw = raw_request(
        "POST",
        "/panier/ajouter/",
        "127.0.0.1:8000",
        cookies={"csrftoken": "abc", "sessionid": "xyz"},
        headers={"X-CSRFToken": "abc"},
        form={"size": 7, "name": "Client Bench", "key": "bench-{n}"},
    )

    assert raw == (
        "POST /panier/ajouter/ HTTP/1.1\r\n"
        "Host: 127.0.0.1:8000\r\n"
        "User-Agent: ocpizza-bench\r\n"
        "Cookie: csrftoken=abc; sessionid=xyz\r\n"
        "X-CSRFToken: abc\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        "Content-Length: 38\r\n"
        "\r\n"
        "size=7&name=Client+Bench&key=bench-{n}"
    )


def test_requests_per_worker_counts_the_access_log_lines_of_each_pid():
    log = (
        '<101> 200 "GET / HTTP/1.1" 0.01\n<102> 304 "GET /x HTTP/1.1" 0.00\n<101> 200 "GET / HTTP/1.1" 0.02\n'
    )

    assert requests_per_worker(log) == {101: 2, 102: 1}


def test_budgets_judge_ratios_queries_latency_and_memory():
    rows = [
        row("minimal view", 1000),
        row("home", 600),
        row("home (cold)", 90, queries=(8, 2)),
        row("menu (cold)", 110, queries=(11, 1)),
        row("cart_add", 200, p95=149.9),
        row("checkout", 90, p95=183.4),
        row("order", 20, p95=151.0),
        row("tracking", 850, queries=(3, 3)),
        row("board", 900, queries=(4, 3)),
    ]

    verdicts = budgets(rows, 1000, workers=[(101, 140 * 1024, 10_000), (102, 160 * 1024, 9_999)])

    assert verdicts[2][1] == "0.110, 11 queries first after an edit (1 after)"
    assert [verdict for _, _, verdict in verdicts] == [
        "met",  # home warm 0.600
        "NOT MET",  # home cold 0.090
        "NOT MET",  # menu cold 0.110, but 11 queries on its first drawing after an edit
        "met",  # cart add p95 149.9 ms
        "NOT MET",  # checkout page p95 183.4 ms
        "NOT MET",  # order p95 151 ms
        "met",  # tracking 0.850, 3 queries
        "NOT MET",  # board: 4 queries cold
        "met",  # the worker that served 10,000 requests: 140 MB
    ]


def test_only_keeps_the_named_endpoints_and_every_minimal_view_run():
    from bench.http_bench import BenchError, only

    plan = [("minimal view", "minimal"), ("home", "site"), ("tracking", "site"), ("minimal view", "minimal")]

    assert only(plan, {"tracking"}) == [plan[0], plan[2], plan[3]]
    assert only(plan, set()) == plan
    with pytest.raises(BenchError, match="no endpoint named trakcing"):
        only(plan, {"trakcing"})


def test_the_endpoints_named_are_those_of_the_plan():
    from bench.http_bench import ENDPOINTS, scenarios

    queries = dict.fromkeys(("minimal", *ENDPOINTS), (0, 0))
    prepared = {
        "urls": dict.fromkeys(
            ["home", "menu", "store_menu", "product", "cart_add", "checkout", "order", "tracking", "board"],
            "/",
        ),
        "sessions": {"visitor": "v", "staff": "s", "cart_add": [], "checkout": [], "order": []},
        "session_cookie": "sessionid",
        "csrf_cookie": "csrftoken",
        "csrf_token": "t",
        "queries": queries,
    }

    names = [name for name, *_ in scenarios(prepared, "127.0.0.1:1", "http://127.0.0.1:1")]

    assert [name for name in names if name != "minimal view"] == list(ENDPOINTS)


def test_the_site_logs_warnings_and_errors_are_picked_out_of_its_error_log():
    log = "\n".join(
        [
            "[2026-11-30 09:13:00 +0000] [4242] [INFO] Booting worker with pid: 4242",
            "2026-11-30 09:13:01,234 INFO django.request: fine",
            "2026-11-30 09:13:02,345 ERROR ordering.boards: boards: a change could not be recorded",
            "[2026-11-30 09:13:03 +0000] [4242] [CRITICAL] WORKER TIMEOUT (pid:4243)",
            "2026-11-30 09:13:04,456 WARNING ocpizza.cache: Redis is down",
            "Traceback (most recent call last): an ERRORS word in a message is no level",
        ]
    )

    assert logged_problems(log) == [
        "2026-11-30 09:13:02,345 ERROR ordering.boards: boards: a change could not be recorded",
        "[2026-11-30 09:13:03 +0000] [4242] [CRITICAL] WORKER TIMEOUT (pid:4243)",
        "2026-11-30 09:13:04,456 WARNING ocpizza.cache: Redis is down",
    ]
    assert logged_problems("") == []
