"""Operations with real parts: hot reload under load, a bad reload, graceful
drain, the admin endpoint scraped with the Prometheus client's own parser,
audit records received by real syslog listeners (UDP, TCP, TLS; JSON and
CEF), a SIEM that is down, the buffer budget, and least privilege."""

import base64
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from prometheus_client.parser import text_string_to_metric_families

from harness import CA, CHOKEPOINT, EchoUpstream, HttpUpstream, Proxy, read_http_response, wait_until
from syslog_receiver import SyslogReceiver

ALLOW_FILES = """version: 1
rules:
  - {id: download, service: Download Center, ports: [443], destinations: [files.trendmicro.com]}
  - {id: update, service: ActiveUpdate, ports: [443], destinations: [iaus.activeupdate.trendmicro.com]}
"""
# The same, without files.trendmicro.com.
UPDATE_ONLY = """version: 1
rules:
  - {id: update, service: ActiveUpdate, ports: [443], destinations: [iaus.activeupdate.trendmicro.com]}
"""


def connect_through(proxy, host, port=443):
    """A CONNECT tunnel: (socket, status)."""
    sock = proxy.connect()
    sock.sendall(b"CONNECT %s:%d HTTP/1.1\r\nHost: %s:%d\r\n\r\n" % (host.encode(), port, host.encode(), port))
    status, headers, _ = read_http_response(sock)
    return sock, status, headers


def echo_round_trip(sock, payload):
    """Sends payload, half-closes, and returns the echo server's answer."""
    sock.sendall(payload)
    sock.shutdown(socket.SHUT_WR)
    answer = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return answer
        answer += chunk


def metrics(proxy):
    status, text = proxy.admin("/metrics")
    assert status == 200, status
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            key = (sample.name, tuple(sorted(sample.labels.items())))
            samples[key] = sample.value
    return samples


def sample(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0)


def serving(proxy, text):
    """Whether the proxy's running policy is `text` (by its sha256)."""
    return json.loads(proxy.admin("/policy")[1])["sha256"] == hashlib.sha256(text.encode()).hexdigest()


def write_atomically(path, text):
    """As editors and ConfigMaps do: a new file renamed over the old one."""
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)


class ReloadTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="chokepoint-reload-")
        self.config = os.path.join(self.dir, "policy.yaml")
        with open(self.config, "w") as f:
            f.write(ALLOW_FILES)
        self.echo = EchoUpstream()
        self.proxy = Proxy("--connect-to", "::127.0.0.1:%d" % self.echo.port, config=self.config)

    def tearDown(self):
        self.proxy.stop()
        self.echo.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_reload_under_load_drops_no_tunnel_and_loses_no_record(self):
        stop = threading.Event()
        failures = []
        done = [0]
        lock = threading.Lock()

        def client(n):
            i = 0
            while not stop.is_set():
                payload = b"client %d round %d " % (n, i) * 50
                try:
                    sock, status, _ = connect_through(self.proxy, "iaus.activeupdate.trendmicro.com")
                    if status != 200:
                        failures.append("status %d" % status)
                        continue
                    answer = echo_round_trip(sock, payload)
                    sock.close()
                    if not answer.startswith(b"got %d " % len(payload)):
                        failures.append("answer %r" % answer[:40])
                        continue
                except OSError as e:
                    failures.append(repr(e))
                    continue
                with lock:
                    done[0] += 1
                i += 1

        # One long tunnel, opened under the old policy, to a host the new one drops.
        long_sock, status, _ = connect_through(self.proxy, "files.trendmicro.com")
        self.assertEqual(status, 200)
        long_sock.sendall(b"before the reloads ")

        threads = [threading.Thread(target=client, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        # Six reloads, by each of the three triggers, alternating the policy.
        for round_ in range(6):
            time.sleep(0.3)
            text = UPDATE_ONLY if round_ % 2 == 0 else ALLOW_FILES
            trigger = ("sighup", "post", "file")[round_ % 3]
            if trigger == "file":
                write_atomically(self.config, text)
            else:
                with open(self.config, "w") as f:
                    f.write(text)
                if trigger == "sighup":
                    self.proxy.proc.send_signal(signal.SIGHUP)
                else:
                    status, body = self.proxy.admin("/reload", method="POST")
                    self.assertEqual(status, 200, body)
            self.assertTrue(wait_until(lambda: serving(self.proxy, text)),
                            "reload %d (%s) did not take effect" % (round_, trigger))
        time.sleep(0.3)
        stop.set()
        for t in threads:
            t.join(30)
        self.assertEqual(failures, [])
        self.assertGreater(done[0], 50)

        # The last policy (round 5) allows files again; round 4's did not.
        # Now move to UPDATE_ONLY for good and check both sides of the swap.
        write_atomically(self.config, UPDATE_ONLY)
        self.assertTrue(wait_until(lambda: serving(self.proxy, UPDATE_ONLY)))
        sock, status, headers = connect_through(self.proxy, "files.trendmicro.com")
        sock.close()
        self.assertEqual(status, 403)
        # The tunnel opened before every reload still relays under its own decision.
        self.assertEqual(echo_round_trip(long_sock, b"after them")[:7], b"got 29 ")
        long_sock.close()

        expected_opens = done[0] + 1  # every client round trip and the long tunnel
        self.proxy.wait_records(lambda r: r["event"] == "close", count=expected_opens, timeout=10)
        records = self.proxy.records()
        opens = [r for r in records if r["event"] == "open"]
        closes = [r for r in records if r["event"] == "close"]
        self.assertEqual(len(opens), expected_opens)
        self.assertEqual(sorted(r["id"] for r in opens), sorted(r["id"] for r in closes))
        self.assertTrue(all(r["end"] == "eof" for r in closes), [r for r in closes if r["end"] != "eof"])
        m = metrics(self.proxy)
        # In-place writes also wake the file watch, so some rounds reload twice.
        self.assertGreaterEqual(sample(m, "chokepoint_policy_reloads_total"), 7)
        self.assertEqual(sample(m, "chokepoint_policy_reload_failures_total"), 0)
        self.assertEqual(sample(m, "chokepoint_audit_records_dropped_total"), 0)

    def test_other_files_in_the_directory_do_not_reload(self):
        before = json.loads(self.proxy.admin("/policy")[1])["generation"]
        with open(os.path.join(self.dir, "notes.txt"), "w") as f:
            f.write("not a policy\n")
        write_atomically(os.path.join(self.dir, "other.yaml"), "version: 1\n")
        time.sleep(1.0)  # four debounce periods
        self.assertEqual(json.loads(self.proxy.admin("/policy")[1])["generation"], before)
        write_atomically(self.config, UPDATE_ONLY)
        self.assertTrue(wait_until(lambda: serving(self.proxy, UPDATE_ONLY)))

    def test_a_bad_reload_changes_nothing(self):
        before = json.loads(self.proxy.admin("/policy")[1])
        broken = ALLOW_FILES.replace("ports: [443], destinations: [files", "ports: [70000], destinations: [files")
        with open(self.config, "w") as f:
            f.write(broken + "  - {id: oops, destinations: ['*.com']}\n")
        status, body = self.proxy.admin("/reload", method="POST")
        self.assertEqual(status, 422)
        self.assertRegex(body, r"policy\.yaml:3:54: bad port '70000'")
        self.assertRegex(body, r"policy\.yaml:5:31: '\*\.com' .* public suffix 'com'")
        # The running policy stays, and the proxy is still ready.
        self.assertEqual(self.proxy.admin("/readyz"), (200, "ready\n"))
        after = json.loads(self.proxy.admin("/policy")[1])
        self.assertEqual(after["sha256"], before["sha256"])
        self.assertEqual(after["generation"], before["generation"])
        sock, status, _ = connect_through(self.proxy, "files.trendmicro.com")
        self.assertEqual(status, 200)
        self.assertEqual(echo_round_trip(sock, b"still allowed")[:7], b"got 13 ")
        sock.close()
        # A broken file noticed by the watch is refused the same way, and counted.
        write_atomically(self.config, "version: 1\nrules: [\n")
        self.assertTrue(wait_until(lambda: sample(metrics(self.proxy), "chokepoint_policy_reload_failures_total") == 2))
        self.assertIn("the running policy stays", self.proxy.stderr_text())
        self.assertRegex(self.proxy.stderr_text(), r"policy\.yaml:\d+:\d+: ")
        sock, status, _ = connect_through(self.proxy, "files.trendmicro.com")
        sock.close()
        self.assertEqual(status, 200)


class ConfigMapReloadTest(unittest.TestCase):
    def test_a_configmap_symlink_swap_reloads_the_policy(self):
        # The kubelet's atomic writer: the file is a symlink through ..data,
        # and an update renames a new ..data symlink over the old one.
        directory = tempfile.mkdtemp(prefix="chokepoint-configmap-")

        def publish(version, text):
            payload = os.path.join(directory, "..%d" % version)
            os.mkdir(payload)
            with open(os.path.join(payload, "policy.yaml"), "w") as f:
                f.write(text)
            os.symlink("..%d" % version, os.path.join(directory, "..data_tmp"))
            os.rename(os.path.join(directory, "..data_tmp"), os.path.join(directory, "..data"))

        publish(1, ALLOW_FILES)
        os.symlink("..data/policy.yaml", os.path.join(directory, "policy.yaml"))
        echo = EchoUpstream()
        proxy = Proxy("--connect-to", "::127.0.0.1:%d" % echo.port, config=os.path.join(directory, "policy.yaml"))
        try:
            sock, status, _ = connect_through(proxy, "files.trendmicro.com")
            sock.close()
            self.assertEqual(status, 200)
            publish(2, UPDATE_ONLY)
            self.assertTrue(wait_until(lambda: serving(proxy, UPDATE_ONLY)))
            sock, status, _ = connect_through(proxy, "files.trendmicro.com")
            sock.close()
            self.assertEqual(status, 403)
            # Logged after the new policy is in place, so a client may see
            # it first.
            self.assertTrue(wait_until(lambda: "reload (a config file changed)" in proxy.stderr_text()),
                            proxy.stderr_text())
        finally:
            proxy.stop()
            echo.stop()
            shutil.rmtree(directory, ignore_errors=True)


class UsersReloadTest(unittest.TestCase):
    """The users file of proxy authentication is re-read with the policy."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="chokepoint-users-")
        self.users = os.path.join(self.dir, "users")
        self.passwd("alice", "old-secret")
        config = os.path.join(self.dir, "policy.yaml")
        with open(config, "w") as f:
            f.write(ALLOW_FILES)
        self.echo = EchoUpstream()
        self.proxy = Proxy("--users-file", self.users, "--connect-to", "::127.0.0.1:%d" % self.echo.port,
                           config=config)

    def tearDown(self):
        self.proxy.stop()
        self.echo.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def passwd(self, user, password):
        subprocess.run([CHOKEPOINT, "passwd", "--users-file", self.users, "--iterations", "1000", user],
                       input=password + "\n", text=True, check=True, capture_output=True)

    def status_as(self, user, password):
        credentials = base64.b64encode(("%s:%s" % (user, password)).encode())
        sock = self.proxy.connect()
        sock.sendall(b"CONNECT files.trendmicro.com:443 HTTP/1.1\r\nHost: files.trendmicro.com:443\r\n"
                     b"Proxy-Authorization: Basic %s\r\n\r\n" % credentials)
        status, _, _ = read_http_response(sock)
        sock.close()
        return status

    def test_a_changed_users_file_takes_effect_without_a_restart(self):
        self.assertEqual(self.status_as("alice", "old-secret"), 200)  # now remembered
        self.assertEqual(self.status_as("bob", "bob-secret"), 407)
        self.passwd("alice", "new-secret")
        self.passwd("bob", "bob-secret")
        # The file watch reloads; nothing else tells the proxy.
        self.assertTrue(wait_until(lambda: self.status_as("bob", "bob-secret") == 200), self.proxy.stderr_text())
        self.assertRegex(self.proxy.stderr_text(), r"2 users from .*users")
        # The remembered credential went with the old users.
        self.assertEqual(self.status_as("alice", "old-secret"), 407)
        self.assertEqual(self.status_as("alice", "new-secret"), 200)

    def test_a_broken_users_file_changes_nothing(self):
        self.assertEqual(self.status_as("alice", "old-secret"), 200)
        with open(self.users, "a") as f:
            f.write("mallory:not-a-hash\n")
        status, body = self.proxy.admin("/reload", method="POST")
        self.assertEqual(status, 422)
        self.assertRegex(body, r"users:2:\d+: ")
        self.assertEqual(self.status_as("alice", "old-secret"), 200)
        self.assertEqual(self.status_as("mallory", "not-a-hash"), 407)


class DrainTest(unittest.TestCase):
    def setUp(self):
        self.echo = EchoUpstream()

    def tearDown(self):
        self.echo.stop()

    def test_sigterm_stops_accepting_and_lets_open_tunnels_finish(self):
        proxy = Proxy("--connect-to", "::127.0.0.1:%d" % self.echo.port)
        tunnels = []
        for _ in range(3):
            sock, status, _ = connect_through(proxy, "files.trendmicro.com")
            self.assertEqual(status, 200)
            tunnels.append(sock)
        proxy.wait_records(lambda r: r["event"] == "open", count=3)
        proxy.proc.send_signal(signal.SIGTERM)
        self.assertTrue(wait_until(lambda: "draining" in proxy.stderr_text()))
        # Not ready, no longer accepting; the open tunnels still carry bytes.
        self.assertTrue(wait_until(lambda: proxy.admin("/readyz")[0] == 503))
        with self.assertRaises(ConnectionRefusedError):
            proxy.connect()
        self.assertEqual(proxy.proc.poll(), None)
        for i, sock in enumerate(tunnels):
            time.sleep(0.2)
            self.assertEqual(proxy.proc.poll(), None, "exited with tunnels open")
            self.assertEqual(echo_round_trip(sock, b"x" * (i + 1))[:6], b"got %d " % (i + 1))
            sock.close()
        proxy.proc.wait(5)
        self.assertEqual(proxy.proc.returncode, 0)
        closes = [r for r in proxy.records() if r["event"] == "close"]
        self.assertEqual(len(closes), 3)
        self.assertTrue(all(r["end"] == "eof" for r in closes))

    def test_the_drain_period_ends_what_is_left_each_with_its_record(self):
        proxy = Proxy("--drain-timeout", "1s", "--connect-to", "::127.0.0.1:%d" % self.echo.port)
        sock, status, _ = connect_through(proxy, "files.trendmicro.com")
        self.assertEqual(status, 200)
        proxy.wait_records(lambda r: r["event"] == "open")
        start = time.monotonic()
        proxy.proc.send_signal(signal.SIGTERM)
        proxy.proc.wait(10)
        self.assertGreaterEqual(time.monotonic() - start, 0.9)
        self.assertEqual(proxy.proc.returncode, 0)
        [close] = [r for r in proxy.records() if r["event"] == "close"]
        self.assertEqual(close["end"], "shutdown")
        self.assertIn("drain period over; ending 1 connections", proxy.stderr_text())
        sock.close()


class AdminTest(unittest.TestCase):
    def test_metrics_health_policy_and_connections(self):
        tls = HttpUpstream(tls=True)
        proxy = Proxy("--connect-to", "::127.0.0.1:%d" % tls.port)
        open_sock = None
        try:
            self.assertEqual(proxy.admin("/healthz"), (200, "ok\n"))
            self.assertEqual(proxy.admin("/readyz"), (200, "ready\n"))
            policy = json.loads(proxy.admin("/policy")[1])
            self.assertEqual(policy["source"], "builtin:deep-security.yaml")
            self.assertRegex(policy["sha256"], "^[0-9a-f]{64}$")
            self.assertEqual(policy["rules"], 30)

            result = subprocess.run(["curl", "-sS", "-x", proxy.url, "--cacert", CA, "https://files.trendmicro.com/m"],
                                    capture_output=True, text=True, timeout=30)
            self.assertEqual(result.returncode, 0, result.stderr)
            sock, status, _ = connect_through(proxy, "evil.example.com")
            sock.close()
            self.assertEqual(status, 403)
            sock = proxy.connect()
            sock.sendall(b"BREW /pot HTCPCP/1.0\r\n\r\n")
            self.assertEqual(read_http_response(sock)[0], 400)
            sock.close()
            open_sock, status, _ = connect_through(proxy, "ds20.icrc.trendmicro.com")
            self.assertEqual(status, 200)
            open_sock.sendall(b"ping")  # not TLS: relayed as it is, and counted in the listing

            proxy.wait_records(lambda r: r["event"] == "close")
            # A CONNECT tunnel relays once its first bytes were checked (TLS or not):
            # "ping" may still be on its way.
            self.assertTrue(wait_until(lambda: sample(metrics(proxy), "chokepoint_open_tunnels") == 1))
            m = metrics(proxy)
            self.assertEqual(sample(m, "chokepoint_decisions_total", decision="allow", role="any",
                                    rule="download-center", service="Download Center or web server"), 1)
            self.assertEqual(sample(m, "chokepoint_decisions_total", decision="deny", role="any", rule="",
                                    service=""), 1)
            self.assertEqual(sample(m, "chokepoint_refusals_total", reason="no_matching_rule"), 1)
            self.assertGreaterEqual(sample(m, "chokepoint_refusals_total", reason="bad_request"), 1)
            self.assertEqual(sample(m, "chokepoint_open_tunnels"), 1)
            self.assertGreater(sample(m, "chokepoint_bytes_total", direction="down"), 1000)
            self.assertGreater(sample(m, "chokepoint_bytes_total", direction="up"), 100)
            self.assertEqual(sample(m, "chokepoint_connect_seconds_count"), 2)
            self.assertEqual(sample(m, "chokepoint_connect_seconds_bucket", le="+Inf"), 2)
            self.assertEqual(sample(m, "chokepoint_ready"), 1)
            self.assertEqual(sample(m, "chokepoint_policy_rules"), 30)
            sinks = [k for k in m if k[0] == "chokepoint_audit_records_written_total"]
            self.assertEqual(len(sinks), 1)
            # The audit thread writes within its interval: the count catches up.
            self.assertTrue(wait_until(lambda: metrics(proxy)[sinks[0]] >= 4))

            connections = json.loads(proxy.admin("/connections")[1])
            self.assertEqual(len(connections), 1)
            [c] = connections
            self.assertEqual(c["host"], "ds20.icrc.trendmicro.com")
            self.assertEqual(c["port"], 443)
            self.assertEqual(c["mode"], "connect")
            self.assertEqual(c["rule"], "spn-smart-scan")
            self.assertTrue(wait_until(lambda: json.loads(proxy.admin("/connections")[1])[0]["bytes_up"] == 4))
            [opened] = proxy.wait_records(lambda r: r["event"] == "open" and r["host"] == c["host"])
            self.assertEqual(c["id"], opened["id"])
            self.assertEqual(proxy.admin("/nope")[0], 404)
            self.assertEqual(proxy.admin("/reload")[0], 405)
        finally:
            if open_sock:
                open_sock.close()  # else the drain would wait for it
            proxy.stop()
            tls.stop()

    def test_only_requests_for_its_own_names_and_posts_from_its_own_origin(self):
        # DNS rebinding: a page of evil.example, its name now resolving to
        # 127.0.0.1, asks the admin endpoint as evil.example. And any page
        # can send a POST.
        proxy = Proxy()
        port = int(proxy.admin_url.rsplit(":", 1)[1])

        def ask(path, host, method="GET", origin=None, version="1.1"):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            head = "%s %s HTTP/%s\r\n" % (method, path, version)
            if host is not None:
                head += "Host: %s\r\n" % host
            if origin is not None:
                head += "Origin: %s\r\n" % origin
            sock.sendall((head + "Content-Length: 0\r\nConnection: close\r\n\r\n").encode())
            status, _, body = read_http_response(sock)
            sock.close()
            return status, body.decode()

        try:
            pages = ("/", "/metrics", "/connections", "/dns", "/policy", "/proxy.pac", "/healthz",
                     "/readyz", "/nope")
            for path in pages:
                for host in ("evil.example:%d" % port, "evil.example", "127.0.0.1.evil.example",
                             "localhost.evil.example:%d" % port, "127.0.0.2:%d" % port, "x@127.0.0.1"):
                    with self.subTest(path=path, host=host):
                        status, body = ask(path, host)
                        self.assertEqual(status, 421, body)
                        self.assertIn("its own names", body)
                for host in ("127.0.0.1:%d" % port, "127.0.0.1", "localhost:%d" % port, "LOCALHOST.",
                             "[::1]:%d" % port, socket.gethostname(), "localhost:8080"):
                    with self.subTest(path=path, host=host):
                        self.assertNotEqual(ask(path, host)[0], 421)
            # HTTP/1.0 without Host: no browser sends that.
            self.assertEqual(ask("/healthz", None, version="1.0"), (200, "ok\n"))

            generation = json.loads(proxy.admin("/policy")[1])["generation"]
            here = "127.0.0.1:%d" % port
            for origin in ("http://evil.example", "http://evil.example:%d" % port, "null",
                           "https://" + here, "http://127.0.0.1:1", "http://localhost:%d" % port):
                with self.subTest(origin=origin):
                    status, body = ask("/reload", here, method="POST", origin=origin)
                    self.assertEqual(status, 403, body)
            self.assertEqual(json.loads(proxy.admin("/policy")[1])["generation"], generation)
            self.assertEqual(ask("/reload", here, method="POST", origin="http://" + here)[0], 200)
            self.assertEqual(ask("/reload", here, method="POST")[0], 200)  # curl sends no Origin
            self.assertEqual(json.loads(proxy.admin("/policy")[1])["generation"], generation + 2)
        finally:
            proxy.stop()

    def test_a_wildcard_admin_answers_for_the_address_it_was_reached_at(self):
        # As a Kubernetes probe does: Host is the pod's address and port.
        proxy = Proxy("--admin-public", admin="0.0.0.0:0")
        port = int(proxy.admin_url.rsplit(":", 1)[1])
        try:
            for address, host, expected in (("127.0.0.2", "127.0.0.2:%d" % port, 200),
                                            ("127.0.0.2", "127.0.0.3:%d" % port, 421),
                                            ("127.0.0.3", "127.0.0.3", 200)):
                with self.subTest(address=address, host=host):
                    sock = socket.create_connection((address, port), timeout=10)
                    sock.sendall(("GET /readyz HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
                                  % host).encode())
                    self.assertEqual(read_http_response(sock)[0], expected)
                    sock.close()
        finally:
            proxy.stop()

    def test_admin_refuses_a_public_address_unless_told(self):
        result = subprocess.run([CHOKEPOINT, "run", "--listen", "127.0.0.1:0", "--admin", "0.0.0.0:0"],
                                capture_output=True, text=True, timeout=10)
        self.assertEqual(result.returncode, 2)
        self.assertIn("not a loopback address; pass --admin-public", result.stderr)

    def test_a_busy_default_admin_port_is_not_fatal_but_an_explicit_one_is(self):
        blocker = socket.socket()
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        try:
            result = subprocess.run([CHOKEPOINT, "run", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:%d" % port],
                                    capture_output=True, text=True, timeout=10)
            self.assertEqual(result.returncode, 2)
            self.assertIn("(admin)", result.stderr)
        finally:
            blocker.close()


RFC5424 = re.compile(r"^<(\d+)>1 (\S+) (\S+) chokepoint (\d+) (open|close|deny|error) - (.*)$", re.S)


class SyslogTest(unittest.TestCase):
    def test_udp_tcp_and_tls_receivers_get_exactly_the_records(self):
        udp = SyslogReceiver("udp")
        tcp = SyslogReceiver("tcp")
        tls = SyslogReceiver("tls")
        echo = EchoUpstream()
        proxy = Proxy("--syslog", udp.url("json"), "--syslog", tcp.url("cef"), "--syslog", tls.url("cef"),
                      "--syslog-ca", CA, "--connect-to", "::127.0.0.1:%d" % echo.port)
        try:
            sock, status, _ = connect_through(proxy, "files.trendmicro.com")
            self.assertEqual(status, 200)
            echo_round_trip(sock, b"twelve bytes")
            sock.close()
            sock, status, _ = connect_through(proxy, "evil.example.com")
            sock.close()
            self.assertEqual(status, 403)
            # Records of different I/O threads may reach the sinks in either
            # order, but every sink gets the same sequence.
            records = proxy.wait_records(lambda r: True, count=3)
            self.assertEqual(sorted(r["event"] for r in records), ["close", "deny", "open"])
            by_event = {r["event"]: r for r in records}

            got = {name: receiver.wait_messages(3) for name, receiver in
                   (("udp", udp), ("tcp", tcp), ("tls", tls))}
            for name, messages in got.items():
                self.assertEqual(len(messages), 3, (name, messages))
            self.assertEqual(tcp.framing_errors + tls.framing_errors, [])

            for record, message in zip(records, got["udp"]):
                m = RFC5424.match(message)
                self.assertTrue(m, message)
                pri, ts, _, pid, event, payload = m.groups()
                self.assertEqual(int(pri), 16 * 8 + {"open": 6, "close": 6, "deny": 4}[record["event"]])
                self.assertEqual(ts, record["ts"])
                self.assertEqual(int(pid), proxy.proc.pid)
                self.assertEqual(event, record["event"])
                self.assertEqual(json.loads(payload), record)

            for messages in (got["tcp"], got["tls"]):
                self.assertEqual([RFC5424.match(m).group(5) for m in messages], [r["event"] for r in records])
                cef = {RFC5424.match(m).group(5): RFC5424.match(m).group(6) for m in messages}
                open_, close, deny = cef["open"], cef["close"], cef["deny"]
                self.assertTrue(open_.startswith("CEF:0|Trend Micro|chokepoint|"), open_)
                self.assertIn("|open|Connection opened|3|", open_)
                fields = dict(re.findall(r"(\w+)=(\S+)", close.split("|", 7)[7]))
                self.assertEqual(fields["src"], "127.0.0.1")
                self.assertEqual(fields["spt"], by_event["close"]["client"].rsplit(":", 1)[1])
                self.assertEqual(fields["dst"], "127.0.0.1")
                self.assertEqual(fields["dpt"], "443")
                self.assertEqual(fields["dhost"], "files.trendmicro.com")
                self.assertEqual(fields["act"], "allow")
                self.assertEqual(fields["out"], "12")
                self.assertEqual(fields["cs1Label"], "rule")
                self.assertEqual(fields["cs1"], "download-center")
                self.assertEqual(fields["cs5"], by_event["close"]["id"])
                self.assertIn("|deny|Connection denied|7|", deny)
                self.assertIn("dhost=evil.example.com", deny)
                self.assertIn("reason=no_matching_rule", deny)
            self.assertEqual(tls.connections, 1)

            m = metrics(proxy)
            for receiver, fmt in ((udp, "json"), (tcp, "cef"), (tls, "cef")):
                name = "syslog:" + receiver.url(fmt)
                self.assertEqual(sample(m, "chokepoint_audit_records_written_total", sink=name), 3)
                self.assertEqual(sample(m, "chokepoint_audit_records_lost_total", sink=name), 0)
        finally:
            proxy.stop()
            for r in (udp, tcp, tls):
                r.stop()
            echo.stop()
        self.assertIn(" 0 lost", proxy.stderr_text())

    def test_a_siem_that_is_down_blocks_nothing_and_gets_the_backlog_later(self):
        # A port with nothing listening: the SIEM is down when the proxy starts.
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        echo = EchoUpstream()
        proxy = Proxy("--syslog", "tcp://127.0.0.1:%d/json" % port, "--connect-to", "::127.0.0.1:%d" % echo.port)
        receiver = None
        try:
            for i in range(20):
                sock, status, _ = connect_through(proxy, "files.trendmicro.com")
                self.assertEqual(status, 200)
                self.assertEqual(echo_round_trip(sock, b"%02d" % i)[:6], b"got 2 ")
                sock.close()
            proxy.wait_records(lambda r: r["event"] == "close", count=20)
            self.assertIn("records wait, within a bound, and are retried", proxy.stderr_text())
            receiver = SyslogReceiver("tcp", port=port)
            messages = receiver.wait_messages(40, timeout=40)
            self.assertEqual(len(messages), 40)
            ids = [json.loads(RFC5424.match(m).group(6))["id"] for m in messages]
            self.assertEqual(ids, [r["id"] for r in proxy.records()])
            # The SIEM goes away again; what cannot be delivered by shutdown is counted.
            receiver.stop()
            receiver = None
            sock, status, _ = connect_through(proxy, "files.trendmicro.com")
            echo_round_trip(sock, b"late")
            sock.close()
            proxy.wait_records(lambda r: r["event"] == "close", count=21)
        finally:
            proxy.stop(timeout=20)
            if receiver:
                receiver.stop()
            echo.stop()
        self.assertRegex(proxy.stderr_text(), r"stopped; 42 audit records, 2 lost")


class LimitsTest(unittest.TestCase):
    def test_a_spent_buffer_budget_refuses_new_connections_with_503(self):
        echo = EchoUpstream()
        proxy = Proxy("--max-buffer-memory", "1", "--connect-to", "::127.0.0.1:%d" % echo.port)
        try:
            first, status, _ = connect_through(proxy, "files.trendmicro.com")
            self.assertEqual(status, 200)
            first.sendall(b"x" * 1000)  # the tunnel takes a buffer: the budget is spent
            self.assertTrue(wait_until(lambda: sample(metrics(proxy), "chokepoint_buffer_bytes") > 0))
            sock, status, headers = connect_through(proxy, "files.trendmicro.com")
            sock.close()
            self.assertEqual(status, 503)
            self.assertIn("buffer_memory_limit", headers["proxy-status"])
            [refused] = proxy.wait_records(lambda r: r["reason"] == "buffer_memory_limit")
            self.assertEqual(refused["event"], "error")
            self.assertEqual(echo_round_trip(first, b"")[:9], b"got 1000 ")
            first.close()
            self.assertTrue(wait_until(lambda: sample(metrics(proxy), "chokepoint_buffer_bytes") == 0))
            sock, status, _ = connect_through(proxy, "files.trendmicro.com")
            sock.close()
            self.assertEqual(status, 200)
        finally:
            proxy.stop()
            echo.stop()


class ReplacedConfigTest(unittest.TestCase):
    """The issue's finding: a config in a directory others can write, replaced
    by user nobody (mv) while the proxy watches it, changed the policy."""

    @unittest.skipUnless(os.geteuid() == 0, "needs root to act as nobody")
    def test_a_config_replaced_by_another_user_is_refused_and_the_policy_stays(self):
        top = tempfile.mkdtemp(prefix="chokepoint-replaced-")
        os.chmod(top, 0o755)  # nobody may pass through, not write
        directory = os.path.join(top, "conf")
        os.mkdir(directory, 0o755)
        config = os.path.join(directory, "policy.yaml")
        with open(config, "w") as f:
            f.write(UPDATE_ONLY)
        echo = EchoUpstream()
        proxy = Proxy("--connect-to", "::127.0.0.1:%d" % echo.port, config=config)
        try:
            sock, status, _ = connect_through(proxy, "files.trendmicro.com")
            sock.close()
            self.assertEqual(status, 403)
            os.chmod(directory, 0o777)  # an operator's slip
            replaced = subprocess.run(
                ["runuser", "-u", "nobody", "--", "sh", "-c",
                 'cat > "$1.new" && mv "$1.new" "$1"', "sh", config],
                input=ALLOW_FILES, text=True, capture_output=True, timeout=10)
            self.assertEqual(replaced.returncode, 0, replaced.stderr)
            # The file watch noticed, and the reload was refused.
            self.assertTrue(wait_until(lambda: sample(metrics(proxy), "chokepoint_policy_reload_failures_total") >= 1),
                            proxy.stderr_text())
            self.assertIn("the running policy stays", proxy.stderr_text())
            self.assertRegex(proxy.stderr_text(), re.escape(config) + r": owned by uid \d+ \(nobody\), not by root")
            self.assertTrue(serving(proxy, UPDATE_ONLY))
            sock, status, _ = connect_through(proxy, "files.trendmicro.com")
            sock.close()
            self.assertEqual(status, 403)
            # And POST /reload says the same.
            status, body = proxy.admin("/reload", method="POST")
            self.assertEqual(status, 422)
            self.assertIn(config + ": owned by uid", body)
        finally:
            proxy.stop()
            echo.stop()
        result = subprocess.run([CHOKEPOINT, "check", "--config", config], capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 2, result.stdout)
        self.assertIn(config + ": owned by uid", result.stdout + result.stderr)
        # Root's own file there is refused as well: anyone can rename over it.
        os.remove(config)
        with open(config, "w") as f:
            f.write(UPDATE_ONLY)
        result = subprocess.run([CHOKEPOINT, "check", "--config", config], capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 2, result.stdout)
        self.assertIn("%s: its directory %s is writable by other users, who could replace the file"
                      % (config, directory), result.stdout + result.stderr)
        result = subprocess.run([CHOKEPOINT, "run", "--config", config, "--listen", "127.0.0.1:0", "--admin", "none"],
                                capture_output=True, text=True, timeout=10)
        self.assertEqual(result.returncode, 2)
        self.assertIn("%s: its directory %s is writable" % (config, directory), result.stderr)
        shutil.rmtree(top, ignore_errors=True)

    @unittest.skipUnless(os.geteuid() == 0 and shutil.which("unshare"), "needs root to mount")
    def test_a_read_only_mount_such_as_a_configmap_is_trusted_whatever_its_modes(self):
        # Kubernetes mounts a ConfigMap read-only, its directory 0777: no one
        # can write through it. Writable, the same directory is refused.
        directory = tempfile.mkdtemp(prefix="chokepoint-configmap-")
        script = ('mount -t tmpfs -o mode=0777 none "$1" && printf "version: 1\\n" > "$1/site.yaml" && '
                  '"$2" check --config "$1/site.yaml"; echo "rw=$?"; mount -o remount,ro "$1" && '
                  '"$2" check --config "$1/site.yaml"; echo "ro=$?"')
        result = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh",
                                 directory, os.path.abspath(CHOKEPOINT)],
                                capture_output=True, text=True, timeout=30)
        os.rmdir(directory)
        self.assertIn("rw=2", result.stdout, result.stdout + result.stderr)
        self.assertIn("its directory %s is writable by other users" % directory, result.stdout)
        self.assertIn("ro=0", result.stdout, result.stdout + result.stderr)


class PrivilegeTest(unittest.TestCase):
    def test_a_config_others_can_write_is_refused(self):
        directory = tempfile.mkdtemp()
        config = os.path.join(directory, "policy.yaml")
        with open(config, "w") as f:
            f.write(ALLOW_FILES)
        os.chmod(config, 0o666)
        result = subprocess.run([CHOKEPOINT, "run", "--config", config, "--listen", "127.0.0.1:0", "--admin", "none"],
                                capture_output=True, text=True, timeout=10)
        self.assertEqual(result.returncode, 2)
        self.assertIn(config + ": writable by other users", result.stderr)

    @unittest.skipUnless(os.geteuid() == 0, "needs root to drop privileges")
    def test_root_drops_to_the_user_and_keeps_no_capability(self):
        echo = EchoUpstream()
        # Port 443 needs root to bind; the proxy then runs as nobody.
        proxy = Proxy("--user", "nobody", "--connect-to", "::127.0.0.1:%d" % echo.port, listen="127.0.0.1:0")
        try:
            with open("/proc/%d/status" % proxy.proc.pid) as f:
                status = dict(line.split(":", 1) for line in f.read().splitlines() if ":" in line)
            nobody = subprocess.run(["id", "-u", "nobody"], capture_output=True, text=True).stdout.strip()
            self.assertEqual(status["Uid"].split(), [nobody] * 4)
            self.assertEqual(status["Groups"].strip(), "")
            for caps in ("CapInh", "CapPrm", "CapEff", "CapAmb"):
                self.assertEqual(int(status[caps].strip(), 16), 0, caps)
            self.assertEqual(status["NoNewPrivs"].strip(), "1")
            sock, code, _ = connect_through(proxy, "files.trendmicro.com")
            self.assertEqual(code, 200)
            self.assertEqual(echo_round_trip(sock, b"as nobody")[:6], b"got 9 ")
            sock.close()
        finally:
            proxy.stop()
            echo.stop()


if __name__ == "__main__":
    unittest.main()
