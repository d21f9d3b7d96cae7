"""Load generator, run as its own process: ``python -m bench.loadgen URL [options]``.

N threads, each holding one keep-alive HTTP/1.1 connection (``http.client``), request one URL as
fast as the server answers. Requests completing during the warm-up are discarded; those completing
in the measured window give requests per second and latency percentiles. Any answer other than 200
(a redirect to /login included) is an error, and so is a 200 whose body lacks one of the
``--expect`` markers (checked on every response). Prints one JSON line.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import threading
import time
from urllib.parse import urlsplit


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("url")
    p.add_argument("--connections", type=int, default=8)
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--cookie", default="", help="Cookie header to send")
    p.add_argument("--expect", action="append", default=[], help="text every 200 body must contain")
    return p.parse_args(argv)


class Worker(threading.Thread):
    def __init__(self, args, start_at: float, measure_from: float, stop_at: float):
        super().__init__(daemon=True)
        parts = urlsplit(args.url)
        self.host, self.port = parts.hostname, parts.port or 80
        self.path = parts.path + (f"?{parts.query}" if parts.query else "")
        self.headers = {"Cookie": args.cookie} if args.cookie else {}
        self.expect = [e.encode() for e in args.expect]
        self.start_at, self.measure_from, self.stop_at = start_at, measure_from, stop_at
        self.latencies: list[float] = []
        self.errors = 0
        self.statuses: dict[int, int] = {}
        self.reconnects = 0
        self.first_error = ""

    def run(self) -> None:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        while time.perf_counter() < self.start_at:
            time.sleep(0.001)
        while True:
            t0 = time.perf_counter()
            if t0 >= self.stop_at:
                break
            ok, status = False, 0
            try:
                conn.request("GET", self.path, headers=self.headers)
                resp = conn.getresponse()
                body = resp.read()
                status = resp.status
                ok = status == 200 and all(e in body for e in self.expect)
                if status == 200 and not ok and not self.first_error:
                    self.first_error = "200 without the expected content"
                if resp.will_close:
                    conn.close()
                    self.reconnects += 1
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                self.reconnects += 1
                if not self.first_error:
                    self.first_error = repr(exc)
            t1 = time.perf_counter()
            if t1 < self.measure_from:
                continue
            if t1 > self.stop_at:
                break
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if ok:
                self.latencies.append(t1 - t0)
            else:
                self.errors += 1
                if status != 200 and not self.first_error:
                    self.first_error = f"HTTP {status}"
        conn.close()


def _percentile(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, max(0, round(q * len(sorted_values)) - 1))
    return sorted_values[index]


def run(args: argparse.Namespace) -> dict:
    start_at = time.perf_counter() + 0.2
    measure_from = start_at + args.warmup
    stop_at = measure_from + args.duration
    workers = [Worker(args, start_at, measure_from, stop_at) for _ in range(args.connections)]
    cpu0 = time.process_time()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    cpu = time.process_time() - cpu0
    latencies = sorted(x for w in workers for x in w.latencies)
    statuses: dict[str, int] = {}
    for w in workers:
        for status, n in w.statuses.items():
            statuses[str(status)] = statuses.get(str(status), 0) + n
    ms = [None if v is None else round(v * 1000, 2) for v in
          (_percentile(latencies, q) for q in (0.5, 0.95, 0.99))]
    return {
        "url": args.url,
        "requests": len(latencies),
        "rps": round(len(latencies) / args.duration, 1),
        "p50_ms": ms[0], "p95_ms": ms[1], "p99_ms": ms[2],
        "errors": sum(w.errors for w in workers),
        "statuses": statuses,
        "reconnects": sum(w.reconnects for w in workers),
        "first_error": next((w.first_error for w in workers if w.first_error), ""),
        # Share of one core the generator itself used: near 100% means the client, not the
        # server, may be the limit.
        "client_cpu_pct": round(100 * cpu / (args.warmup + args.duration + 0.2), 1),
    }


def main(argv: list[str] | None = None) -> int:
    result = run(_args(argv))
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
