"""A corporate proxy as the only way out (issue 14): squid as chokepoint's
parent (upstream) proxy. chokepoint decides first, then asks squid with
CONNECT host:port by name (squid resolves, from its own hosts file here),
with Basic credentials when squid wants them; squid's access log shows each
request as chokepoint sent it. A parent that is down or refuses reaches the
client as a 502 naming the parent (SOCKS: 0x05 / 0x01; SNI: the close), and
is recorded with the parent's answer; plain HTTP goes to the parent in
absolute form; a rule with `upstream_proxy: direct` bypasses it."""

import os
import socket
import ssl
import subprocess
import tempfile
import unittest

from harness import CA, HttpUpstream, Proxy, read_http_response, tls_get, wait_until
from peers import Squid, free_port, listener_of

# Names squid resolves to the test's upstreams (chokepoint never resolves them).
TUNNELED = "ds20.icrc.trendmicro.com"  # TLS, through the parent
PLAIN = "iaus.activeupdate.trendmicro.com"  # plain HTTP, through the parent
REFUSED = "files.trendmicro.com"  # squid's http_access denies it
DIRECT = "dsm.corp.example"  # a rule sends it direct (chokepoint dials it itself)


def policy(tls_port, plain_port, extra_rules=""):
    text = """version: 1
rules:
  - {id: through-parent, ports: [%(tls)d, %(plain)d], destinations: [%(tunneled)s, %(plain_name)s, %(refused)s]}
  - {id: direct, ports: [%(tls)d], upstream_proxy: direct, destinations: [%(direct)s]}
%(extra)s""" % {"tls": tls_port, "plain": plain_port, "tunneled": TUNNELED, "plain_name": PLAIN, "refused": REFUSED,
                "direct": DIRECT, "extra": extra_rules}
    fd, path = tempfile.mkstemp(prefix="chokepoint-parent-", suffix=".yaml")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return path


def curl(*args):
    return subprocess.run(["curl", "--silent", "--show-error", "--max-time", "15", *args], capture_output=True,
                          text=True, timeout=30)


def connect(proxy, host, port):
    sock = socket.create_connection((proxy.host, proxy.port), timeout=15)
    sock.sendall(b"CONNECT %s:%d HTTP/1.1\r\nHost: %s:%d\r\n\r\n" % (host.encode(), port, host.encode(), port))
    status, headers, body = read_http_response(sock)
    return sock, status, headers


def socks5_connect(address, host, port):
    """A SOCKS5 CONNECT by name: the reply code (0 granted)."""
    with socket.create_connection(address, timeout=15) as s:
        s.sendall(b"\x05\x01\x00")
        assert s.recv(2) == b"\x05\x00"
        s.sendall(b"\x05\x01\x00\x03" + bytes([len(host)]) + host.encode() + port.to_bytes(2, "big"))
        reply = s.recv(10)
        return reply[1]


class ParentProxyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tls = HttpUpstream(tls=True)
        cls.plain = HttpUpstream()
        hosts = {TUNNELED: "127.0.0.1", PLAIN: "127.0.0.1", REFUSED: "127.0.0.1",
                 "authed.ds20.icrc.trendmicro.com": "127.0.0.1", "wrong.ds20.icrc.trendmicro.com": "127.0.0.1"}
        cls.squid = Squid(hosts, deny=[REFUSED])
        cls.authed = Squid(hosts, users={"svc": "s3cret:x"})
        cls.down_port = free_port()  # nothing listens there
        # Per-rule parents: one with credentials (the password's ':' percent-encoded),
        # one with credentials it refuses, one that is down.
        rules = """  - {id: authed-parent, ports: [%d], upstream_proxy: "http://svc:s3cret%%3Ax@127.0.0.1:%d",
     destinations: [authed.ds20.icrc.trendmicro.com]}
  - {id: wrong-password, ports: [%d], upstream_proxy: "http://svc:nope@127.0.0.1:%d",
     destinations: [wrong.ds20.icrc.trendmicro.com]}
  - {id: parent-down, ports: [%d], upstream_proxy: "http://127.0.0.1:%d", destinations: [down.ds20.icrc.trendmicro.com]}
""" % (cls.tls.port, cls.authed.port, cls.tls.port, cls.authed.port, cls.tls.port, cls.down_port)
        cls.proxy = Proxy("--upstream-proxy", cls.squid.url, "--socks-listen", "127.0.0.1:0",
                          "--sni-listen", "127.0.0.1:0", "--sni-port", str(cls.tls.port),
                          "--connect-to", "%s:%d:127.0.0.1:%d" % (DIRECT, cls.tls.port, cls.tls.port),
                          config=policy(cls.tls.port, cls.plain.port, rules))

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()
        cls.squid.stop()
        cls.authed.stop()
        cls.tls.stop()
        cls.plain.stop()

    def logged(self, squid, method, target):
        """squid's log lines for `method target`, once there is one (squid
        writes a line when the transaction ends)."""
        lines = lambda: [line for line in squid.access_log() if line[5] == method and line[6] == target]
        return wait_until(lines) or []

    def record(self, predicate):
        found = self.proxy.wait_records(predicate)
        self.assertTrue(found)
        return found[0]

    def test_connect_goes_through_the_parent_by_name(self):
        result = curl("-x", self.proxy.url, "--cacert", CA, "https://%s:%d/via-squid" % (TUNNELED, self.tls.port))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("hello from %s:%d path /via-squid" % (TUNNELED, self.tls.port), result.stdout)
        # squid was asked for the name, not an address chokepoint resolved.
        target = "%s:%d" % (TUNNELED, self.tls.port)
        self.assertTrue(self.logged(self.squid, "CONNECT", target), self.squid.access_log())
        opened = self.record(lambda r: r["event"] == "open" and r["host"] == TUNNELED and r["mode"] == "connect")
        self.assertEqual(opened["upstream_proxy"], "127.0.0.1:%d" % self.squid.port)
        self.assertEqual(opened["upstream_proxy_status"], 200)
        self.assertEqual(opened["upstream"], "127.0.0.1:%d" % self.squid.port)
        self.assertNotIn("dns", opened)  # chokepoint resolved nothing

    def test_credentials_for_a_parent_that_wants_them(self):
        name = "authed.ds20.icrc.trendmicro.com"
        sock, status, _ = connect(self.proxy, name, self.tls.port)
        sock.close()
        self.assertEqual(status, 200)
        line = self.logged(self.authed, "CONNECT", "%s:%d" % (name, self.tls.port))
        self.assertTrue(line, self.authed.access_log())
        self.assertEqual(line[0][7], "svc")  # squid's user field: it checked our Basic credentials
        # Credentials it does not accept: the parent's 407, as our configuration error.
        name = "wrong.ds20.icrc.trendmicro.com"
        sock, status, headers = connect(self.proxy, name, self.tls.port)
        sock.close()
        self.assertEqual(status, 502)
        self.assertIn("error=proxy_configuration_error", headers["proxy-status"])
        self.assertIn('next-hop="127.0.0.1:%d"' % self.authed.port, headers["proxy-status"])
        self.assertIn("received-status=407", headers["proxy-status"])
        record = self.record(lambda r: r["host"] == name and r["event"] == "error")
        self.assertEqual(record["reason"], "upstream_proxy_refused")
        self.assertEqual(record["upstream_proxy_status"], 407)
        self.assertNotIn("nope", str(record))  # never the password

    def test_a_parent_that_refuses(self):
        sock, status, headers = connect(self.proxy, REFUSED, self.tls.port)
        sock.close()
        self.assertEqual(status, 502)
        self.assertIn("error=destination_unavailable", headers["proxy-status"])
        self.assertIn('next-hop="127.0.0.1:%d"' % self.squid.port, headers["proxy-status"])
        self.assertIn("received-status=403", headers["proxy-status"])
        record = self.record(lambda r: r["host"] == REFUSED and r["mode"] == "connect")
        self.assertEqual(record["event"], "error")
        self.assertEqual(record["reason"], "upstream_proxy_refused")
        self.assertEqual(record["upstream_proxy_status"], 403)
        self.assertEqual(record["decision"], "allow")  # chokepoint allowed it; the parent did not
        self.assertIn("answered 403 Forbidden", record["detail"])
        self.assertTrue(self.logged(self.squid, "CONNECT", "%s:%d" % (REFUSED, self.tls.port)))
        # SOCKS5: a general failure (0x01).
        self.assertEqual(socks5_connect(listener_of(self.proxy, "socks"), REFUSED, self.tls.port), 0x01)

    def test_a_parent_that_is_down(self):
        name = "down.ds20.icrc.trendmicro.com"
        sock, status, headers = connect(self.proxy, name, self.tls.port)
        sock.close()
        self.assertEqual(status, 502)
        self.assertIn("error=connection_refused", headers["proxy-status"])
        self.assertIn('next-hop="127.0.0.1:%d"' % self.down_port, headers["proxy-status"])
        record = self.record(lambda r: r["host"] == name and r["mode"] == "connect")
        self.assertEqual(record["reason"], "connect_refused")
        self.assertEqual(record["upstream_proxy"], "127.0.0.1:%d" % self.down_port)
        self.assertIn("the upstream proxy", record["detail"])
        # SOCKS5: connection refused (0x05).
        self.assertEqual(socks5_connect(listener_of(self.proxy, "socks"), name, self.tls.port), 0x05)

    def test_absolute_form_goes_to_the_parent_in_absolute_form(self):
        url = "http://%s:%d/plain?x=1" % (PLAIN, self.plain.port)
        result = curl("-x", self.proxy.url, url)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("hello from %s:%d path /plain?x=1" % (PLAIN, self.plain.port), result.stdout)
        self.assertTrue(self.logged(self.squid, "GET", url), self.squid.access_log())
        opened = self.record(lambda r: r["event"] == "open" and r["host"] == PLAIN and r["mode"] == "http")
        self.assertEqual(opened["upstream_proxy"], "127.0.0.1:%d" % self.squid.port)

    def test_a_direct_rule_bypasses_the_parent(self):
        result = curl("-x", self.proxy.url, "--cacert", CA, "https://%s:%d/direct" % (DIRECT, self.tls.port))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("path /direct", result.stdout)
        self.assertFalse([line for line in self.squid.access_log() if DIRECT in line[6]])
        opened = self.record(lambda r: r["event"] == "open" and r["host"] == DIRECT)
        self.assertNotIn("upstream_proxy", opened)
        self.assertEqual(opened["upstream"], "127.0.0.1:%d" % self.tls.port)

    def test_socks_through_the_parent(self):
        host, port = listener_of(self.proxy, "socks")
        result = curl("--socks5-hostname", "%s:%d" % (host, port), "--cacert", CA,
                      "https://%s:%d/socks" % (TUNNELED, self.tls.port))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("path /socks", result.stdout)
        opened = self.record(lambda r: r["event"] == "open" and r["mode"] == "socks" and r["host"] == TUNNELED)
        self.assertEqual(opened["upstream_proxy"], "127.0.0.1:%d" % self.squid.port)

    def test_sni_listener_through_the_parent(self):
        # The transparent listeners' way of learning the destination (a
        # peeked ClientHello), without the network namespaces they need.
        host, port = listener_of(self.proxy, "sni")
        sock = socket.create_connection((host, port), timeout=15)
        self.assertIn("path /sni", tls_get(sock, TUNNELED, "/sni"))
        opened = self.record(lambda r: r["event"] == "open" and r["mode"] == "sni")
        self.assertEqual(opened["upstream_proxy"], "127.0.0.1:%d" % self.squid.port)
        self.assertTrue(self.logged(self.squid, "CONNECT", "%s:%d" % (TUNNELED, self.tls.port)))
        # Refused by the parent: the client only sees the close.
        sock = socket.create_connection((host, port), timeout=15)
        with self.assertRaises((ssl.SSLError, ConnectionError)):
            tls_get(sock, REFUSED, "/")
        record = self.record(lambda r: r["mode"] == "sni" and r["host"] == REFUSED)
        self.assertEqual(record["reason"], "upstream_proxy_refused")


