#!/usr/bin/env python3
"""What the manager's inventory costs (issue 21):

    bench/inventory.py [--computers 20000] [--rounds 5] [--seconds 5] [--out bench/results/INVENTORY.md]

1. A refresh of COMPUTERS computers from the test manager
   (tests/e2e/manager_server.py: HTTPS with the test PKI, real paging):
   `chokepoint inventory --format json` run ROUNDS times, each process's wall
   time, CPU time and peak RSS (wait4), beside the same command against a
   manager with no computers (what starting up and TLS cost without a list).
   The test manager is a Python server: its time to produce the pages is in
   the wall time, not in chokepoint's CPU time.
2. The memory a running proxy holds for it: PSS of `chokepoint run` with the
   inventory applied, beside the same proxy without an inventory section.
3. The data plane while the inventory is refreshed every second: connection
   rate through the explicit listener (64 concurrent exchanges of 64 bytes,
   the full Deep Security catalog, upstream pinned) of a proxy refreshing
   COMPUTERS computers every second, once from a manager whose list stays as
   it is (most refreshes in production) and once from one that changes a
   computer's agent version before every refresh (each refresh builds and
   swaps in a new inventory), beside the same proxy without an inventory,
   alternated round by round; each round's ratio is reported. Beside it, the
   refresher thread's share of the proxy's CPU in the round: while the
   proxy is CPU-bound that share is what the refreshes can take from the
   connections, and unlike the rate it is not at the mercy of the
   machine's other load; and that share scaled to one refresh a second
   (a refresh waits `refresh` after the one before ends, so fewer come).
   Here the manager runs in a process of its own (a real one is another
   machine): it shares these cores with the proxy, so the CPU it spent
   answering during each round is reported beside the rate.

Needs build/chokepoint, build/bench/loadgen and build/pki (ctest's pki_setup).
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
import run as bench  # noqa: E402  (bench/run.py: the sink, the load generator, PSS)

os.environ.setdefault("CHOKEPOINT_PKI", os.path.join(bench.BUILD, "pki"))

NAME = bench.NAME


class ManagerProcess:
    """The test manager serving `count` computers from a process of its own."""

    def __init__(self, count, *options):
        self.proc = subprocess.Popen([sys.executable, os.path.join(bench.ROOT, "tests", "e2e", "manager_server.py"),
                                      str(count), *options], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     start_new_session=True)
        self.port = int(self.proc.stdout.readline().split()[1])
        assert self.proc.stdout.readline().strip() == "ready"
        self.key = "test-api-key"
        self.url = "https://127.0.0.1:%d/api" % self.port

    def searches(self):
        """How many searches it has answered."""
        self.proc.stdin.write("searches\n")
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline())

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def site(directory, manager, refresh):
    key = os.path.join(directory, "dsm.key")
    with open(key, "w") as f:
        f.write(manager.key + "\n")
    os.chmod(key, 0o600)
    path = os.path.join(directory, "inventory-%d.yaml" % manager.port)
    with open(path, "w") as f:
        f.write("version: 1\ninclude: builtin:deep-security.yaml\n"
                "inventory:\n  url: %s\n  key_file: dsm.key\n  ca_file: %s\n  refresh: %s\n"
                % (manager.url, os.path.join(os.environ["CHOKEPOINT_PKI"], "ca.pem"), refresh))
    return path


def plain_site(directory):
    path = os.path.join(directory, "plain.yaml")
    with open(path, "w") as f:
        f.write("version: 1\ninclude: builtin:deep-security.yaml\n")
    return path


def one_fetch(config):
    """(wall s, CPU s, peak RSS MiB) of one `chokepoint inventory`."""
    started = time.monotonic()
    proc = subprocess.Popen([bench.CHOKEPOINT, "inventory", "--config", config, "--format", "json"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError("chokepoint inventory failed: " + proc.stderr.read().decode())
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def refresher_cpu_seconds(pid):
    """CPU time of the proxy's refresher thread: the one at nice 10
    (src/inventory/refresher.cpp). Linux's nice is per thread."""
    total, found = 0, False
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[16]) == 10:  # field 19, nice
            total += int(fields[11]) + int(fields[12])  # fields 14 and 15, utime and stime
            found = True
    if not found:
        raise RuntimeError("no refresher thread (nice 10) in process %d" % pid)
    return total / os.sysconf("SC_CLK_TCK")


def median_of(rows, index):
    return statistics.median(r[index] for r in rows)


