#!/usr/bin/env python3
"""chokepoint side by side with the proxies a user would pick instead.

    bench/run.py [--rounds 5] [--seconds 5] [--idle 7000] [--out bench/results/RESULTS.md]
    bench/run.py --resolving [--rounds 3] [--seconds 5] [--out bench/results/RESOLVING.md]
    bench/run.py --proxy-protocol [--rounds 5] [--seconds 5] [--out bench/results/PROXY_PROTOCOL.md]

Starts one sink (loadgen sink) and every proxy, each from Debian's packages
with its best settings for this job; runs the same load generator through
each, visiting all of them back to back in every scenario, in an order that
rotates from round to round; then writes markdown tables of medians, spreads
(min to max over rounds), ratios to direct, and chokepoint's ratio to each
peer within each round. Everything runs on loopback of this machine, where
the load generator, the sink and the proxies share the cores.

The connection rate is measured in two exchange patterns (loadgen's
--pattern): echo (64 bytes each way, then the server closes) and first
flight, as a TLS client's exchange goes (a ClientHello, the server's first
flight of 4,000 bytes back through the proxy, then 64 bytes each way), each
with the proxy's CPU time per exchange.

CONNECT proxies (squid, tinyproxy) are compared with chokepoint's explicit
listener; SNI routers (haproxy with splice, nginx stream with ssl_preread)
with chokepoint's --sni-listen. chokepoint decides every connection against
the full Deep Security catalog and writes its audit records to a file; the
peers run without access logs. Needs root (raises descriptor limits) and
the packages squid, tinyproxy, haproxy, nginx-light, libnginx-mod-stream.

--resolving measures what production does instead: nobody is pinned, every
proxy resolves the destination's name through a DNS server the bench starts
(tests/e2e/dns_server.py on 127.0.5.1:53 answering at once, and on
127.0.5.2:53 answering after 2 ms: a delay in the server process, standing
for a resolver one network hop away; port 53 because squid and nginx take
server addresses only). chokepoint (the shipped catalog plus a rule for the
test name, and a CIDR rule letting the sink's loopback address through
vetting) resolves with --dns-server; squid with dns_nameservers; nginx stream
with `resolver` and `proxy_pass $ssl_preread_server_name:PORT`. chokepoint
pinned with --connect-to runs beside them as the same-run baseline. Connection
rate only (64 concurrent exchanges of 64 bytes), with each proxy's CPU time
per exchange and the questions its DNS server received per second.

--proxy-protocol measures what a PROXY protocol header costs a connection:
chokepoint with --proxy-protocol-from 127.0.0.1/32 and a load generator
that puts a header (v2, or v1) in front of each CONNECT or ClientHello, as
a balancer does, beside the same chokepoint without either. The headers
name 250 different clients (192.0.2.1-250), as a balancer in front would.
Connection rate (64 concurrent exchanges of 64 bytes), latency, and the
proxy's CPU time per exchange, with per-round ratios.
"""

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BUILD = os.environ.get("CHOKEPOINT_BUILD", os.path.join(ROOT, "build"))
CHOKEPOINT = os.path.join(BUILD, "chokepoint")
LOADGEN = os.path.join(BUILD, "bench", "loadgen")
NAME = "ds20.icrc.trendmicro.com"
# No admin endpoint (the peers have none either); drain briefly when stopped.
QUIET = ["--admin", "none", "--drain-timeout", "1s"]
PACKAGES = ["squid", "tinyproxy", "haproxy", "nginx-light", "libnginx-mod-stream"]


def ensure_packages():
    missing = [p for p in PACKAGES if subprocess.run(["dpkg-query", "-W", "-f=${Status}", p], capture_output=True,
                                                     text=True).stdout.find("install ok installed") < 0]
    if missing:
        print("installing", " ".join(missing), flush=True)
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], check=True,
                       env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))


def free_port():
    """A port below the ephemeral range, so the load generator's own
    connections (tens of thousands of them) can never be holding it."""
    import random
    import socket
    low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
    while True:
        port = random.randint(max(1024, low - 12000), low - 1)
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            s.close()


def wait_port(port, timeout=10):
    import socket
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nothing listens on %d" % port)


def group_pids(pgid):
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.getpgid(int(entry)) == pgid:
                    pids.append(int(entry))
            except OSError:
                pass
    return pids


def cpu_seconds(pgid):
    total = 0
    for pid in group_pids(pgid):
        try:
            fields = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total / os.sysconf("SC_CLK_TCK")


def memory_kib(pgid):
    """Proportional set size of the whole process group (shared pages counted once)."""
    total = 0
    for pid in group_pids(pgid):
        try:
            for line in open("/proc/%d/smaps_rollup" % pid):
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


