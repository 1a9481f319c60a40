"""Tried as an attacker would (issue 19), with the real binary: password
guessing from one address does not lock out real users, a client trying many
denied names leaves every name in the audit log, an open CONNECT tunnel
waiting for its client's first bytes is an open tunnel, and stopping with
work pending (guesses, silent names, slow heads, thousands of tunnels) exits 0
with every record written. Clients on different loopback addresses stand for
different machines."""

import base64
import json
import os
import resource
import signal
import socket
import ssl
import struct
import subprocess
import tempfile
import threading
import time
import unittest
from concurrent.futures import ThreadPoolExecutor

from prometheus_client.parser import text_string_to_metric_families

from dns_server import DnsServer
from harness import CHOKEPOINT, EchoUpstream, HttpUpstream, Proxy, read_http_response, stop_listening, wait_until

GUESSER = "127.0.0.66"
AGENT = "127.0.0.7"
SILENT_ZONE = "silent-zone.dns-e2e.example"


def metric(proxy, name, **labels):
    status, text = proxy.admin("/metrics")
    assert status == 200, status
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and s.labels == labels:
                return s.value
    return 0


def accepted(proxy):
    """Connections the proxy has taken: still in their handshake, or refused."""
    status, text = proxy.admin("/metrics")
    total = 0
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name in ("chokepoint_handshakes", "chokepoint_refusals_total"):
                total += s.value
    return total


class Sink:
    """Accepts connections (a deep backlog) and keeps them, reading nothing."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(4096)
        self.port = self.listener.getsockname()[1]
        self.kept = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                self.kept.append(self.listener.accept()[0])
            except OSError:
                return

    def stop(self):
        stop_listening(self.listener, self.thread)
        for conn in self.kept:
            conn.close()


def basic(user, password):
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()


def http_login(proxy, source, user, password, host="files.trendmicro.com"):
    """A CONNECT with credentials from `source`: the status (0: closed unanswered)."""
    with socket.create_connection((proxy.host, proxy.port), timeout=30, source_address=(source, 0)) as s:
        s.sendall(b"CONNECT %s:443 HTTP/1.1\r\nHost: %s:443\r\nProxy-Authorization: %s\r\n\r\n"
                  % (host.encode(), host.encode(), basic(user, password).encode()))
        status, _, _ = read_http_response(s)
        return status


def socks_login(port, source, user, password, host="files.trendmicro.com"):
    """An RFC 1929 login and a CONNECT from `source`: the sub-negotiation's
    status byte, then the request's reply code (None when not reached)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30, source_address=(source, 0)) as s:
        s.sendall(b"\x05\x01\x02")
        if s.recv(2) != b"\x05\x02":
            return None, None
        s.sendall(bytes([1, len(user)]) + user.encode() + bytes([len(password)]) + password.encode())
        answer = s.recv(2)
        if len(answer) < 2:
            return None, None
        if answer[1] != 0:
            return answer[1], None
        s.sendall(bytes([5, 1, 0, 3, len(host)]) + host.encode() + struct.pack("!H", 443))
        reply = s.recv(4)
        return answer[1], reply[1] if len(reply) > 1 else None


