"""Explicit mode end to end (issue 3): real clients (curl, openssl s_client,
python requests, raw sockets) through chokepoint to real upstreams, with the
audit records each exchange must leave."""

import hashlib
import os
import signal
import socket
import subprocess
import tempfile
import time
import unittest

import requests

from harness import CA, CHOKEPOINT, PKI, EchoUpstream, HttpUpstream, Proxy, read_http_response, wait_until


def curl(*args, timeout=20):
    return subprocess.run(["curl", "--silent", "--show-error", "--max-time", "15", *args],
                          capture_output=True, text=True, timeout=timeout)


class ExplicitProxyTest(unittest.TestCase):
    """One proxy with the built-in catalog; catalog names are sent to local
    upstreams with --connect-to, as DESIGN.md says tests do."""

    @classmethod
    def setUpClass(cls):
        cls.tls = HttpUpstream(tls=True)
        cls.mtls = HttpUpstream(tls=True, require_client_cert=True)
        cls.plain = HttpUpstream()
        cls.echo = EchoUpstream()
        cls.proxy = Proxy(
            "--connect-to", "ds20.icrc.trendmicro.com:443:127.0.0.1:%d" % cls.tls.port,
            "--connect-to", "ds2000-en-census.trendmicro.com:443:127.0.0.1:%d" % cls.mtls.port,
            "--connect-to", "iaus.activeupdate.trendmicro.com:80:127.0.0.1:%d" % cls.plain.port,
            "--connect-to", "files.trendmicro.com:443:127.0.0.1:%d" % cls.echo.port,
            "--connect-to", "grid-global.trendmicro.com:443:127.0.0.1:1",  # nothing listens on port 1
        )

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()
        for server in (cls.tls, cls.mtls, cls.plain, cls.echo):
            server.stop()

    def records_for(self, host, count, event=None, timeout=5.0):
        return self.proxy.wait_records(lambda r: r["host"] == host and (event is None or r["event"] == event),
                                       count, timeout)

    # --- CONNECT ----------------------------------------------------------------------
    def test_curl_connect_allowed_and_audited(self):
        result = curl("-x", self.proxy.url, "--cacert", CA, "https://ds20.icrc.trendmicro.com/curl-connect")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("hello from ds20.icrc.trendmicro.com path /curl-connect", result.stdout)
        records = self.records_for("ds20.icrc.trendmicro.com", 2)
        ids = {r["id"] for r in records if r.get("method") == "CONNECT"}
        mine = [r for r in records if r["id"] in ids]
        opens = [r for r in mine if r["event"] == "open"]
        closes = [r for r in mine if r["event"] == "close"]
        self.assertTrue(opens and closes)
        close = closes[-1]
        self.assertEqual(close["mode"], "connect")
        self.assertEqual(close["port"], 443)
        self.assertEqual(close["rule"], "spn-smart-scan")
        self.assertEqual(close["decision"], "allow")
        self.assertEqual(close["relay"], "splice")
        self.assertEqual(close["upstream"], "127.0.0.1:%d" % self.tls.port)
        self.assertGreater(close["bytes_up"], 200)   # at least a ClientHello went up
        self.assertGreater(close["bytes_down"], 500)  # and a certificate came down
        for key in ("ts", "event", "id", "client", "user", "role", "mode", "host", "port", "sni", "http_host",
                    "orig_dst", "upstream", "decision", "rule", "reason", "enforced", "bytes_up", "bytes_down",
                    "duration_ms"):
            self.assertIn(key, close)

    def test_curl_connect_denied_with_403_and_proxy_status(self):
        result = curl("-v", "-x", self.proxy.url, "--cacert", CA, "https://exfil.example.net/")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("403", result.stderr)
        self.assertIn("Proxy-Status: chokepoint; error=http_request_denied", result.stderr)
        self.assertIn("no_matching_rule", result.stderr)
        [deny] = self.records_for("exfil.example.net", 1, "deny")
        self.assertEqual(deny["decision"], "deny")
        self.assertEqual(deny["reason"], "no_matching_rule")
        self.assertEqual(deny["status"], 403)
        self.assertIsNone(deny["rule"])

    def test_openssl_s_client_through_http10_connect(self):
        request = b"GET /s-client HTTP/1.1\r\nHost: ds20.icrc.trendmicro.com\r\nConnection: close\r\n\r\n"
        result = subprocess.run(
            ["openssl", "s_client", "-proxy", "%s:%d" % (self.proxy.host, self.proxy.port),
             "-connect", "ds20.icrc.trendmicro.com:443", "-servername", "ds20.icrc.trendmicro.com",
             "-CAfile", CA, "-verify_return_error", "-verify_hostname", "ds20.icrc.trendmicro.com", "-quiet"],
            input=request, capture_output=True, timeout=20)
        self.assertIn(b"hello from ds20.icrc.trendmicro.com path /s-client", result.stdout, result.stderr)

    def test_mutual_tls_passes_through_untouched(self):
        request = b"GET /mtls HTTP/1.1\r\nHost: ds2000-en-census.trendmicro.com\r\nConnection: close\r\n\r\n"
        result = subprocess.run(
            ["openssl", "s_client", "-proxy", "%s:%d" % (self.proxy.host, self.proxy.port),
             "-connect", "ds2000-en-census.trendmicro.com:443", "-CAfile", CA, "-verify_return_error",
             "-cert", os.path.join(PKI, "client.pem"), "-key", os.path.join(PKI, "client.key"), "-quiet"],
            input=request, capture_output=True, timeout=20)
        self.assertIn(b"hello from ds2000-en-census.trendmicro.com path /mtls", result.stdout, result.stderr)

    def test_sni_inside_a_tunnel_must_match_or_be_allowed(self):
        # Domain fronting: a tunnel to an allowed name carrying a hello for another.
        result = subprocess.run(
            ["openssl", "s_client", "-proxy", "%s:%d" % (self.proxy.host, self.proxy.port),
             "-connect", "ds20.icrc.trendmicro.com:443", "-servername", "evil.example.com", "-CAfile", CA,
             "-quiet"], input=b"GET / HTTP/1.1\r\nHost: evil.example.com\r\n\r\n", capture_output=True, timeout=20)
        self.assertNotIn(b"hello from", result.stdout)
        self.assertIn(b"access denied", result.stderr.lower())
        [deny] = self.proxy.wait_records(lambda r: r["event"] == "deny" and r["reason"] == "sni_mismatch")
        self.assertEqual(deny["sni"], "evil.example.com")
        self.assertEqual(deny["host"], "ds20.icrc.trendmicro.com")
        # The same tunnel's open and close records share the deny's id.
        events = [r["event"] for r in self.proxy.records() if r["id"] == deny["id"]]
        self.assertEqual(events, ["open", "deny", "close"])
        # An SNI that is itself allowed on that port passes (a CDN serving two catalog names).
        result = subprocess.run(
            ["openssl", "s_client", "-proxy", "%s:%d" % (self.proxy.host, self.proxy.port),
             "-connect", "ds20.icrc.trendmicro.com:443", "-servername", "files.trendmicro.com", "-CAfile", CA,
             "-quiet"], input=b"GET /fronted-ok HTTP/1.1\r\nHost: files.trendmicro.com\r\nConnection: close\r\n\r\n",
            capture_output=True, timeout=20)
        self.assertIn(b"path /fronted-ok", result.stdout, result.stderr)

    def test_python_requests_https_and_http(self):
        proxies = {"https": self.proxy.url, "http": self.proxy.url}
        r = requests.get("https://ds20.icrc.trendmicro.com/requests", proxies=proxies, verify=CA, timeout=10)
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r.text, "hello from ds20.icrc.trendmicro.com path /requests")
        r = requests.get("http://iaus.activeupdate.trendmicro.com/requests?x=1", proxies=proxies, timeout=10)
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r.text, "hello from iaus.activeupdate.trendmicro.com path /requests?x=1")
        with self.assertRaises(requests.exceptions.ProxyError):
            requests.get("https://evil.example.com/", proxies=proxies, verify=CA, timeout=10)

    def test_half_close_both_orders_and_early_data(self):
        payload = os.urandom(300_000)
        sock = self.proxy.connect()
        # Early data: the tunnel's first bytes ride in the same write as the head.
        sock.sendall(b"CONNECT files.trendmicro.com:443 HTTP/1.1\r\nHost: files.trendmicro.com:443\r\n\r\n" +
                     payload[:1000])
        status, _, _ = read_http_response(sock)
        self.assertEqual(status, 200)
        sock.sendall(payload[1000:])
        sock.shutdown(socket.SHUT_WR)  # our FIN; the answer must still come back
        answer = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
        sock.close()
        self.assertEqual(answer, b"got %d %s" % (len(payload), hashlib.sha256(payload).hexdigest().encode()))
        closes = self.proxy.wait_records(
            lambda r: r["host"] == "files.trendmicro.com" and r["event"] == "close" and r["bytes_up"] == len(payload))
        self.assertEqual(closes[0]["bytes_down"], len(answer))
        self.assertEqual(closes[0]["end"], "eof")

    def test_upstream_refused_gives_502(self):
        sock = self.proxy.connect()
        sock.sendall(b"CONNECT grid-global.trendmicro.com:443 HTTP/1.1\r\n\r\n")
        status, headers, body = read_http_response(sock)
        sock.close()
        self.assertEqual(status, 502)
        self.assertIn("error=connection_refused", headers["proxy-status"])
        [record] = self.records_for("grid-global.trendmicro.com", 1, "error")
        self.assertEqual(record["reason"], "connect_refused")
        self.assertEqual(record["decision"], "allow")

    # --- absolute-form HTTP -----------------------------------------------------------
    def test_curl_absolute_form_keep_alive_and_headers(self):
        result = curl("-x", self.proxy.url, "http://iaus.activeupdate.trendmicro.com/a",
                      "http://iaus.activeupdate.trendmicro.com/b", "-H", "Proxy-Connection: keep-alive",
                      "-w", "%{num_connects}\\n")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("hello from iaus.activeupdate.trendmicro.com path /a", result.stdout)
        self.assertIn("hello from iaus.activeupdate.trendmicro.com path /b", result.stdout)
        method, path, headers = [s for s in self.plain.seen if s[1] == "/b"][-1]
        self.assertEqual(headers.get("Via"), "1.1 chokepoint")
        self.assertNotIn("Proxy-Connection", headers)
        records = self.proxy.wait_records(lambda r: r.get("path") in ("/a", "/b") and r["event"] == "close", 2)
        self.assertEqual({r["path"] for r in records}, {"/a", "/b"})
        self.assertTrue(all(r["mode"] == "http" and r["status"] == 200 for r in records))

    def test_absolute_form_bodies_stream_both_ways(self):
        body = os.urandom(2_000_000)
        r = requests.post("http://iaus.activeupdate.trendmicro.com/upload", data=body,
                          proxies={"http": self.proxy.url}, timeout=20)
        self.assertEqual(r.text, "echo %s %d" % (hashlib.sha256(body).hexdigest(), len(body)))
        # A chunked request body, re-framed by the proxy.
        r = requests.post("http://iaus.activeupdate.trendmicro.com/chunked-up", data=iter([b"a" * 1000, b"b" * 5000]),
                          proxies={"http": self.proxy.url}, timeout=20)
        self.assertEqual(r.text, "echo %s 6000" % hashlib.sha256(b"a" * 1000 + b"b" * 5000).hexdigest())
        r = requests.get("http://iaus.activeupdate.trendmicro.com/chunked", proxies={"http": self.proxy.url}, timeout=20)
        self.assertEqual(r.text, "hello chunked world")
        r = requests.get("http://iaus.activeupdate.trendmicro.com/big/5000000", proxies={"http": self.proxy.url},
                         timeout=20)
        self.assertEqual(len(r.content), 5_000_000)
        r = requests.head("http://iaus.activeupdate.trendmicro.com/head", proxies={"http": self.proxy.url}, timeout=20)
        self.assertEqual(r.status_code, 200)

    def test_absolute_form_path_rules(self):
        # ds10-jp.icrc.trendmicro.com is in the catalog under /tmcss/ only.
        sock = self.proxy.connect()
        sock.sendall(b"GET http://ds10-jp.icrc.trendmicro.com/other HTTP/1.1\r\nHost: ds10-jp.icrc.trendmicro.com\r\n\r\n")
        status, headers, body = read_http_response(sock)
        self.assertEqual(status, 403)
        self.assertIn(b"path_not_allowed", body)
        # The connection stays usable after a refusal without a body.
        sock.sendall(b"GET http://evil.example.com/ HTTP/1.1\r\nHost: evil.example.com\r\n\r\n")
        status, _, _ = read_http_response(sock)
        self.assertEqual(status, 403)
        sock.close()

    def test_malformed_requests_get_their_status_and_the_proxy_keeps_serving(self):
        cases = [
            (b"GET /origin-form HTTP/1.1\r\nHost: files.trendmicro.com\r\n\r\n", 400),
            (b"GET https://files.trendmicro.com/ HTTP/1.1\r\n\r\n", 400),
            (b"POST http://iaus.activeupdate.trendmicro.com/ HTTP/1.1\r\nHost: iaus.activeupdate.trendmicro.com\r\n"
             b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
            (b"GET http://iaus.activeupdate.trendmicro.com/ HTTP/1.1\r\nHost: iaus.activeupdate.trendmicro.com\r\n"
             b"X-Folded: a\r\n b\r\n\r\n", 400),
            (b"GET http://iaus.activeupdate.trendmicro.com/ HTTP/1.1\nHost: iaus.activeupdate.trendmicro.com\n\n", 400),
            (b"GET http://iaus.activeupdate.trendmicro.com/ HTTP/1.1\r\nHost: iaus.activeupdate.trendmicro.com\r\n"
             b"Host: evil.example.com\r\n\r\n", 400),
            (b"GET http://iaus.activeupdate.trendmicro.com/ HTTP/1.1\r\nHost: evil.example.com\r\n\r\n", 400),
            (b"POST http://iaus.activeupdate.trendmicro.com/ HTTP/1.1\r\nHost: iaus.activeupdate.trendmicro.com\r\n"
             b"Transfer-Encoding: gzip\r\n\r\n", 400),
            (b"GET http://iaus.activeupdate.trendmicro.com/a/../b HTTP/1.1\r\n\r\n", 400),
            (b"CONNECT files.trendmicro.com HTTP/1.1\r\n\r\n", 400),
            (b"CONNECT user@files.trendmicro.com:443 HTTP/1.1\r\n\r\n", 400),
            (b"CONNECT [::1:443 HTTP/1.1\r\n\r\n", 400),
            (b"CONNECT 127.1:443 HTTP/1.1\r\n\r\n", 400),
            (b"GARBAGE\r\n\r\n", 400),
            (b"GET http://iaus.activeupdate.trendmicro.com/ HTTP/1.1\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n", 431),
        ]
        for raw, expected in cases:
            with self.subTest(raw=raw[:60]):
                sock = self.proxy.connect()
                sock.sendall(raw)
                status, headers, _ = read_http_response(sock)
                sock.close()
                self.assertEqual(status, expected)
                self.assertIn("proxy-status", headers)
        errors = self.proxy.wait_records(lambda r: r["event"] == "error" and r["reason"] in
                                         ("bad_request", "header_too_large"), len(cases))
        self.assertGreaterEqual(len(errors), len(cases))
        result = curl("-x", self.proxy.url, "http://iaus.activeupdate.trendmicro.com/still-serving")
        self.assertIn("path /still-serving", result.stdout)


class SniListenerTest(unittest.TestCase):
    """--sni-listen: DNS-steered clients connect to chokepoint itself."""

    def test_sni_listener_routes_by_name(self):
        tls = HttpUpstream(tls=True)
        plain = HttpUpstream()
        proxy = Proxy("--sni-listen", "127.0.0.1:0", "--connect-to", "ds20.icrc.trendmicro.com:443:127.0.0.1:%d" % tls.port,
                      "--connect-to", "iaus.activeupdate.trendmicro.com:80:127.0.0.1:%d" % plain.port, listen=None)
        try:
            result = subprocess.run(
                ["openssl", "s_client", "-connect", "%s:%d" % (proxy.host, proxy.port), "-servername",
                 "ds20.icrc.trendmicro.com", "-verify_hostname", "ds20.icrc.trendmicro.com", "-CAfile", CA,
                 "-verify_return_error", "-quiet"],
                input=b"GET /steered HTTP/1.1\r\nHost: ds20.icrc.trendmicro.com\r\nConnection: close\r\n\r\n",
                capture_output=True, timeout=20)
            self.assertIn(b"path /steered", result.stdout, result.stderr)
            [close] = proxy.wait_records(lambda r: r["event"] == "close" and r["mode"] == "sni")
            self.assertEqual(close["sni"], "ds20.icrc.trendmicro.com")
            self.assertIsNone(close["orig_dst"])
            result = subprocess.run(["openssl", "s_client", "-connect", "%s:%d" % (proxy.host, proxy.port),
                                     "-servername", "evil.example.com", "-quiet"], input=b"", capture_output=True,
                                    timeout=20)
            self.assertIn(b"access denied", result.stderr.lower())
            sock = proxy.connect()
            sock.sendall(b"GET /plain HTTP/1.1\r\nHost: iaus.activeupdate.trendmicro.com\r\nConnection: close\r\n\r\n")
            status, _, body = read_http_response(sock)
            sock.close()
            self.assertEqual(status, 200)
            self.assertIn(b"path /plain", body)
        finally:
            proxy.stop()
            tls.stop()
            plain.stop()


class ProxyAuthTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="chokepoint-auth-")
        cls.users = os.path.join(cls.dir, "users")
        for user, password in (("relay01", "relay-secret"), ("dsm", "manager-secret")):
            subprocess.run([CHOKEPOINT, "passwd", "--users-file", cls.users, "--iterations", "1000", user],
                           input=password + "\n", text=True, check=True)
        config = os.path.join(cls.dir, "site.yaml")
        with open(config, "w") as f:
            f.write("version: 1\ninclude: builtin:deep-security.yaml\ndefault_role: agent\n"
                    "clients:\n  - {user: relay01, role: relay, version: '20.0'}\n  - {user: dsm, role: manager}\n")
        cls.tls = HttpUpstream(tls=True)
        cls.proxy = Proxy("--users-file", cls.users, "--connect-to", "::127.0.0.1:%d" % cls.tls.port,
                          config=config)

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()
        cls.tls.stop()

    def test_missing_wrong_and_right_credentials(self):
        result = curl("-v", "-x", self.proxy.url, "--cacert", CA, "https://ds20.icrc.trendmicro.com/")
        self.assertIn("407", result.stderr)
        self.assertIn('Proxy-Authenticate: Basic realm="chokepoint"', result.stderr)
        result = curl("-x", self.proxy.url, "--proxy-user", "relay01:wrong", "--cacert", CA,
                      "https://ds20.icrc.trendmicro.com/")
        self.assertNotEqual(result.returncode, 0)
        result = curl("-x", self.proxy.url, "--proxy-user", "relay01:relay-secret", "--cacert", CA,
                      "https://ds20.icrc.trendmicro.com/auth")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("path /auth", result.stdout)
        failed = self.proxy.wait_records(lambda r: r["reason"] == "auth_failed")
        self.assertEqual(failed[0]["user"], "relay01")
        self.assertEqual(failed[0]["event"], "deny")
        self.proxy.wait_records(lambda r: r["reason"] == "auth_required")
        [opened] = self.proxy.wait_records(lambda r: r["event"] == "open" and r["user"] == "relay01")
        self.assertEqual(opened["role"], "relay")

    def test_user_role_decides(self):
        # The manager's rows are not the relay's.
        result = curl("-x", self.proxy.url, "--proxy-user", "relay01:relay-secret", "--cacert", CA,
                      "https://telemetry.deepsecurity.trendmicro.com/")
        self.assertNotEqual(result.returncode, 0)
        result = curl("-x", self.proxy.url, "--proxy-user", "dsm:manager-secret", "-k",
                      "https://telemetry.deepsecurity.trendmicro.com/")
        self.assertEqual(result.returncode, 0, result.stderr)
        [denied] = self.proxy.wait_records(lambda r: r["event"] == "deny" and r["user"] == "relay01" and
                                           r["host"] == "telemetry.deepsecurity.trendmicro.com")
        self.assertEqual(denied["reason"], "role_not_allowed")

    def test_proxy_authorization_never_reaches_the_server(self):
        plain = HttpUpstream()
        try:
            proxy = Proxy("--users-file", self.users,
                          "--connect-to", "iaus.activeupdate.trendmicro.com:80:127.0.0.1:%d" % plain.port)
            result = curl("-x", proxy.url, "--proxy-user", "relay01:relay-secret",
                          "http://iaus.activeupdate.trendmicro.com/creds")
            proxy.stop()
            self.assertEqual(result.returncode, 0, result.stderr)
            headers = plain.seen[-1][2]
            self.assertNotIn("Proxy-Authorization", headers)
        finally:
            plain.stop()