class Peer:
    def __init__(self, name, mode, argv, port, workdir, one_line=False):
        self.name, self.mode, self.argv, self.port, self.workdir = name, mode, argv, port, workdir
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True, cwd=self.workdir)
        wait_port(self.port)
        time.sleep(0.3)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        time.sleep(0.3)


def start_sink():
    """The load generator's sink (where every proxy forwards): (process, port)."""
    proc = subprocess.Popen([LOADGEN, "sink", "--listen", "127.0.0.1:0", "--threads", "2"],
                            stdout=subprocess.PIPE, text=True, start_new_session=True)
    return proc, int(proc.stdout.readline())


def write_results(report, results, out):
    """The report as Markdown at `out`, the raw rounds beside it as JSON."""
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        f.write(report)
    with open(os.path.splitext(out)[0] + ".json", "w") as f:
        json.dump(results, f, indent=1)
    print(report)


def rate_rounds(peers, sink, options):
    """Every peer started, then per round each one's exchange rate with CPU
    (and DNS questions), visited back to back in an order that rotates every
    round: {name: [result per round]}."""
    results = {p.name: [] for p in peers}
    try:
        for peer in peers:
            peer.start()
        for round_number in range(options.rounds):
            print("round %d/%d" % (round_number + 1, options.rounds), flush=True)
            shift = round_number % len(peers)
            for peer in peers[shift:] + peers[:shift]:
                results[peer.name].append(measure_resolving_rate(peer, sink, options.seconds, 0))
                print("  %s %s" % (peer.name, results[peer.name][-1]), flush=True)
    finally:
        for peer in peers:
            peer.stop()
    return results


def make_peers(sink, work, baseline=None):
    peers = []

    def add(name, mode, argv, port):
        peers.append(Peer(name, mode, argv, port, work))

    def add_chokepoint(name, mode, listen_flag, audit_name, config=(), binary=CHOKEPOINT):
        port = free_port()
        add(name, mode, [binary, "run", *QUIET, *config, listen_flag, "127.0.0.1:%d" % port, "--threads", "2",
                         "--connect-to", "%s:443:127.0.0.1:%d" % (NAME, sink),
                         "--audit-log", os.path.join(work, audit_name)], port)

    if baseline:
        # Another build of chokepoint in the same rounds: what a change bought.
        binary = os.path.join(baseline, "chokepoint")
        add_chokepoint("baseline (CONNECT)", "connect", "--listen", "audit-base-connect.jsonl", binary=binary)
        add_chokepoint("baseline (SNI)", "sni", "--sni-listen", "audit-base-sni.jsonl", binary=binary)
    add_chokepoint("chokepoint (CONNECT)", "connect", "--listen", "audit-connect.jsonl")
    one_line = os.path.join(work, "one-line.yaml")
    with open(one_line, "w") as f:
        f.write("version: 1\nrules:\n  - {id: one, ports: [443], destinations: [%s]}\n" % NAME)
    add_chokepoint("chokepoint (CONNECT, one-line policy)", "connect", "--listen", "audit-1.jsonl",
                   config=("--config", one_line))
    add_chokepoint("chokepoint (SNI)", "sni", "--sni-listen", "audit-sni.jsonl")
    add_chokepoint("chokepoint (SOCKS5)", "socks5", "--socks-listen", "audit-socks.jsonl")

    port = free_port()
    squid_dir = os.path.join(work, "squid")
    os.makedirs(squid_dir, exist_ok=True)
    os.chmod(squid_dir, 0o777)
    with open(os.path.join(squid_dir, "squid.conf"), "w") as f:
        f.write("http_port 127.0.0.1:%d\nhttp_access allow all\ncache deny all\naccess_log none\n"
                "cache_log %s/cache.log\npid_filename %s/squid.pid\ncoredump_dir %s\nmax_filedescriptors 65536\n"
                "shutdown_lifetime 0 seconds\n" % (port, squid_dir, squid_dir, squid_dir))
    add("squid", "connect-ip", ["squid", "-N", "-f", os.path.join(squid_dir, "squid.conf")], port)

    port = free_port()
    with open(os.path.join(work, "tinyproxy.conf"), "w") as f:
        f.write("Port %d\nListen 127.0.0.1\nTimeout 3600\nMaxClients 20000\nLogLevel Critical\n" % port)
    add("tinyproxy", "connect-ip", ["tinyproxy", "-d", "-c", os.path.join(work, "tinyproxy.conf")], port)

    port = free_port()
    with open(os.path.join(work, "haproxy.cfg"), "w") as f:
        # maxconn within this machine's descriptor cap of 20,000 (haproxy reserves about 2.5 per connection).
        f.write("global\n  maxconn 7900\n  nbthread 2\n"
                "defaults\n  mode tcp\n  timeout connect 5s\n  timeout client 1h\n  timeout server 1h\n"
                "  option splice-auto\n"
                "frontend sni\n  bind 127.0.0.1:%d\n  tcp-request inspect-delay 5s\n"
                "  tcp-request content accept if { req_ssl_hello_type 1 }\n"
                "  use_backend sink if { req_ssl_sni -i %s }\n"
                "backend sink\n  server s1 127.0.0.1:%d\n" % (port, NAME, sink))
    add("haproxy (splice)", "sni", ["haproxy", "-db", "-f", os.path.join(work, "haproxy.cfg")], port)

    port = free_port()
    nginx_dir = os.path.join(work, "nginx")
    os.makedirs(nginx_dir, exist_ok=True)
    with open(os.path.join(nginx_dir, "nginx.conf"), "w") as f:
        f.write("load_module /usr/lib/nginx/modules/ngx_stream_module.so;\nworker_processes 2;\n"
                "worker_rlimit_nofile 20000;\npid %s/nginx.pid;\nerror_log %s/error.log crit;\n"
                "events { worker_connections 19000; }\n"
                "stream {\n  map $ssl_preread_server_name $upstream { %s 127.0.0.1:%d; default 127.0.0.1:1; }\n"
                "  server { listen 127.0.0.1:%d reuseport; ssl_preread on; proxy_pass $upstream; "
                "proxy_timeout 1h; }\n}\n" % (nginx_dir, nginx_dir, NAME, sink, port))
    add("nginx stream (ssl_preread)", "sni",
        ["nginx", "-p", nginx_dir, "-c", os.path.join(nginx_dir, "nginx.conf"), "-g", "daemon off;"], port)
    return peers


