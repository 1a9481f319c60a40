"""Behind a load balancer (issue 14): HAProxy (send-proxy-v2, and health
checks that send a LOCAL header) and nginx's stream module (proxy_protocol
on, v1) in front of chokepoint's explicit, SOCKS and SNI listeners, with
--proxy-protocol-from naming the balancers' address. Clients on different
loopback addresses stand for different machines, mapped to different roles
by `clients:` CIDRs: the client a balancer names is the client for
everything (role, limits, the record's `client`), the balancer is the
record's `via`; nobody else may send a header, and the balancer must."""

import json
import os
import socket
import ssl
import subprocess
import tempfile
import unittest

from prometheus_client.parser import text_string_to_metric_families

from harness import CA, HttpUpstream, Proxy, read_http_response, tls_get, wait_until
from peers import HAProxy, NginxStream, listener_of

RELAY = "127.0.0.2"  # a relay, by its address
AGENT = "127.0.0.3"  # an agent
OUTSIDER = "127.0.0.5"  # a machine that is not a balancer
BALANCER = "127.0.0.1"  # where HAProxy and nginx connect to chokepoint from

POLICY = """version: 1
roles:
  agent: {}
  relay: {includes: [agent]}
default_role: agent
clients:
  - {cidr: 127.0.0.2/32, role: relay}
  - {cidr: 127.0.0.3/32, role: agent}
rules:
  - {id: relays-only, roles: [relay], ports: [443], destinations: [ds20.icrc.trendmicro.com]}
  - {id: everyone, ports: [80, 443], destinations: [files.trendmicro.com]}
"""


def write_policy():
    fd, path = tempfile.mkstemp(prefix="chokepoint-balancer-", suffix=".yaml")
    with os.fdopen(fd, "w") as f:
        f.write(POLICY)
    return path


def metric(proxy, name):
    status, text = proxy.admin("/metrics")
    assert status == 200, status
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and not s.labels:
                return s.value
    return 0