def client_hello(name):
    """The first flight of a real TLS client for `name` (Python's ssl)."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ssl.create_default_context().wrap_bio(incoming, outgoing, server_hostname=name)
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


HELLO = client_hello("files.trendmicro.com")


def raise_descriptor_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


class PasswordGuessingTest(unittest.TestCase):
    """Real hashes (chokepoint passwd's default cost): each wrong guess was a
    quarter of a second of a shared two-thread pool, so 300 guesses from one
    address made a correct login elsewhere wait 19.6 s."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="chokepoint-guessing-")
        cls.users = os.path.join(cls.dir, "users")
        # What one hash costs this build: the quicker of two `passwd` runs
        # (a hash, and the process's start; seen: 0.15 s, and 0.75 s under
        # ASan, whose interceptors OpenSSL's PBKDF2 goes through too).
        runs = []
        for users in (cls.users, os.path.join(cls.dir, "timing")):
            started = time.monotonic()
            subprocess.run([CHOKEPOINT, "passwd", "--users-file", users, "agent01"],
                           input="agent-secret\n", text=True, check=True)
            runs.append(time.monotonic() - started)
        hash_seconds = min(runs)
        # A correct login waits for the hashes already running (two threads)
        # and its own: about three hashes. The issue asks for 2 s; a slower
        # build gets six of its hashes. The failure this guards against
        # waited for about eighty (19.6 s).
        cls.prompt_login_seconds = max(2.0, 6 * hash_seconds)
        cls.config = os.path.join(cls.dir, "site.yaml")
        with open(cls.config, "w") as f:
            f.write("version: 1\ninclude: builtin:deep-security.yaml\n"
                    "clients:\n  - {user: agent01, role: agent, version: '20.0'}\n")
        cls.echo = EchoUpstream()

    @classmethod
    def tearDownClass(cls):
        cls.echo.stop()

    def setUp(self):
        self.proxy = Proxy("--socks-listen", "127.0.0.1:0", "--users-file", self.users,
                           "--connect-to", "::127.0.0.1:%d" % self.echo.port, config=self.config)
        self.socks_port = int(self.proxy.endpoints[1].rsplit(":", 1)[1])

    def tearDown(self):
        self.proxy.stop()

    def flood_then_login(self, guess, login):
        """300 wrong guesses from GUESSER, 100 at a time, and in the middle
        of them a correct login from AGENT: how long that login took."""
        results = []
        with ThreadPoolExecutor(max_workers=100) as pool:
            guesses = [pool.submit(guess, i) for i in range(300)]
            wait_until(lambda: sum(g.done() for g in guesses) >= 100, timeout=60)
            started = time.monotonic()
            ok = login()
            took = time.monotonic() - started
            results = [g.result() for g in guesses]
        self.assertTrue(ok)
        return took, results

    def test_http_basic_guesses_leave_a_correct_login_elsewhere_prompt(self):
        took, statuses = self.flood_then_login(
            lambda i: http_login(self.proxy, GUESSER, "agent01", "guess%d" % i),
            lambda: http_login(self.proxy, AGENT, "agent01", "agent-secret") == 200)
        self.assertLess(took, self.prompt_login_seconds)
        self.assertEqual(set(statuses), {407})
        # The guesser is refused unchecked once its budget is spent: most of
        # its guesses never cost a hash.
        self.assertLess(metric(self.proxy, "chokepoint_auth_hashes_total"), 100)
        self.assertGreater(metric(self.proxy, "chokepoint_auth_unchecked_total", reason="client_backoff")
                           + metric(self.proxy, "chokepoint_auth_unchecked_total", reason="client_share"), 150)
        # The records say why a guess was refused unchecked.
        refused = self.proxy.wait_records(lambda r: r["client"].startswith(GUESSER + ":")
                                          and r["reason"] == "auth_failed", count=10)
        self.assertTrue(any("too many" in r.get("detail", "") for r in refused))
        # Every guess is accounted for: a record of its own, or counted in a summary.
        self.proxy.stop()
        guesses = [r for r in self.proxy.records() if r["client"].startswith(GUESSER + ":")
                   and r["reason"] == "auth_failed"]
        self.assertEqual(sum(1 + r.get("suppressed", 0) for r in guesses), 300)

    def test_socks5_guesses_leave_a_correct_login_elsewhere_prompt(self):
        took, answers = self.flood_then_login(
            lambda i: socks_login(self.socks_port, GUESSER, "agent01", "guess%d" % i),
            lambda: socks_login(self.socks_port, AGENT, "agent01", "agent-secret") == (0, 0))
        self.assertLess(took, self.prompt_login_seconds)
        self.assertTrue(all(status not in (0, None) for status, _ in answers), answers)

    def test_a_guess_whose_client_hung_up_is_not_computed(self):
        before = metric(self.proxy, "chokepoint_auth_dropped_total")
        # Clients behind one NAT address (the budget is per network) send
        # their guesses at once and leave without waiting for the answer.
        sockets = []
        for i in range(4):
            s = socket.create_connection(("127.0.0.1", self.socks_port), timeout=10,
                                         source_address=("127.0.0.%d" % (100 + i), 0))
            s.sendall(b"\x05\x01\x02")
            s.recv(2)
            s.sendall(b"\x01\x07agent01\x05wrong")
            sockets.append(s)
        for s in sockets:
            s.close()
        self.assertTrue(wait_until(lambda: metric(self.proxy, "chokepoint_auth_dropped_total") > before,
                                   timeout=10))
        [gone, *_] = self.proxy.wait_records(lambda r: r["reason"] == "client_closed"
                                         and "password was being checked" in r.get("detail", ""))
        self.assertEqual(gone["user"], "agent01")


class NameLookupShareTest(unittest.TestCase):
    def test_one_clients_silent_names_do_not_starve_the_others(self):
        # Issue 19: five addresses with 256 connections each to names that
        # never answer made 77 of 80 fresh good names fail "resolver busy".
        raise_descriptor_limit()
        dns = DnsServer()
        self.addCleanup(dns.stop)
        echo = EchoUpstream()
        self.addCleanup(echo.stop)
        for i in range(80):
            dns.set("good-%d.dns-e2e.example" % i, ["127.0.0.1"], ttl=300)
        config = os.path.join(tempfile.mkdtemp(prefix="chokepoint-dns-share-"), "site.yaml")
        with open(config, "w") as f:
            f.write("version: 1\ninclude: builtin:deep-security.yaml\nrules:\n"
                    "  - {id: e2e, ports: [443, %d], destinations: ['*.dns-e2e.example', 127.0.0.1/32]}\n"
                    % echo.port)
        proxy = Proxy("--dns-server", dns.endpoint(), "--dns-timeout", "20s", config=config)
        flood = []
        try:
            for i in range(5 * 256):
                s = socket.create_connection((proxy.host, proxy.port), timeout=10,
                                             source_address=("127.0.4.%d" % (1 + i % 5), 0))
                name = b"n%d.%s" % (i, SILENT_ZONE.encode())
                s.sendall(b"CONNECT %s:443 HTTP/1.1\r\nHost: %s:443\r\n\r\n" % (name, name))
                flood.append(s)
            self.assertTrue(wait_until(lambda: accepted(proxy) >= 5 * 256, timeout=20))

            def good(i):
                name = b"good-%d.dns-e2e.example:%d" % (i, echo.port)
                with socket.create_connection((proxy.host, proxy.port), timeout=20,
                                              source_address=(AGENT, 0)) as s:
                    s.sendall(b"CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (name, name))
                    return read_http_response(s)[0]

            with ThreadPoolExecutor(max_workers=20) as pool:
                statuses = list(pool.map(good, range(80)))
            self.assertEqual(statuses.count(200), 80, statuses)
            self.assertGreater(metric(proxy, "chokepoint_dns_lookup_outcomes_total", outcome="client_share"), 0)
        finally:
            for s in flood:
                s.close()
            proxy.stop(signal.SIGKILL)


class DeniedNamesTest(unittest.TestCase):
    def test_every_denied_name_a_client_tried_is_in_the_audit_log(self):
        # Issue 19: 300 CONNECTs to 300 distinct denied names left 44 records.
        proxy = Proxy()
        try:
            names = ["denied-%d.evil.example" % i for i in range(300)]

            def deny(name):
                with socket.create_connection((proxy.host, proxy.port), timeout=10) as s:
                    s.sendall(b"CONNECT %s:443 HTTP/1.1\r\nHost: %s:443\r\n\r\n" % (name.encode(), name.encode()))
                    return read_http_response(s)[0]

            with ThreadPoolExecutor(max_workers=20) as pool:
                self.assertEqual(set(pool.map(deny, names)), {403})
            # One name flooded is still summarised.
            with ThreadPoolExecutor(max_workers=20) as pool:
                self.assertEqual(set(pool.map(deny, ["flooded.evil.example"] * 200)), {403})
        finally:
            proxy.stop()
        denials = [r for r in proxy.records() if r["event"] == "deny"]
        self.assertEqual({r["host"] for r in denials} - {"flooded.evil.example"}, set(names))
        flooded = [r for r in denials if r["host"] == "flooded.evil.example"]
        self.assertLess(len(flooded), 200)
        self.assertEqual(sum(1 + r.get("suppressed", 0) for r in flooded), 200)


class WaitingTunnelTest(unittest.TestCase):
    def test_a_tunnel_waiting_for_its_clients_first_bytes_is_an_open_tunnel(self):
        echo = EchoUpstream()
        proxy = Proxy("--connect-to", "::127.0.0.1:%d" % echo.port)
        s = socket.create_connection((proxy.host, proxy.port), timeout=10)
        try:
            s.sendall(b"CONNECT files.trendmicro.com:443 HTTP/1.1\r\nHost: files.trendmicro.com:443\r\n\r\n")
            self.assertEqual(read_http_response(s)[0], 200)
            # The open record follows the 200 on the proxy's thread.
            self.assertTrue(wait_until(lambda: metric(proxy, "chokepoint_open_tunnels") == 1))
            status, body = proxy.admin("/connections")
            [tunnel] = json.loads(body)
            self.assertEqual(tunnel["host"], "files.trendmicro.com")
            self.assertEqual(tunnel["state"], "waiting_for_client")
            status, page = proxy.admin("/")
            self.assertIn("waiting for the client&#39;s first bytes", page)
            # Its first bytes: now it relays.
            s.sendall(HELLO)
            self.assertTrue(wait_until(lambda: json.loads(proxy.admin("/connections")[1])[0]["state"]
                                       == "relaying"))
        finally:
            s.close()
            proxy.stop()
            echo.stop()


class StopWithWorkPendingTest(unittest.TestCase):
    """SIGTERM with work pending: exit 0 after the drain, queued hashing and
    lookups abandoned, every connection's terminal record written before the
    audit log closes, and the exit line's count true. The sanitizer build runs
    this too (issue 19: exit 139 in offload.hpp and in the refusal throttle)."""

    def check_stopped_cleanly(self, proxy, started_with):
        code = proxy.stop(timeout=30)
        stderr = proxy.stderr_text()
        self.assertEqual(code, 0, stderr[-3000:])
        self.assertNotIn("did not end in time", stderr)
        line = [l for l in stderr.splitlines() if "stopped;" in l][-1]
        written = int(line.split("stopped; ")[1].split(" ")[0])
        self.assertIn(" 0 lost", line)
        records = proxy.records()
        self.assertEqual(len(records), written)
        opened = {r["id"] for r in records if r["event"] == "open"}
        closed = {r["id"] for r in records if r["event"] == "close"}
        self.assertEqual(opened, closed)
        accounted = sum(1 + r.get("suppressed", 0) for r in records if r["event"] in ("deny", "error", "close"))
        self.assertGreaterEqual(accounted, started_with)
        return records

    def test_a_password_flood(self):
        directory = tempfile.mkdtemp(prefix="chokepoint-stop-")
        users = os.path.join(directory, "users")
        subprocess.run([CHOKEPOINT, "passwd", "--users-file", users, "agent01"], input="secret\n",
                       text=True, check=True)
        proxy = Proxy("--socks-listen", "127.0.0.1:0", "--users-file", users, "--drain-timeout", "1s",
                      listen=None)
        sockets = []
        for i in range(100):
            s = socket.create_connection((proxy.host, proxy.port), timeout=10,
                                         source_address=("127.0.%d.%d" % (1 + i // 50, 10 + i % 50), 0))
            s.sendall(b"\x05\x01\x02\x01\x07agent01\x05wrong")
            sockets.append(s)
        self.assertTrue(wait_until(lambda: accepted(proxy) >= 100, timeout=10))
        self.assertGreater(metric(proxy, "chokepoint_auth_queue"), 10)
        records = self.check_stopped_cleanly(proxy, 100)
        self.assertTrue(any(r["reason"] == "shutdown" for r in records))
        for s in sockets:
            s.close()

    def test_a_flood_of_silent_names(self):
        dns = DnsServer()
        config = os.path.join(tempfile.mkdtemp(prefix="chokepoint-stop-"), "site.yaml")
        with open(config, "w") as f:
            f.write("version: 1\ninclude: builtin:deep-security.yaml\nrules:\n"
                    "  - {id: silent, ports: [443], destinations: ['*.%s']}\n" % SILENT_ZONE)
        proxy = Proxy("--dns-server", dns.endpoint(), "--dns-timeout", "30s", "--drain-timeout", "1s",
                      config=config)
        sockets = []
        try:
            for i in range(500):
                s = socket.create_connection((proxy.host, proxy.port), timeout=10,
                                             source_address=("127.0.1.%d" % (1 + i % 5), 0))
                name = b"n%d.%s" % (i, SILENT_ZONE.encode())
                s.sendall(b"CONNECT %s:443 HTTP/1.1\r\nHost: %s:443\r\n\r\n" % (name, name))
                sockets.append(s)
            # Every one of them taken by the proxy: waiting for its name, or
            # refused its share of the resolver and waiting for its next
            # request. (Handshakes plus refusals counts a refused one twice,
            # and a connection still in the kernel's backlog at SIGTERM is
            # never the proxy's to record.)
            self.assertTrue(wait_until(lambda: metric(proxy, "chokepoint_handshakes") >= 500, timeout=10))
            self.assertGreaterEqual(metric(proxy, "chokepoint_dns_in_flight"), 100)
            started = time.monotonic()
            records = self.check_stopped_cleanly(proxy, 500)
            # The lookups were abandoned, not waited for (30 s each).
            self.assertLess(time.monotonic() - started, 10)
            self.assertTrue(any(r["reason"] == "shutdown" for r in records))
        finally:
            dns.stop()
            for s in sockets:
                s.close()

    def test_a_slow_head_flood(self):
        proxy = Proxy("--head-timeout", "60s", "--drain-timeout", "1s")
        sockets = []
        for i in range(300):
            s = socket.create_connection((proxy.host, proxy.port), timeout=10,
                                         source_address=("127.0.2.%d" % (1 + i % 20), 0))
            s.sendall(b"C")
            sockets.append(s)
        self.assertTrue(wait_until(lambda: metric(proxy, "chokepoint_handshakes") >= 300, timeout=10))
        self.check_stopped_cleanly(proxy, 300)
        for s in sockets:
            s.close()

    def test_thousands_of_open_tunnels(self):
        raise_descriptor_limit()
        sink = Sink()
        proxy = Proxy("--connect-to", "::127.0.0.1:%d" % sink.port, "--drain-timeout", "1s")
        sockets = []
        try:
            for i in range(2000):
                s = socket.create_connection((proxy.host, proxy.port), timeout=10,
                                             source_address=("127.0.3.%d" % (1 + i % 50), 0))
                s.sendall(b"CONNECT files.trendmicro.com:443 HTTP/1.1\r\nHost: files.trendmicro.com:443\r\n\r\n")
                sockets.append(s)
            for i, s in enumerate(sockets):
                self.assertEqual(read_http_response(s)[0], 200)
                if i % 2:
                    s.sendall(HELLO)  # half relay, half wait for their first bytes
            self.assertTrue(wait_until(lambda: metric(proxy, "chokepoint_open_tunnels") == 2000, timeout=20))
            records = self.check_stopped_cleanly(proxy, 2000)
            self.assertEqual(sum(r["event"] == "close" for r in records), 2000)
        finally:
            sink.stop()
            for s in sockets:
                s.close()


if __name__ == "__main__":
    unittest.main()