DNS_SERVER = os.path.join(ROOT, "tests", "e2e", "dns_server.py")
# The DNS servers of --resolving: answering at once, and after 2 ms.
RESOLVERS = {"0 ms": ("127.0.5.1", 0), "2 ms": ("127.0.5.2", 2)}


class DnsServerProcess:
    """tests/e2e/dns_server.py on ADDRESS:53 with its control port: NAME is 127.0.0.1 for 300 s."""

    def __init__(self, address, delay_ms):
        self.address = address
        self.proc = subprocess.Popen([sys.executable, DNS_SERVER, address, "53", "--control", "--delay", str(delay_ms),
                                      "--record", NAME, "300", "127.0.0.1"], stdout=subprocess.PIPE, text=True,
                                     start_new_session=True)
        import socket
        self.control_port = int(self.proc.stdout.readline().split()[1])
        assert self.proc.stdout.readline().strip() == "ready"
        self.control = socket.create_connection((address, self.control_port))
        self.lines = self.control.makefile("r")

    def questions(self):
        self.control.sendall(b'{"op": "stats"}\n')
        return json.loads(self.lines.readline())["total"]

    def stop(self):
        self.control.close()
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait()


def make_resolving_peers(sink, work, dns):
    """Proxies that resolve NAME themselves, through the DNS servers of `dns`; and chokepoint pinned."""
    peers = []
    config = os.path.join(work, "resolving.yaml")
    with open(config, "w") as f:
        f.write("version: 1\ninclude: builtin:deep-security.yaml\nrules:\n"
                "  - {id: bench-name, ports: [%d], destinations: [%s]}\n"
                "  - {id: bench-sink-address, ports: [%d], destinations: [127.0.0.1/32]}\n" % (sink, NAME, sink))

    def chokepoint(name, mode, listen_flag, extra):
        port = free_port()
        audit = os.path.join(work, "audit-%d.jsonl" % port)
        peer = Peer(name, mode, [CHOKEPOINT, "run", *QUIET, "--config", config, listen_flag, "127.0.0.1:%d" % port,
                                 "--threads", "2", "--sni-port", str(sink), "--audit-log", audit, *extra], port, work)
        peer.target_port = sink
        peers.append(peer)
        return peer

    pin = ["--connect-to", "%s:%d:127.0.0.1:%d" % (NAME, sink, sink)]
    chokepoint("chokepoint (CONNECT, pinned)", "connect", "--listen", pin)
    chokepoint("chokepoint (SNI, pinned)", "sni", "--sni-listen", pin)
    for label, server in dns.items():
        resolver = ["--dns-server", "%s:53" % server.address]
        chokepoint("chokepoint (CONNECT, DNS %s)" % label, "connect", "--listen", resolver).dns = server
        chokepoint("chokepoint (SNI, DNS %s)" % label, "sni", "--sni-listen", resolver).dns = server

        port = free_port()
        squid_dir = os.path.join(work, "squid-%s" % server.address)
        os.makedirs(squid_dir, exist_ok=True)
        os.chmod(squid_dir, 0o777)
        with open(os.path.join(squid_dir, "squid.conf"), "w") as f:
            f.write("http_port 127.0.0.1:%d\nhttp_access allow all\ncache deny all\naccess_log none\n"
                    "cache_log %s/cache.log\npid_filename %s/squid.pid\ncoredump_dir %s\nmax_filedescriptors 65536\n"
                    "shutdown_lifetime 0 seconds\ndns_nameservers %s\n" % (port, squid_dir, squid_dir, squid_dir,
                                                                          server.address))
        peer = Peer("squid (DNS %s)" % label, "connect", ["squid", "-N", "-f", os.path.join(squid_dir, "squid.conf")],
                    port, work)
        peer.target_port, peer.dns = sink, server
        peers.append(peer)

        port = free_port()
        nginx_dir = os.path.join(work, "nginx-%s" % server.address)
        os.makedirs(nginx_dir, exist_ok=True)
        with open(os.path.join(nginx_dir, "nginx.conf"), "w") as f:
            f.write("load_module /usr/lib/nginx/modules/ngx_stream_module.so;\nworker_processes 2;\n"
                    "worker_rlimit_nofile 20000;\npid %s/nginx.pid;\nerror_log %s/error.log crit;\n"
                    "events { worker_connections 19000; }\n"
                    "stream {\n  resolver %s;\n"
                    "  server { listen 127.0.0.1:%d reuseport; ssl_preread on; "
                    "proxy_pass $ssl_preread_server_name:%d; proxy_timeout 1h; }\n}\n"
                    % (nginx_dir, nginx_dir, server.address, port, sink))
        peer = Peer("nginx stream (resolver, DNS %s)" % label, "sni",
                    ["nginx", "-p", nginx_dir, "-c", os.path.join(nginx_dir, "nginx.conf"), "-g", "daemon off;"], port,
                    work)
        peer.target_port, peer.dns = sink, server
        peers.append(peer)
    return peers


