#!/usr/bin/env python3
"""What a flooding client costs chokepoint (issue 12), and whether everyone
else is still served meanwhile.

    bench/flood.py [--seconds 10] [--slow 3000]

Two floods from one loopback address (127.0.0.66) against chokepoint with
its defaults, while a well-behaved client on another address (127.0.0.7)
makes CONNECTs one after another:
  slow heads   --slow connections that each send one byte of a request head
               and then nothing, reconnecting when answered;
  refused      connections at the flooder's fastest, over its rate
               (--max-rate-per-client 10/s), each answered 429 and closed; the
               well-behaved client keeps within that rate.
For each: the good client's successes and failures, the proxy's resident
memory (peak over the run, against idle), its CPU seconds, refusals counted
in /metrics, and audit records written for them.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.environ.get("CHOKEPOINT_BUILD", os.path.join(os.path.dirname(HERE), "build"))
CHOKEPOINT = os.path.join(BUILD, "chokepoint")
FLOOD, GOOD = "127.0.0.66", "127.0.0.7"


def rss_kib(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_s(pid):
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


class Echo(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True)
        self.s = socket.socket()
        self.s.bind(("127.0.0.1", 0))
        self.s.listen(1024)
        self.port = self.s.getsockname()[1]
        self.start()

    def run(self):
        while True:
            c, _ = self.s.accept()
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c):
        with c:
            try:
                while True:
                    d = c.recv(65536)
                    if not d:
                        return
                    c.sendall(d)
            except OSError:
                return


def start_proxy(work, echo, *extra):
    audit = os.path.join(work, "audit-%d.jsonl" % time.monotonic_ns())
    proc = subprocess.Popen([CHOKEPOINT, "run", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0",
                             "--audit-log", audit, "--connect-to", "::127.0.0.1:%d" % echo.port, *extra],
                            stderr=subprocess.PIPE, text=True)
    port = admin = None
    for line in proc.stderr:
        if "listening on" in line:
            port = int(line.split("listening on ")[1].split(" ")[0].rsplit(":", 1)[1])
        if "admin on " in line:
            admin = line.split("admin on ")[1].split(" ")[0]
        if line.startswith("chokepoint: policy"):
            break
    threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()
    return proc, port, admin, audit


def good_client(port, stop, result, pace=0.0):
    while not stop.is_set():
        time.sleep(pace)
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(GOOD, 0))
            s.sendall(b"CONNECT files.trendmicro.com:443 HTTP/1.1\r\nHost: files.trendmicro.com:443\r\n\r\n")
            head = s.recv(4096)
            s.sendall(b"x")
            ok = head.startswith(b"HTTP/1.1 200") and s.recv(1) == b"x"
            s.close()
        except OSError:
            ok = False
        result["ok" if ok else "failed"] += 1


def slow_heads(port, stop, count):
    held = []
    while not stop.is_set():
        while len(held) < count and not stop.is_set():
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(FLOOD, 0))
                s.setblocking(False)
                s.send(b"C")
                held.append(s)
            except OSError:
                time.sleep(0.01)
        time.sleep(0.2)
        # Reconnect those that were answered (refused) or closed.
        alive = []
        for s in held:
            try:
                if s.recv(1, socket.MSG_PEEK) or True:
                    s.close()
            except BlockingIOError:
                alive.append(s)
            except OSError:
                s.close()
        held = alive
    for s in held:
        s.close()


def refused_flood(port, stop):
    n = 0
    while not stop.is_set():
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(FLOOD, 0))
            s.sendall(b"CONNECT files.trendmicro.com:443 HTTP/1.1\r\nHost: files.trendmicro.com:443\r\n\r\n")
            s.recv(4096)
            s.close()
            n += 1
        except OSError:
            pass
    return n


def refusals(admin):
    text = urllib.request.urlopen(admin + "/metrics", timeout=10).read().decode()
    total = 0
    for line in text.splitlines():
        if line.startswith("chokepoint_refusals_total{"):
            total += float(line.rsplit(" ", 1)[1])
    return int(total)


def measure(name, work, echo, seconds, flood, *extra, pace=0.0):
    proc, port, admin, audit = start_proxy(work, echo, *extra)
    time.sleep(0.5)
    idle_rss = rss_kib(proc.pid)
    cpu0 = cpu_s(proc.pid)
    stop = threading.Event()
    good = {"ok": 0, "failed": 0}
    threads = [threading.Thread(target=good_client, args=(port, stop, good, pace)),
               threading.Thread(target=flood, args=(port, stop))]
    for t in threads:
        t.start()
    peak = idle_rss
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        peak = max(peak, rss_kib(proc.pid))
        time.sleep(0.1)
    stop.set()
    for t in threads:
        t.join()
    counted = refusals(admin)
    cpu = cpu_s(proc.pid) - cpu0
    proc.terminate()
    proc.wait(20)
    records = [json.loads(l) for l in open(audit)]
    refusal_records = [r for r in records if r["event"] in ("deny", "error")]
    stands_for = sum(1 + r.get("suppressed", 0) for r in refusal_records)
    print(json.dumps({"flood": name, "seconds": seconds, "good_ok": good["ok"], "good_failed": good["failed"],
                      "idle_rss_kib": idle_rss, "peak_rss_kib": peak, "cpu_s": round(cpu, 2),
                      "refusals_counted": counted, "refusal_records": len(refusal_records),
                      "refusals_accounted_by_records": stands_for}), flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--slow", type=int, default=3000)
    options = parser.parse_args()
    import resource
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    work = tempfile.mkdtemp(prefix="chokepoint-flood-")
    echo = Echo()
    measure("slow heads", work, echo, options.seconds,
            lambda port, stop: slow_heads(port, stop, options.slow))
    # The well-behaved client keeps within the rate (5 a second) that the
    # flooder exceeds at its fastest.
    measure("refused at its fastest", work, echo, options.seconds, refused_flood,
            "--max-rate-per-client", "10/s", pace=0.2)


if __name__ == "__main__":
    sys.exit(main())