def connect_via(port, source, host, target_port=443, first=b""):
    """CONNECT host:target_port from `source` through 127.0.0.1:port:
    (socket, status, headers, the client's own port)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0))
    sock.sendall(first + b"CONNECT %s:%d HTTP/1.1\r\nHost: %s:%d\r\n\r\n" % (
        host.encode(), target_port, host.encode(), target_port))
    status, headers, _ = read_http_response(sock)
    return sock, status, headers, sock.getsockname()[1]


def curl(*args):
    return subprocess.run(["curl", "--silent", "--show-error", "--max-time", "15", *args], capture_output=True,
                          text=True, timeout=30)


class BalancerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tls = HttpUpstream(tls=True)
        cls.plain = HttpUpstream()
        cls.policy = write_policy()
        cls.proxy = Proxy(
            "--proxy-protocol-from", BALANCER + "/32",
            "--socks-listen", "127.0.0.1:0", "--sni-listen", "127.0.0.1:0",
            "--connect-to", "ds20.icrc.trendmicro.com:443:127.0.0.1:%d" % cls.tls.port,
            "--connect-to", "files.trendmicro.com:443:127.0.0.1:%d" % cls.tls.port,
            "--connect-to", "files.trendmicro.com:80:127.0.0.1:%d" % cls.plain.port,
            config=cls.policy)
        socks = listener_of(cls.proxy, "socks")
        sni = listener_of(cls.proxy, "sni")
        cls.haproxy = HAProxy({
            "explicit": (cls.proxy.host, cls.proxy.port, "send-proxy-v2 check check-send-proxy inter 200ms"),
            "socks": (socks[0], socks[1], "send-proxy-v2"),
            "sni": (sni[0], sni[1], "send-proxy-v2"),
        })
        cls.nginx = NginxStream((cls.proxy.host, cls.proxy.port))

    @classmethod
    def tearDownClass(cls):
        cls.haproxy.stop()
        cls.nginx.stop()
        cls.proxy.stop()
        cls.tls.stop()
        cls.plain.stop()

    def records(self, predicate, count=1):
        return self.proxy.wait_records(predicate, count)

    def by_client(self, source, port, event):
        client = "%s:%d" % (source, port)
        found = self.records(lambda r: r["client"] == client and r["event"] == event)
        self.assertTrue(found, "no %s record for %s" % (event, client))
        return found[0]

    def test_haproxy_v2_names_the_client_and_its_role(self):
        # The relay may reach the relay-only destination, and is recorded as itself.
        sock, status, _, port = connect_via(self.haproxy.ports["explicit"], RELAY, "ds20.icrc.trendmicro.com")
        self.assertEqual(status, 200)
        self.assertIn("hello from ds20.icrc.trendmicro.com path /through-haproxy",
                      tls_get(sock, "ds20.icrc.trendmicro.com", "/through-haproxy"))
        opened = self.by_client(RELAY, port, "open")
        self.assertEqual(opened["role"], "relay")
        self.assertEqual(opened["rule"], "relays-only")
        self.assertTrue(opened["via"].startswith(BALANCER + ":"), opened)
        self.assertNotEqual(opened["via"], opened["client"])
        # The agent behind the same balancer may not: its own role decides.
        sock, status, headers, port = connect_via(self.haproxy.ports["explicit"], AGENT, "ds20.icrc.trendmicro.com")
        sock.close()
        self.assertEqual(status, 403)
        self.assertIn("role_not_allowed", headers["proxy-status"])
        denied = self.by_client(AGENT, port, "deny")
        self.assertEqual(denied["role"], "agent")
        self.assertEqual(denied["reason"], "role_not_allowed")
        self.assertTrue(denied["via"].startswith(BALANCER + ":"))

    def test_a_real_client_through_haproxy(self):
        result = curl("-x", "http://127.0.0.1:%d" % self.haproxy.ports["explicit"], "--interface", RELAY,
                      "--cacert", CA, "https://ds20.icrc.trendmicro.com/curl")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("path /curl", result.stdout)
        refused = curl("-x", "http://127.0.0.1:%d" % self.haproxy.ports["explicit"], "--interface", AGENT,
                       "--cacert", CA, "https://ds20.icrc.trendmicro.com/curl")
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn("403", refused.stderr)

    def test_nginx_v1_names_the_client(self):
        sock, status, _, port = connect_via(self.nginx.port, AGENT, "files.trendmicro.com")
        self.assertEqual(status, 200)
        self.assertIn("path /through-nginx", tls_get(sock, "files.trendmicro.com", "/through-nginx"))
        opened = self.by_client(AGENT, port, "open")
        self.assertEqual(opened["role"], "agent")
        self.assertEqual(opened["rule"], "everyone")
        self.assertTrue(opened["via"].startswith(BALANCER + ":"))
        sock, status, _, port = connect_via(self.nginx.port, RELAY, "ds20.icrc.trendmicro.com")
        sock.close()
        self.assertEqual(status, 200)
        self.assertEqual(self.by_client(RELAY, port, "open")["role"], "relay")

    def test_open_tunnels_name_their_balancer(self):
        sock, status, _, port = connect_via(self.nginx.port, AGENT, "files.trendmicro.com")
        self.assertEqual(status, 200)
        # Relaying once the tunnel's ClientHello has been checked: a TLS session stays open.
        tls = ssl.create_default_context(cafile=CA).wrap_socket(sock, server_hostname="files.trendmicro.com")
        opened = self.by_client(AGENT, port, "open")
        listing = json.loads(self.proxy.admin("/connections")[1])
        tls.close()
        [listed] = [c for c in listing if c["id"] == opened["id"]]
        self.assertEqual(listed["client"], opened["client"])
        self.assertEqual(listed["via"], opened["via"])
        self.assertTrue(listed["via"].startswith(BALANCER + ":"))

    def test_socks_behind_haproxy(self):
        result = curl("--socks5-hostname", "127.0.0.1:%d" % self.haproxy.ports["socks"], "--interface", RELAY,
                      "http://files.trendmicro.com/socks")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("hello from files.trendmicro.com path /socks", result.stdout)
        opened = self.records(lambda r: r["mode"] == "socks" and r["event"] == "open"
                              and r["client"].startswith(RELAY + ":"))
        self.assertTrue(opened)
        self.assertEqual(opened[0]["role"], "relay")
        self.assertEqual(opened[0]["socks_version"], "5")
        self.assertTrue(opened[0]["via"].startswith(BALANCER + ":"))

    def test_sni_behind_haproxy(self):
        sock = socket.create_connection(("127.0.0.1", self.haproxy.ports["sni"]), timeout=10,
                                        source_address=(AGENT, 0))
        port = sock.getsockname()[1]
        self.assertIn("path /sni", tls_get(sock, "files.trendmicro.com", "/sni"))
        opened = self.by_client(AGENT, port, "open")
        self.assertEqual(opened["mode"], "sni")
        self.assertEqual(opened["role"], "agent")
        self.assertTrue(opened["via"].startswith(BALANCER + ":"))
        # The agent's SNI naming the relay-only host is refused, as the agent.
        sock = socket.create_connection(("127.0.0.1", self.haproxy.ports["sni"]), timeout=10,
                                        source_address=(AGENT, 0))
        port = sock.getsockname()[1]
        with self.assertRaises((ssl.SSLError, ConnectionError)):
            tls_get(sock, "ds20.icrc.trendmicro.com")
        self.assertEqual(self.by_client(AGENT, port, "deny")["reason"], "role_not_allowed")

    def test_a_header_from_outside_is_refused_and_recorded(self):
        # A machine that is not a balancer names another client: refused.
        forged = b"PROXY TCP4 127.0.0.2 127.0.0.1 40000 3128\r\n"
        sock, status, headers, port = connect_via(self.proxy.port, OUTSIDER, "ds20.icrc.trendmicro.com",
                                                  first=forged)
        sock.close()
        self.assertEqual(status, 403)
        self.assertIn("proxy_header_refused", headers["proxy-status"])
        record = self.by_client(OUTSIDER, port, "deny")
        self.assertEqual(record["reason"], "proxy_header_refused")
        self.assertNotIn("via", record)
        # A v2 header to the SOCKS listener: closed, and recorded.
        host, socks_port = listener_of(self.proxy, "socks")
        v2 = bytes.fromhex("0d0a0d0a000d0a515549540a" "2111000c" "7f000002" "7f000001" "9c40" "0c38")
        with socket.create_connection((host, socks_port), timeout=10, source_address=(OUTSIDER, 0)) as s:
            s.sendall(v2 + b"\x05\x01\x00")
            port = s.getsockname()[1]
            self.assertEqual(s.recv(100), b"")
        self.assertEqual(self.by_client(OUTSIDER, port, "deny")["reason"], "proxy_header_refused")
        # A client behind the balancer that sends a header of its own: refused, as itself.
        sock, status, _, port = connect_via(self.haproxy.ports["explicit"], AGENT, "files.trendmicro.com",
                                            first=forged)
        sock.close()
        self.assertEqual(status, 403)
        record = self.by_client(AGENT, port, "deny")
        self.assertEqual(record["reason"], "proxy_header_refused")
        self.assertTrue(record["via"].startswith(BALANCER + ":"))

    def test_a_balancer_connection_without_a_header_is_refused(self):
        sock, status, headers, port = connect_via(self.proxy.port, BALANCER, "files.trendmicro.com")
        sock.close()
        self.assertEqual(status, 400)
        self.assertIn("proxy_header_missing", headers["proxy-status"])
        record = self.by_client(BALANCER, port, "error")
        self.assertEqual(record["reason"], "proxy_header_missing")
        host, socks_port = listener_of(self.proxy, "socks")
        with socket.create_connection((host, socks_port), timeout=10, source_address=(BALANCER, 0)) as s:
            s.sendall(b"\x05\x01\x00")
            port = s.getsockname()[1]
            self.assertEqual(s.recv(100), b"")
        self.assertEqual(self.by_client(BALANCER, port, "error")["reason"], "proxy_header_missing")


class HealthCheckTest(unittest.TestCase):
    def test_local_health_checks_are_counted_and_leave_no_record(self):
        proxy = Proxy("--proxy-protocol-from", BALANCER + "/32")
        haproxy = HAProxy({"explicit": (proxy.host, proxy.port, "send-proxy-v2 check check-send-proxy inter 100ms")})
        try:
            self.assertTrue(wait_until(lambda: metric(proxy, "chokepoint_proxy_protocol_health_checks_total") >= 3,
                                       timeout=20))
            # HAProxy sees a healthy server; chokepoint wrote nothing for it.
            self.assertTrue(wait_until(lambda: haproxy.server_status("explicit") == "UP", timeout=10))
            self.assertEqual(proxy.records(), [])
            # The admin endpoint (on the trusted address too) never expects a header.
            self.assertEqual(proxy.admin("/healthz")[0], 200)
        finally:
            haproxy.stop()
            proxy.stop()
        self.assertEqual(proxy.records(), [])


class LimitsBehindABalancerTest(unittest.TestCase):
    def test_per_client_rate_is_the_real_clients(self):
        tls = HttpUpstream(tls=True)
        policy = write_policy()
        proxy = Proxy("--proxy-protocol-from", BALANCER + "/32", "--max-rate-per-client", "1/m",
                      "--connect-to", "files.trendmicro.com:443:127.0.0.1:%d" % tls.port, config=policy)
        haproxy = HAProxy({"explicit": (proxy.host, proxy.port, "send-proxy-v2")})
        port = haproxy.ports["explicit"]
        try:
            first, status, _, _ = connect_via(port, RELAY, "files.trendmicro.com")
            first.close()
            self.assertEqual(status, 200)
            # The same client again, through the same balancer: over its rate.
            again, status, headers, client_port = connect_via(port, RELAY, "files.trendmicro.com")
            again.close()
            self.assertEqual(status, 429)
            self.assertIn("retry-after", headers)
            # Another client behind the same balancer is not: the balancer's
            # address is nobody's rate.
            other, status, _, _ = connect_via(port, AGENT, "files.trendmicro.com")
            other.close()
            self.assertEqual(status, 200)
            limited = proxy.wait_records(lambda r: r["reason"] == "rate_limited")
            self.assertEqual(limited[0]["client"], "%s:%d" % (RELAY, client_port))
            self.assertTrue(limited[0]["via"].startswith(BALANCER + ":"))
        finally:
            haproxy.stop()
            proxy.stop()
            tls.stop()


if __name__ == "__main__":
    unittest.main()