def measure_resolving_rate(peer, sink, seconds, _count):
    """Connection rate to NAME:sink, the proxy's CPU per exchange and its DNS questions per second."""
    cpu_before = cpu_seconds(peer.proc.pid)
    dns = getattr(peer, "dns", None)
    asked_before = dns.questions() if dns else 0
    r = loadgen("rate", "--mode", peer.mode, "--to", "127.0.0.1:%d" % peer.port, "--name", NAME, "--port",
                str(sink), "--concurrency", "64", "--threads", "2", "--seconds", str(seconds),
                *getattr(peer, "loadgen_extra", ()))
    cpu = cpu_seconds(peer.proc.pid) - cpu_before
    exchanges = max(1, r["per_s"] * seconds)
    result = {"rate": r["per_s"], "p50": r["p50_us"], "p99": r["p99_us"], "p999": r["p999_us"],
              "rate_failures": r["failures"], "cpu_us": cpu * 1e6 / exchanges}
    if dns:
        result["qps"] = (dns.questions() - asked_before) / seconds
    return result


RESOLVING_COMPARISONS = [
    ("chokepoint (CONNECT, DNS 2 ms)", "chokepoint (CONNECT, pinned)"),
    ("chokepoint (CONNECT, DNS 0 ms)", "chokepoint (CONNECT, pinned)"),
    ("chokepoint (SNI, DNS 2 ms)", "chokepoint (SNI, pinned)"),
    ("chokepoint (CONNECT, DNS 2 ms)", "squid (DNS 2 ms)"),
    ("chokepoint (CONNECT, DNS 0 ms)", "squid (DNS 0 ms)"),
    ("chokepoint (SNI, DNS 2 ms)", "nginx stream (resolver, DNS 2 ms)"),
    ("chokepoint (SNI, DNS 0 ms)", "nginx stream (resolver, DNS 0 ms)"),
]


def main_resolving(options):
    work = tempfile.mkdtemp(prefix="chokepoint-bench-dns-")
    sink_proc, sink = start_sink()
    dns = {label: DnsServerProcess(address, delay) for label, (address, delay) in RESOLVERS.items()}
    peers = make_resolving_peers(sink, work, dns)
    if options.only:
        peers = [p for p in peers if any(w in p.name for w in options.only.split(","))]
    try:
        results = rate_rounds(peers, sink, options)
    finally:
        for server in dns.values():
            server.stop()
        os.killpg(sink_proc.pid, signal.SIGTERM)
    report = render_resolving(results, options)
    write_results(report, results, options.out)
    shutil.rmtree(work, ignore_errors=True)


