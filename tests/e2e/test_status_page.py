"""The admin endpoint's status page (GET /) in a real browser: Debian's
Chromium, headless, loads the page while a tunnel the test opened is
relaying, after a denial and a hostile SOCKS request it caused, and with a
name in the DNS cache (dns_server.py answers it). The DOM Chromium built must
show each of them, and the hostile name as text, never as markup. The test
takes a screenshot (CHOKEPOINT_SCREENSHOTS=docs makes the README's).

Also GET /dns (the cache's names as JSON) and the DNS families of /metrics."""

import json
import os
import socket
import struct
import tempfile
import unittest

from browser import chromium, screenshot
from dns_server import DnsServer
from harness import EchoUpstream, Proxy, read_http_response, wait_until
from test_operations import metrics, sample

ZONE = "status-e2e.example"
HOSTILE = "<script>alert(1)</script>"


def socks_endpoint(proxy):
    for line in proxy.stderr_lines:
        if "(socks)" in line:
            host, port = line.split("listening on ")[1].split(" ")[0].rsplit(":", 1)
            return host, int(port)
    raise AssertionError("no SOCKS listener")


class StatusPageTest(unittest.TestCase):
    def setUp(self):
        self.dns = DnsServer()
        self.echo = EchoUpstream()
        directory = tempfile.mkdtemp(prefix="chokepoint-status-")
        self.config = os.path.join(directory, "site.yaml")
        with open(self.config, "w") as f:
            f.write("version: 1\nrules:\n"
                    "  - {id: agents-zone, service: Agent updates, ports: [%d], destinations: ['*.%s']}\n"
                    "  - {id: loopback-upstream, service: Agent updates, ports: [%d],"
                    " destinations: [127.0.0.1/32]}\n" % (self.echo.port, ZONE, self.echo.port))
        self.dns.set("agents." + ZONE, ["127.0.0.1"], ttl=300)
        self.proxy = Proxy("--dns-server", self.dns.endpoint(), "--socks-listen", "127.0.0.1:0",
                           config=self.config)

    def tearDown(self):
        self.assertEqual(self.proxy.stop(), 0, self.proxy.stderr_text()[-3000:])
        self.echo.stop()
        self.dns.stop()

    def connect(self, host, port):
        sock = self.proxy.connect()
        sock.sendall(b"CONNECT %s:%d HTTP/1.1\r\nHost: %s:%d\r\n\r\n" % (host.encode(), port, host.encode(), port))
        status, headers, _ = read_http_response(sock)
        return sock, status, headers

    def test_the_page_shows_a_tunnel_a_denial_and_a_hostile_name_as_text(self):
        tunnel, status, _ = self.connect("agents." + ZONE, self.echo.port)
        self.assertEqual(status, 200)
        tunnel.sendall(b"x" * 3000)  # relayed and counted; the echo answers only at the FIN
        denied, status, _ = self.connect("evil.example.com", 443)
        denied.close()
        self.assertEqual(status, 403)
        # SOCKS4a with a "domain" that is markup: refused (bad_request), and
        # the record keeps what the client sent.
        with socket.create_connection(socks_endpoint(self.proxy), timeout=10) as s:
            s.sendall(struct.pack("!BBH", 4, 1, 443) + bytes([0, 0, 0, 1]) + b"\0" + HOSTILE.encode() + b"\0")
            self.assertEqual(s.recv(8)[:2], b"\x00\x5b")
        self.proxy.wait_records(lambda r: r["event"] == "error" and r["host"] == HOSTILE)
        self.assertTrue(wait_until(lambda: HOSTILE.replace("<", "&lt;").replace(">", "&gt;")
                                   in self.proxy.admin("/")[1], timeout=10))
        self.assertTrue(wait_until(
            lambda: json.loads(self.proxy.admin("/connections")[1])[0]["bytes_up"] == 3000, timeout=10))

        page = chromium("--dump-dom", self.proxy.admin_url + "/")
        self.assertEqual(page.returncode, 0, page.stderr[-2000:])
        dom = page.stdout
        self.assertIn("<title>chokepoint status</title>", dom)
        self.assertIn("Open tunnels (1)", dom)
        self.assertIn("<td>agents.%s:%d</td>" % (ZONE, self.echo.port), dom)
        self.assertIn("<td>agents-zone</td>", dom)
        self.assertIn("<td>evil.example.com:443</td>", dom)
        self.assertIn("<td>no_matching_rule</td>", dom)
        self.assertIn("<td>Agent updates</td>", dom)
        self.assertIn("<td>agents.%s</td>" % ZONE, dom)  # the DNS cache's table
        self.assertIn('<span class="ok">writing</span>', dom)
        # The hostile name is text in a cell; Chromium made no element of it.
        self.assertIn("<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>", dom)
        self.assertNotIn("<script", dom)

        screenshot(self, self.proxy.admin_url + "/", "status-page.png")
        tunnel.close()

    def test_the_page_refuses_scripts_and_refreshes_itself(self):
        authority = self.proxy.admin_url.split("//")[1]
        request = socket.create_connection((authority.rsplit(":", 1)[0], int(authority.rsplit(":", 1)[1])),
                                           timeout=10)
        # The admin endpoint answers only its own names (DNS rebinding).
        request.sendall(b"GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % authority.encode())
        status, headers, body = read_http_response(request)
        request.close()
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "text/html; charset=utf-8")
        self.assertIn("default-src 'none'", headers["content-security-policy"])
        self.assertIn(b'<meta http-equiv="refresh" content="5">', body)

    def test_dns_listing_and_metrics(self):
        sock, status, _ = self.connect("agents." + ZONE, self.echo.port)
        sock.close()
        self.assertEqual(status, 200)
        sock, status, _ = self.connect("agents." + ZONE, self.echo.port)  # a hit this time
        sock.close()
        listing = json.loads(self.proxy.admin("/dns")[1])
        self.assertEqual(listing["names"], 1)
        [entry] = listing["entries"]
        self.assertEqual(entry["name"], "agents." + ZONE)
        self.assertEqual(entry["status"], "addresses")
        self.assertEqual(entry["addresses"], ["127.0.0.1"])
        self.assertGreater(entry["ttl_left_s"], 200)
        self.assertLessEqual(entry["ttl_left_s"], 300)
        self.assertEqual(entry["hits"], 1)
        m = metrics(self.proxy)
        self.assertEqual(sample(m, "chokepoint_dns_lookups_total"), 2)
        self.assertEqual(sample(m, "chokepoint_dns_lookup_outcomes_total", outcome="miss"), 1)
        self.assertEqual(sample(m, "chokepoint_dns_lookup_outcomes_total", outcome="hit"), 1)
        self.assertEqual(sample(m, "chokepoint_dns_queries_total"), 2)  # A and AAAA
        self.assertEqual(sample(m, "chokepoint_dns_resolutions_total", result="answer"), 1)
        self.assertEqual(sample(m, "chokepoint_dns_cached_names"), 1)
        self.assertEqual(sample(m, "chokepoint_dns_query_seconds_count"), 1)


if __name__ == "__main__":
    unittest.main()