def spread(values, fmt):
    return (fmt + " (" + fmt + " to " + fmt + ")") % (statistics.median(values), min(values), max(values))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--computers", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--out", default=os.path.join(HERE, "results", "INVENTORY.md"))
    options = parser.parse_args()
    work = tempfile.mkdtemp(prefix="chokepoint-bench-inventory-")
    full, empty = ManagerProcess(options.computers), ManagerProcess(0)
    lines = ["# The manager's inventory: what it costs", "",
             "%s, %d cores; %d computers (every tenth a relay), %d rounds." % (
                 time.strftime("%Y-%m-%d"), os.cpu_count(), options.computers, options.rounds), ""]

    # 1. One refresh, as the operator's command does it.
    fetches = {"empty": [], "full": []}
    for _ in range(options.rounds):
        fetches["empty"].append(one_fetch(site(work, empty, "5m")))
        fetches["full"].append(one_fetch(site(work, full, "5m")))
    per_refresh = full.searches() // options.rounds
    lines += ["## One refresh (`chokepoint inventory`)", "",
              "| manager | wall s | chokepoint CPU s | peak RSS MiB |", "|---|---|---|---|"]
    for label, rows in (("no computers", fetches["empty"]), ("%d computers" % options.computers,
                                                            fetches["full"])):
        lines.append("| %s | %s | %s | %s |" % (label, spread([r[0] for r in rows], "%.2f"),
                                                 spread([r[1] for r in rows], "%.3f"),
                                                 spread([r[2] for r in rows], "%.1f")))
    lines += ["", "Requests per refresh: %d (pages of 5,000 and the empty one after the last)." % per_refresh,
              ""]

    # 2 and 3. A running proxy with and without the inventory.
    steady, changing = full, ManagerProcess(options.computers, "--changing")
    sink_proc, sink = bench.start_sink()
    pin = ["--connect-to", "%s:443:127.0.0.1:%d" % (NAME, sink)]
    peers = []
    for label, config, manager in (
            ("without inventory", plain_site(work), None),
            ("refreshed every 1 s, the list unchanged", site(work, steady, "1s"), steady),
            ("refreshed every 1 s, the list changed every time", site(work, changing, "1s"), changing)):
        port = bench.free_port()
        peer = bench.Peer(label, "connect",
                          [bench.CHOKEPOINT, "run", *bench.QUIET, "--config", config, "--listen",
                           "127.0.0.1:%d" % port, "--threads", "2",
                           "--audit-log", os.path.join(work, "audit-%d.jsonl" % port), *pin], port, work)
        peer.manager = manager
        peers.append(peer)
    rates = {p.name: [] for p in peers}
    memory = {p.name: [] for p in peers}
    refreshes = {p.name: [] for p in peers}
    manager_cpu = {p.name: [] for p in peers}
    refresher_share = {p.name: [] for p in peers}
    try:
        for round_ in range(options.rounds):
            order = peers if round_ % 2 == 0 else list(reversed(peers))
            for peer in order:
                peer.start()
                time.sleep(3)  # the first refresh is in
                memory[peer.name].append(bench.memory_kib(peer.proc.pid) / 1024)
                manager = peer.manager
                searches, cpu = (manager.searches(), bench.cpu_seconds(manager.proc.pid)) if manager else (0, 0)
                proxy_cpu = bench.cpu_seconds(peer.proc.pid)
                refresher_cpu = refresher_cpu_seconds(peer.proc.pid) if manager else 0
                started = time.monotonic()
                result = bench.measure_rate(peer, sink, options.seconds, None)
                took = time.monotonic() - started
                rates[peer.name].append(result["rate"])
                if manager:
                    refreshes[peer.name].append((manager.searches() - searches) / per_refresh / took)
                    manager_cpu[peer.name].append(100 * (bench.cpu_seconds(manager.proc.pid) - cpu) / took)
                    refresher_share[peer.name].append(
                        100 * (refresher_cpu_seconds(peer.proc.pid) - refresher_cpu)
                        / max(bench.cpu_seconds(peer.proc.pid) - proxy_cpu, 1e-9))
                peer.stop()
    finally:
        for peer in peers:
            peer.stop()
        sink_proc.kill()
        steady.stop()
        changing.stop()
        empty.stop()
    lines += ["## A running proxy", "",
              "| proxy | exchanges/s | PSS MiB | refreshes/s | the refresher's CPU, % of the proxy's |"
              " the same at one refresh a second | the manager's CPU, % of a core |",
              "|---|---|---|---|---|---|---|"]
    for peer in peers:
        # The refresher waits `refresh` after each refresh ends, so it asks less
        # often than once a second (less still when the cores are saturated: it
        # runs at nice 10): each round's share, scaled to one refresh a second.
        per_refresh = [share / rate for share, rate in zip(refresher_share[peer.name], refreshes[peer.name])
                       if rate > 0]
        lines.append("| %s | %s | %s | %s | %s | %s | %s |" % (
            peer.name, spread(rates[peer.name], "%.0f"), spread(memory[peer.name], "%.1f"),
            spread(refreshes[peer.name], "%.2f") if peer.manager else "",
            spread(refresher_share[peer.name], "%.2f") if peer.manager else "",
            spread(per_refresh, "%.2f") if peer.manager else "",
            spread(manager_cpu[peer.name], "%.1f") if peer.manager else ""))
    without = rates[peers[0].name]
    lines.append("")
    for peer in peers[1:]:
        ratios = [r / w for r, w in zip(rates[peer.name], without)]
        lines.append("Exchanges/s %s / without, per round: %s (median %.3f)." % (
            peer.name, ", ".join("%.3f" % r for r in ratios), statistics.median(ratios)))
    lines.append("")
    text = "\n".join(lines)
    print(text)
    os.makedirs(os.path.dirname(options.out), exist_ok=True)
    with open(options.out, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