def render_resolving(results, options):
    lines = ["# Resolving: no proxy pinned", "",
             "Generated by `bench/run.py --resolving --rounds %d --seconds %d` on %s, %d cores, kernel %s, %s." % (
                 options.rounds, options.seconds, platform.node(), os.cpu_count(), platform.release(),
                 time.strftime("%Y-%m-%d")),
             "Every proxy resolves %s through tests/e2e/dns_server.py on loopback (answering at once, or after "
             "2 ms in the server process; TTL 300 s), except the pinned chokepoint rows (--connect-to). 64 "
             "concurrent exchanges of 64 bytes; every proxy runs throughout and each round visits them back to back "
             "in a rotating order." % NAME, "",
             "Each cell: median over rounds (min-max).", "",
             "| proxy | exchanges/s | p50 / p99 ms | proxy CPU µs per exchange | DNS questions/s |",
             "|---|---|---|---|---|"]
    for name, rounds in results.items():
        if not rounds:
            continue
        col = lambda k: [r[k] for r in rounds if k in r]
        lines.append("| %s | %s | %.1f / %.1f | %s | %s |" % (
            name, cell(rounds, "rate", "%.0f"), med(col("p50")) / 1000, med(col("p99")) / 1000,
            cell(rounds, "cpu_us", "%.0f"), cell(rounds, "qps", "%.1f")))
    lines += ["", "## Round by round", "",
              "The ratio of the two rows within each round: median (min-max).", "",
              "| rows | exchanges/s | p99 | CPU per exchange |", "|---|---|---|---|"]
    for ours, theirs in RESOLVING_COMPARISONS:
        if not results.get(ours) or not results.get(theirs):
            continue
        cells = [spread(per_round_ratios(results[ours], results[theirs], key), "%.2f")
                 for key in ("rate", "p99", "cpu_us")]
        lines.append("| %s / %s | %s |" % (ours, theirs, " | ".join(cells)))
    lines.append("")
    return "\n".join(lines)


def make_proxy_protocol_peers(sink, work):
    """chokepoint with and without --proxy-protocol-from, pinned to the sink, on the full catalog."""
    config = os.path.join(work, "proxy-protocol.yaml")
    with open(config, "w") as f:
        f.write("version: 1\ninclude: builtin:deep-security.yaml\nrules:\n"
                "  - {id: bench-name, ports: [%d], destinations: [%s]}\n" % (sink, NAME))
    peers = []
    for name, mode, listen_flag, header in (
            ("chokepoint (CONNECT)", "connect", "--listen", None),
            ("chokepoint (CONNECT, PROXY v2)", "connect", "--listen", "v2"),
            ("chokepoint (CONNECT, PROXY v1)", "connect", "--listen", "v1"),
            ("chokepoint (SNI)", "sni", "--sni-listen", None),
            ("chokepoint (SNI, PROXY v2)", "sni", "--sni-listen", "v2")):
        port = free_port()
        trust = ["--proxy-protocol-from", "127.0.0.1/32"] if header else []
        peer = Peer(name, mode, [CHOKEPOINT, "run", *QUIET, "--config", config, listen_flag, "127.0.0.1:%d" % port,
                                 "--threads", "2", "--sni-port", str(sink),
                                 "--connect-to", "%s:%d:127.0.0.1:%d" % (NAME, sink, sink),
                                 "--audit-log", os.path.join(work, "audit-%d.jsonl" % port), *trust], port, work)
        peer.loadgen_extra = ["--proxy-header", header] if header else []
        peers.append(peer)
    return peers


PROXY_PROTOCOL_COMPARISONS = [
    ("chokepoint (CONNECT, PROXY v2)", "chokepoint (CONNECT)"),
    ("chokepoint (CONNECT, PROXY v1)", "chokepoint (CONNECT)"),
    ("chokepoint (SNI, PROXY v2)", "chokepoint (SNI)"),
]


def main_proxy_protocol(options):
    work = tempfile.mkdtemp(prefix="chokepoint-bench-pp-")
    sink_proc, sink = start_sink()
    peers = make_proxy_protocol_peers(sink, work)
    try:
        results = rate_rounds(peers, sink, options)
    finally:
        os.killpg(sink_proc.pid, signal.SIGTERM)
    report = render_proxy_protocol(results, options)
    write_results(report, results, options.out)
    shutil.rmtree(work, ignore_errors=True)