class ServerSpeaksFirstTest(unittest.TestCase):
    """What the destination says right after the parent's 2xx reaches the
    client, after chokepoint's own 200 and before the relay."""

    def test_bytes_after_the_parents_answer(self):
        parent = socket.socket()
        parent.bind(("127.0.0.1", 0))
        parent.listen(1)
        proxy = Proxy("--upstream-proxy", "http://127.0.0.1:%d" % parent.getsockname()[1],
                      config=policy(25, 26))
        try:
            client = socket.create_connection((proxy.host, proxy.port), timeout=15)
            client.sendall(b"CONNECT %s:25 HTTP/1.1\r\nHost: %s:25\r\n\r\n" % (TUNNELED.encode(), TUNNELED.encode()))
            conn, _ = parent.accept()
            conn.settimeout(15)
            asked = b""
            while b"\r\n\r\n" not in asked:
                asked += conn.recv(4096)
            self.assertTrue(asked.startswith(b"CONNECT %s:25 HTTP/1.1\r\n" % TUNNELED.encode()), asked)
            # The parent's answer and the server's banner in one segment.
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n220 mail.example ESMTP\r\n")
            status, _, body = read_http_response(client)
            self.assertEqual(status, 200)
            while b"\r\n" not in body:
                body += client.recv(4096)
            self.assertEqual(body, b"220 mail.example ESMTP\r\n")
            client.sendall(b"QUIT\r\n")
            self.assertEqual(conn.recv(100), b"QUIT\r\n")
            conn.close()
            client.close()
            closed = proxy.wait_records(lambda r: r["event"] == "close")
            self.assertEqual(closed[0]["upstream_proxy_status"], 200)
            self.assertEqual(closed[0]["bytes_down"], len(b"220 mail.example ESMTP\r\n"))
        finally:
            proxy.stop()
            parent.close()


if __name__ == "__main__":
    unittest.main()