class VettingAndLifecycleTest(unittest.TestCase):
    def test_names_resolving_to_loopback_are_refused_unless_a_cidr_rule_allows(self):
        upstream = HttpUpstream()
        directory = tempfile.mkdtemp()
        base = os.path.join(directory, "base.yaml")
        with open(base, "w") as f:
            f.write("version: 1\nrules:\n  - {id: local, ports: [%d], destinations: [localhost]}\n" % upstream.port)
        proxy = Proxy(config=base)
        try:
            r = requests.get("http://localhost:%d/x" % upstream.port, proxies={"http": proxy.url}, timeout=10)
            self.assertEqual(r.status_code, 403)
            self.assertIn("destination_ip_prohibited", r.headers["Proxy-Status"])
            [deny] = proxy.wait_records(lambda r: r["reason"] == "forbidden_address")
            self.assertIn("loopback", deny["detail"])
        finally:
            proxy.stop()
        allowed = os.path.join(directory, "allowed.yaml")
        with open(allowed, "w") as f:
            f.write("version: 1\nrules:\n  - {id: local, ports: [%d], destinations: [localhost, 127.0.0.0/8, '::1']}\n"
                    % upstream.port)
        proxy = Proxy(config=allowed)
        try:
            r = requests.get("http://localhost:%d/x" % upstream.port, proxies={"http": proxy.url}, timeout=10)
            self.assertEqual(r.status_code, 200)
        finally:
            proxy.stop()
            upstream.stop()

    def test_ipv6_listener(self):
        upstream = HttpUpstream()
        proxy = Proxy("--connect-to", "::127.0.0.1:%d" % upstream.port, listen="[::1]:0")
        try:
            result = curl("-x", "http://[::1]:%d" % proxy.port, "http://iaus.activeupdate.trendmicro.com/v6")
            self.assertIn("path /v6", result.stdout)
        finally:
            proxy.stop()
            upstream.stop()

    def test_head_deadline_covers_the_whole_head(self):
        proxy = Proxy("--head-timeout", "1s")
        try:
            sock = proxy.connect()
            start = time.monotonic()
            # One header line every 300 ms: each read is quick, the head never ends.
            sock.sendall(b"GET http://iaus.activeupdate.trendmicro.com/ HTTP/1.1\r\n")
            status = None
            for i in range(20):
                try:
                    sock.sendall(b"X-Trickle-%d: 1\r\n" % i)
                except OSError:
                    break
                time.sleep(0.3)
                sock.settimeout(0.01)
                try:
                    if sock.recv(1, socket.MSG_PEEK):
                        break
                except (socket.timeout, BlockingIOError):
                    pass
                sock.settimeout(10)
            sock.settimeout(10)
            status, _, _ = read_http_response(sock)
            elapsed = time.monotonic() - start
            self.assertEqual(status, 408, proxy.wait_records(lambda r: r["event"] == "error"))
            self.assertLess(elapsed, 3.0)
            proxy.wait_records(lambda r: r["reason"] == "request_head_timeout")
        finally:
            proxy.stop()

    def test_idle_tunnels_close_with_a_record(self):
        echo = EchoUpstream()
        proxy = Proxy("--idle-timeout", "1s", "--connect-to", "::127.0.0.1:%d" % echo.port)
        try:
            sock = proxy.connect()
            sock.sendall(b"CONNECT files.trendmicro.com:443 HTTP/1.1\r\n\r\n")
            self.assertEqual(read_http_response(sock)[0], 200)
            [close] = proxy.wait_records(lambda r: r["event"] == "close", timeout=5)
            self.assertEqual(close["end"], "idle_timeout")
            sock.close()
        finally:
            proxy.stop()
            echo.stop()

    def test_a_client_that_closes_right_after_200_ends_its_tunnel(self):
        # Its FIN reaches the in-tunnel ClientHello peek first; the relay must
        # still see it (it once waited for an epoll edge that never came).
        for relay in ("auto", "copy"):
            echo = EchoUpstream()
            proxy = Proxy("--relay", relay, "--connect-to", "::127.0.0.1:%d" % echo.port)
            try:
                sock = proxy.connect()
                sock.sendall(b"CONNECT files.trendmicro.com:443 HTTP/1.1\r\n\r\n")
                self.assertEqual(read_http_response(sock)[0], 200)
                sock.close()
                [close] = proxy.wait_records(lambda r: r["event"] == "close", timeout=5)
                self.assertEqual(close["end"], "eof", relay)
            finally:
                proxy.stop()
                echo.stop()

    def test_second_sigterm_ends_open_tunnels_each_with_a_record(self):
        echo = EchoUpstream()
        proxy = Proxy("--connect-to", "::127.0.0.1:%d" % echo.port)
        sockets = []
        for _ in range(5):
            sock = proxy.connect()
            sock.sendall(b"CONNECT files.trendmicro.com:443 HTTP/1.1\r\n\r\n")
            self.assertEqual(read_http_response(sock)[0], 200)
            sockets.append(sock)
        proxy.wait_records(lambda r: r["event"] == "open", 5)
        # The first SIGTERM drains (the tunnels stay open); a second ends them at once.
        proxy.proc.send_signal(signal.SIGTERM)
        self.assertTrue(wait_until(lambda: "draining" in "".join(proxy.stderr_lines)))
        self.assertEqual(proxy.stop(), 0)
        closes = [r for r in proxy.records() if r["event"] == "close"]
        self.assertEqual(len(closes), 5)
        self.assertTrue(all(r["end"] == "shutdown" for r in closes))
        self.assertIn("0 lost", "".join(proxy.stderr_lines))
        for sock in sockets:
            sock.close()
        echo.stop()

    def test_connection_limits_answer_503(self):
        echo = EchoUpstream()
        proxy = Proxy("--max-connections-per-client", "2", "--connect-to", "::127.0.0.1:%d" % echo.port)
        try:
            held = []
            for _ in range(2):
                sock = proxy.connect()
                sock.sendall(b"CONNECT files.trendmicro.com:443 HTTP/1.1\r\n\r\n")
                self.assertEqual(read_http_response(sock)[0], 200)
                held.append(sock)
            sock = proxy.connect()
            status, headers, _ = read_http_response(sock)
            sock.close()
            self.assertEqual(status, 503)
            self.assertIn("error=connection_limit_reached", headers["proxy-status"])
            proxy.wait_records(lambda r: r["reason"] == "client_connection_limit")
            # A slot comes back when a tunnel ends.
            held.pop().close()
            proxy.wait_records(lambda r: r["event"] == "close")
            sock = proxy.connect()
            sock.sendall(b"CONNECT files.trendmicro.com:443 HTTP/1.1\r\n\r\n")
            self.assertEqual(read_http_response(sock)[0], 200)
            sock.close()
            for s in held:
                s.close()
        finally:
            proxy.stop()
            echo.stop()

    def test_sigusr1_reopens_the_audit_file(self):
        proxy = Proxy()
        try:
            sock = proxy.connect()
            sock.sendall(b"CONNECT evil.example.com:443 HTTP/1.1\r\n\r\n")
            read_http_response(sock)
            sock.close()
            proxy.wait_records(lambda r: r["event"] == "deny")
            os.rename(proxy.audit_path, proxy.audit_path + ".1")  # what logrotate does
            proxy.proc.send_signal(signal.SIGUSR1)
            time.sleep(0.5)
            sock = proxy.connect()
            sock.sendall(b"CONNECT evil2.example.com:443 HTTP/1.1\r\n\r\n")
            read_http_response(sock)
            sock.close()
            [fresh] = proxy.wait_records(lambda r: r["event"] == "deny")
            self.assertEqual(fresh["host"], "evil2.example.com")
            with open(proxy.audit_path + ".1") as rotated:
                self.assertIn("evil.example.com", rotated.read())
        finally:
            proxy.stop()

    def test_forced_copy_relay(self):
        echo = EchoUpstream()
        proxy = Proxy("--relay", "copy", "--connect-to", "::127.0.0.1:%d" % echo.port)
        try:
            sock = proxy.connect()
            sock.sendall(b"CONNECT files.trendmicro.com:443 HTTP/1.1\r\n\r\n")
            self.assertEqual(read_http_response(sock)[0], 200)
            sock.sendall(b"x" * 100000)
            sock.shutdown(socket.SHUT_WR)
            answer = sock.recv(1000)
            self.assertTrue(answer.startswith(b"got 100000 "))
            [close] = proxy.wait_records(lambda r: r["event"] == "close")
            self.assertEqual(close["relay"], "copy")
            self.assertEqual(close["bytes_up"], 100000)
        finally:
            proxy.stop()
            echo.stop()


if __name__ == "__main__":
    unittest.main()