def render_proxy_protocol(results, options):
    lines = ["# The PROXY protocol's cost per connection", "",
             "Generated by `bench/run.py --proxy-protocol --rounds %d --seconds %d` on %s, %d cores, kernel %s, %s." % (
                 options.rounds, options.seconds, platform.node(), os.cpu_count(), platform.release(),
                 time.strftime("%Y-%m-%d")),
             "chokepoint on the full catalog, pinned to the sink (--connect-to), auditing to a file; the PROXY rows "
             "run with --proxy-protocol-from 127.0.0.1/32 and the load generator puts a header naming one of 250 "
             "clients in front of each CONNECT or ClientHello, in the same write (as HAProxy and nginx do). 64 "
             "concurrent exchanges of 64 bytes; every proxy runs throughout and each round visits them back to back "
             "in a rotating order.", "",
             "Each cell: median over rounds (min-max).", "",
             "| proxy | exchanges/s | p50 / p99 ms | proxy CPU µs per exchange |", "|---|---|---|---|"]
    for name, rounds in results.items():
        if not rounds:
            continue
        col = lambda k: [r[k] for r in rounds if k in r]
        lines.append("| %s | %s | %.1f / %.1f | %s |" % (
            name, cell(rounds, "rate", "%.0f"), med(col("p50")) / 1000, med(col("p99")) / 1000,
            cell(rounds, "cpu_us", "%.1f")))
    lines += ["", "## Round by round", "",
              "The ratio of the two rows within each round, and the difference in CPU per exchange: "
              "median (min-max).", "",
              "| rows | exchanges/s | p99 | CPU per exchange | CPU µs more per exchange |", "|---|---|---|---|---|"]
    for ours, theirs in PROXY_PROTOCOL_COMPARISONS:
        if not results.get(ours) or not results.get(theirs):
            continue
        cells = [spread(per_round_ratios(results[ours], results[theirs], key), "%.2f")
                 for key in ("rate", "p99", "cpu_us")]
        extra = [r["cpu_us"] - b["cpu_us"] for r, b in zip(results[ours], results[theirs])]
        cells.append(spread(extra, "%.1f"))
        lines.append("| %s / %s | %s |" % (ours, theirs, " | ".join(cells)))
    lines.append("")
    return "\n".join(lines)


def loadgen(*args, timeout=120):
    out = subprocess.run([LOADGEN, *args], capture_output=True, text=True, timeout=timeout)
    return json.loads(out.stdout.strip().splitlines()[-1])


def target_args(peer, sink):
    if peer is None:
        return ["--mode", "direct", "--to", "127.0.0.1:%d" % sink]
    if peer.mode == "connect-ip":
        return ["--mode", "connect", "--to", "127.0.0.1:%d" % peer.port, "--name", "127.0.0.1", "--port", str(sink)]
    return ["--mode", peer.mode, "--to", "127.0.0.1:%d" % peer.port, "--name", NAME, "--port", "443"]


def name_of(peer):
    return peer.name if peer else "direct"


def rate_with(peer, sink, seconds, pattern, suffix):
    """Connection rate in one exchange pattern, 64 at a time, with the
    proxy's CPU time per exchange."""
    cpu_before = cpu_seconds(peer.proc.pid) if peer else 0
    r = loadgen("rate", *target_args(peer, sink), "--concurrency", "64", "--threads", "2", "--seconds", str(seconds),
                "--pattern", pattern)
    result = {"rate" + suffix: r["per_s"], "p50" + suffix: r["p50_us"], "p99" + suffix: r["p99_us"],
              "p999" + suffix: r["p999_us"], "rate_failures" + suffix: r["failures"]}
    if peer and r["per_s"] > 0:
        result["cpu_us" + suffix] = 1e6 * (cpu_seconds(peer.proc.pid) - cpu_before) / (r["per_s"] * seconds)
    return result


def measure_rate(peer, sink, seconds, _count):
    """Echo: set up, 64 bytes each way, close."""
    return rate_with(peer, sink, seconds, "echo", "")


def measure_rate_flight(peer, sink, seconds, _count):
    """As a TLS client's exchange goes: a ClientHello, the server's first
    flight (4,000 bytes) back through the proxy, then 64 bytes each way, close."""
    return rate_with(peer, sink, seconds, "flight", "_flight")


