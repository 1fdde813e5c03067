"""Latency of one kind of page of visits, one request at a time, from a running server.

    python3 docs/bench/one_at_a_time.py <port> <admin token> first|deep|enterprise [requests]

Sends 200 requests to warm up, then `requests` (default 2000) one after another on
one connection, and prints the median and the 10th and 90th percentiles. `first` and
`deep` are the bench's first page and page deep in the visits (50 visits sorted by
`starts_at`, the deep one from a cursor in the middle of the synthetic visits' span);
`enterprise` cycles through the visits of 20 enterprises. With no queue in front of
the server, two servers on two copies of a data set can be compared (the seventh
round in docs/PERFORMANCE.md).
"""

import datetime
import http.client
import itertools
import json
import statistics
import sys
import time


def main():
    if len(sys.argv) not in (4, 5) or sys.argv[3] not in ("first", "deep", "enterprise"):
        sys.exit(f"usage: {sys.argv[0]} <port> <admin token> first|deep|enterprise [requests]")
    port, token, which = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    requests = int(sys.argv[4]) if len(sys.argv) == 5 else 2000
    conn = http.client.HTTPConnection("127.0.0.1", port)
    headers = {"Authorization": f"Bearer {token}"}

    def get(path):
        conn.request("GET", path, headers=headers)
        answer = conn.getresponse()
        body = answer.read()
        if answer.status != 200:
            sys.exit(f"GET {path}: {answer.status} {body[:300]!r}")
        return body

    # The span of the synthetic visits, as the bench takes it.
    today = datetime.date.today()
    start, end = today - datetime.timedelta(days=5 * 366), today + datetime.timedelta(days=200)
    middle = start + (end - start) / 2
    span = f"from={start}&to={end}&sort=starts_at&limit=50"
    if which == "enterprise":
        enterprises = itertools.cycle(
            e["id"] for e in json.loads(get("/api/v1/enterprises?limit=20"))["items"]
        )
        path = lambda: f"/api/v1/visits?enterprise_id={next(enterprises)}&{span}"
    elif which == "deep":
        cursor = json.loads(get(f"/api/v1/visits?from={middle}&to={end}&sort=starts_at&limit=1"))
        deep = f"/api/v1/visits?{span}&cursor={cursor['next_cursor']}"
        path = lambda: deep
    else:
        path = lambda: f"/api/v1/visits?{span}"
    for _ in range(200):
        get(path())
    times = []
    for _ in range(requests):
        target = path()
        started = time.perf_counter()
        get(target)
        times.append((time.perf_counter() - started) * 1e3)
    times.sort()
    print(
        f"{which}: p50 {statistics.median(times):.3f} ms,"
        f" p10 {times[len(times) // 10]:.3f} ms, p90 {times[len(times) * 9 // 10]:.3f} ms"
    )


if __name__ == "__main__":
    main()