def measure_throughput(peer, sink, seconds, _count):
    """1 and 8 streams each way, and the proxy's CPU time per GiB they moved."""
    result = {}
    moved = 0
    cpu_before = cpu_seconds(peer.proc.pid) if peer else 0
    for streams in (1, 8):
        for direction in ("up", "down"):
            t = loadgen("throughput", *target_args(peer, sink), "--streams", str(streams), "--direction", direction,
                        "--seconds", str(seconds))
            result["%s%d" % (direction, streams)] = t["gbit_s"]
            moved += t["bytes"]
    if peer:
        result["cpu_per_gib"] = (cpu_seconds(peer.proc.pid) - cpu_before) / (moved / 2**30)
    return result


def measure_idle(peer, sink, _seconds, count):
    """The proxy's memory (PSS) per idle tunnel, with `count` of them open."""
    if not peer:
        return {}
    # A fresh process: one that has just relayed gigabytes keeps freed memory
    # resident, and idle tunnels would fit in it without growing anything.
    peer.stop()
    peer.start()
    before = memory_kib(peer.proc.pid)
    holder = subprocess.Popen([LOADGEN, "idle", *target_args(peer, sink), "--count", str(count)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    opened = json.loads(holder.stdout.readline())
    time.sleep(1.0)
    after = memory_kib(peer.proc.pid)
    holder.stdin.close()
    holder.wait(60)
    return {"idle_open": opened["open"], "idle_kib": (after - before) / max(1, opened["open"])}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=5)
    # A proxy holds two descriptors per tunnel; this machine caps a process at
    # 20,000 (and root may not raise the cap here), and haproxy reserves about
    # 2.5 per connection: 7,000 tunnels fit every peer.
    parser.add_argument("--idle", type=int, default=7000)
    parser.add_argument("--out", default=os.path.join(HERE, "results", "RESULTS.md"))
    parser.add_argument("--only", default="", help="comma-separated peer names to run (default all)")
    parser.add_argument("--resolving", action="store_true",
                        help="no proxy pinned: every one resolves through a DNS server the bench starts")
    parser.add_argument("--baseline", default="",
                        help="a build directory of another chokepoint version to run beside this one")
    parser.add_argument("--proxy-protocol", action="store_true",
                        help="chokepoint with and without PROXY protocol headers from a trusted balancer")
    options = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench/run.py needs root (descriptor limits, package installs)")
    ensure_packages()
    import resource
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if options.resolving:
        if options.out == os.path.join(HERE, "results", "RESULTS.md"):
            options.out = os.path.join(HERE, "results", "RESOLVING.md")
        main_resolving(options)
        return
    if options.proxy_protocol:
        if options.out == os.path.join(HERE, "results", "RESULTS.md"):
            options.out = os.path.join(HERE, "results", "PROXY_PROTOCOL.md")
        main_proxy_protocol(options)
        return
    work = tempfile.mkdtemp(prefix="chokepoint-bench-")
    sink_proc, sink = start_sink()
    peers = make_peers(sink, work, options.baseline)
    if options.only:
        wanted = options.only.split(",")
        peers = [p for p in peers if any(w in p.name for w in wanted)]
    results = {"direct": []}
    for p in peers:
        results[p.name] = []
    try:
        # Every proxy runs for the whole benchmark (an idle one costs nothing),
        # so each scenario can visit them all back to back: this machine's
        # speed drifts by tens of percent over minutes, and figures taken
        # seconds apart compare fairly. The order rotates every round, so no
        # proxy always comes first or right after the heaviest load.
        for peer in peers:
            peer.start()
        everyone = [None] + peers
        for round_number in range(options.rounds):
            print("round %d/%d" % (round_number + 1, options.rounds), flush=True)
            shift = round_number % len(everyone)
            order = everyone[shift:] + everyone[:shift]
            current = {name_of(p): {} for p in order}
            for scenario in (measure_rate, measure_rate_flight, measure_throughput, measure_idle):
                for peer in order:
                    current[name_of(peer)].update(scenario(peer, sink, options.seconds, options.idle))
            for peer in everyone:
                results[name_of(peer)].append(current[name_of(peer)])
                print("  %s %s" % (name_of(peer), current[name_of(peer)]), flush=True)
    finally:
        for peer in peers:
            peer.stop()
        os.killpg(sink_proc.pid, signal.SIGTERM)
    report = render(results, options)
    write_results(report, results, options.out)
    shutil.rmtree(work, ignore_errors=True)


def med(values):
    return statistics.median(values) if values else float("nan")


def spread(values, fmt):
    text = fmt % med(values)
    if len(values) > 1:
        text += " (" + fmt % min(values) + "-" + fmt % max(values) + ")"
    return text


def per_round_ratios(rounds, baseline, key):
    """The ratio of the two rows in each round that has both figures."""
    return [r[key] / b[key] for r, b in zip(rounds, baseline) if key in r and b.get(key)]


def cell(rounds, key, fmt, direct=None):
    values = [r[key] for r in rounds if key in r]
    if not values:
        return "-"
    text = spread(values, fmt)
    if direct:
        text += " [%.2fx]" % med(per_round_ratios(rounds, direct, key))
    return text


# chokepoint against the peer a user would pick instead for the same job (and
# the full catalog against a one-line policy, the cost of deciding).
COMPARISONS = [
    ("chokepoint (SNI)", "haproxy (splice)"),
    ("chokepoint (SNI)", "nginx stream (ssl_preread)"),
    ("chokepoint (CONNECT)", "squid"),
    ("chokepoint (CONNECT)", "tinyproxy"),
    ("chokepoint (CONNECT)", "nginx stream (ssl_preread)"),
    ("chokepoint (CONNECT)", "chokepoint (CONNECT, one-line policy)"),
    ("chokepoint (SOCKS5)", "chokepoint (CONNECT)"),
    ("chokepoint (SOCKS5)", "squid"),
    ("chokepoint (SNI)", "baseline (SNI)"),
    ("chokepoint (CONNECT)", "baseline (CONNECT)"),
    ("baseline (SNI)", "haproxy (splice)"),
    ("baseline (SNI)", "nginx stream (ssl_preread)"),
]
COLUMNS = [("rate", "exchanges/s"), ("p99", "p99 latency"), ("cpu_us", "CPU per exchange"),
           ("rate_flight", "exchanges/s, first flight"), ("p99_flight", "p99, first flight"),
           ("cpu_us_flight", "CPU per exchange, first flight"), ("up1", "1 stream up"), ("down1", "1 stream down"),
           ("up8", "8 streams up"), ("down8", "8 streams down"), ("cpu_per_gib", "CPU per GiB"),
           ("idle_kib", "idle tunnel memory")]


def render(results, options):
    lines = ["# chokepoint side by side", "",
             "Generated by `bench/run.py --rounds %d --seconds %d --idle %d` on %s, %d cores, kernel %s, %s." % (
                 options.rounds, options.seconds, options.idle, platform.node(), os.cpu_count(), platform.release(),
                 time.strftime("%Y-%m-%d")),
             "Load generator, sink and proxies share the cores on loopback; every proxy runs throughout, and "
             "each scenario visits them all back to back, in an order that rotates every round.", "",
             "Each cell: median over rounds, (min-max), and [the median of the per-round ratios to direct] "
             "where it applies.", ""]
    direct = results["direct"]
    header = ("| proxy | exchanges/s (64 concurrent) | p50 / p99 / p99.9 ms | CPU µs per exchange "
              "| first flight: exchanges/s | p50 / p99 / p99.9 ms | CPU µs per exchange "
              "| 1 stream up Gbit/s | 1 stream down | 8 streams up | 8 streams down | CPU s per GiB | idle tunnel KiB |")
    lines += [header, "|" + "---|" * 13]
    for name, rounds in results.items():
        if not rounds:
            continue
        col = lambda k: [r[k] for r in rounds if k in r]
        latency = lambda suffix: "%.1f / %.1f / %.1f" % (
            med(col("p50" + suffix)) / 1000, med(col("p99" + suffix)) / 1000, med(col("p999" + suffix)) / 1000)
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            name, cell(rounds, "rate", "%.0f", direct), latency(""), cell(rounds, "cpu_us", "%.0f"),
            cell(rounds, "rate_flight", "%.0f", direct), latency("_flight"), cell(rounds, "cpu_us_flight", "%.0f"),
            cell(rounds, "up1", "%.1f", direct), cell(rounds, "down1", "%.1f", direct),
            cell(rounds, "up8", "%.1f", direct), cell(rounds, "down8", "%.1f", direct),
            cell(rounds, "cpu_per_gib", "%.3f"), cell(rounds, "idle_kib", "%.2f")))
    lines += ["", "## chokepoint against each peer, round by round", "",
              "The ratio of the two rows within each round: median (min-max). Above 1 is chokepoint ahead for "
              "rates and throughput; below 1 is chokepoint ahead for latency, CPU and memory.", "",
              "| chokepoint / peer | " + " | ".join(title for _, title in COLUMNS) + " |",
              "|" + "---|" * (len(COLUMNS) + 1)]
    for ours, theirs in COMPARISONS:
        if not results.get(ours) or not results.get(theirs):
            continue
        cells = []
        for key, _ in COLUMNS:
            ratios = per_round_ratios(results[ours], results[theirs], key)
            cells.append(spread(ratios, "%.2f") if ratios else "-")
        lines.append("| %s / %s | %s |" % (ours, theirs, " | ".join(cells)))
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
