"""chokepoint run --probe-interval: the running proxy probes every concrete
destination of its policy in the background, through the test's DNS server
(the only resolver it is given) and --connect-to, against loopback servers.
GET /probe shows what is reachable and what fails, chokepoint_destination_up
follows a server that goes down and comes back, each change leaves exactly
one `probe` record (and a probe is never a client's connection), the status
page has its Reachability section, a reload changes what is watched, and
`report` reads a log with probe records."""

import json
import os
import re
import socket
import subprocess
import tempfile
import unittest

from dns_server import DnsServer
from harness import CA, CHOKEPOINT, HttpUpstream, Proxy, wait_until

OK_TLS = "ds20.icrc.trendmicro.com"  # the test CA's certificate names it
NO_NAME = "ds20-jp.icrc.trendmicro.com"  # NXDOMAIN
FLIP = "iaus.activeupdate.trendmicro.com"  # plain port 80: a listener the test closes and reopens

POLICY = """version: 1
default_role: agent
roles:
  agent: {}
  relay: {}
rules:
  - id: spn-smart-scan
    service: "Smart Protection Network: Smart Scan Service"
    roles: [agent]
    ports: [443]
    destinations: [%(ok_tls)s, %(no_name)s]
  - id: active-update
    service: Update server (ActiveUpdate)
    roles: [relay]
    ports: [80]
    destinations: [%(flip)s%(more)s]
  - id: vision-one
    service: Trend Micro Vision One
    roles: [agent]
    ports: [443]
    destinations: ["*.xdr.trendmicro.com"]
  # The test's servers are on loopback, which address vetting refuses
  # unless a CIDR rule allows it.
  - id: test-loopback
    roles: [agent, relay]
    ports: [1-65535]
    destinations: [127.0.0.0/8]
"""


def policy(flip=FLIP, more=""):
    return POLICY % {"ok_tls": OK_TLS, "no_name": NO_NAME, "flip": flip, "more": more}


class Listener:
    """A plain TCP listener on a fixed port that can go away and come back;
    the kernel completes connects from its backlog, which is all a probe of
    a plain port asks."""

    def __init__(self):
        self.port = None
        self.start()

    def start(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", self.port or 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]

    def stop(self):
        self.sock.close()


class ProbeWatchTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dns = DnsServer()
        for name in (OK_TLS, FLIP):
            cls.dns.set(name, ["127.0.0.1"], ttl=60)
        cls.tls = HttpUpstream(tls=True)
        cls.flip = Listener()
        cls.dir = tempfile.mkdtemp(prefix="chokepoint-probe-watch-")
        cls.config = os.path.join(cls.dir, "policy.yaml")
        with open(cls.config, "w") as f:
            f.write(policy())
        cls.proxy = Proxy("--probe-interval", "1s", "--probe-ca", CA, "--dns-server", cls.dns.endpoint(),
                          "--dns-timeout", "1s", "--connect-timeout", "1s",
                          "--connect-to", "%s:443::%d" % (OK_TLS, cls.tls.port),
                          "--connect-to", "%s:80::%d" % (FLIP, cls.flip.port), config=cls.config)

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()
        cls.flip.stop()
        cls.tls.stop()
        cls.dns.stop()

    def probe_page(self):
        status, body = self.proxy.admin("/probe")
        self.assertEqual(status, 200, body)
        return json.loads(body)

    def outcomes(self):
        return {(r["host"], r["port"]): r["outcome"] for r in self.probe_page()["results"]}

    def up(self):
        """chokepoint_destination_up's samples: {(service, host, port): value}."""
        status, text = self.proxy.admin("/metrics")
        self.assertEqual(status, 200)
        found = {}
        for m in re.finditer(r'^chokepoint_destination_up\{service="([^"]*)",host="([^"]*)",port="(\d+)"\} (\d)$',
                             text, re.M):
            found[(m.group(1), m.group(2), int(m.group(3)))] = int(m.group(4))
        return found

    def probe_records(self, host=None):
        return [r for r in self.proxy.records() if r["event"] == "probe" and (host is None or r["host"] == host)]

    def test_watching(self):
        expected = {(OK_TLS, 443): "ok", (NO_NAME, 443): "dns", (FLIP, 80): "ok"}
        self.assertTrue(wait_until(lambda: self.outcomes() == expected, timeout=10), self.probe_page())
        page = self.probe_page()
        self.assertTrue(page["enabled"])
        self.assertEqual(page["interval_ms"], 1000)
        self.assertEqual(page["destinations"], 3)  # the wildcard and the range are not watched
        self.assertEqual(page["failing"], 1)
        self.assertIsNotNone(page["last_probe"])
        by_host = {r["host"]: r for r in page["results"]}
        self.assertEqual(page["results"][0]["host"], NO_NAME)  # failures first
        ok = by_host[OK_TLS]
        self.assertTrue(ok["up"])
        self.assertEqual(ok["role"], "agent")
        self.assertEqual(ok["rule"], "spn-smart-scan")
        self.assertEqual(ok["upstream"], "127.0.0.1:%d" % self.tls.port)
        self.assertIsInstance(ok["tls_ms"], int)  # verified against --probe-ca
        self.assertEqual(by_host[FLIP]["role"], "relay")
        self.assertFalse(by_host[NO_NAME]["up"])
        self.assertIn(NO_NAME, by_host[NO_NAME]["detail"])

        smart_scan = "Smart Protection Network: Smart Scan Service"
        updates = "Update server (ActiveUpdate)"
        self.assertEqual(self.up(), {(smart_scan, OK_TLS, 443): 1, (smart_scan, NO_NAME, 443): 0,
                                     (updates, FLIP, 80): 1})
        status, text = self.proxy.admin("/metrics")
        last = re.search(r"^chokepoint_probe_last_timestamp_seconds (\d+)$", text, re.M)
        self.assertIsNotNone(last, text)

        # The status page.
        status, html = self.proxy.admin("/")
        self.assertEqual(status, 200)
        self.assertIn('<h2 id="reachability">Reachability</h2>', html)
        self.assertIn("3 destinations probed every 1 s", html)
        self.assertIn('<td class="bad">dns</td><td>%s:443</td>' % NO_NAME, html)
        self.assertIn('<td class="ok">ok</td><td>%s:443</td>' % OK_TLS, html)

        # Down: the metric flips, one record.
        self.flip.stop()
        try:
            self.assertTrue(wait_until(lambda: self.up().get((updates, FLIP, 80)) == 0, timeout=10), self.up())
            down = wait_until(lambda: self.probe_records(FLIP), timeout=5)
            self.assertEqual(len(down), 1, down)
            self.assertEqual(down[0]["port"], 80)
            self.assertEqual(down[0]["rule"], "active-update")
            self.assertEqual(down[0]["service"], updates)
            self.assertEqual(down[0]["role"], "relay")
            self.assertTrue(down[0]["detail"].startswith("connect: "), down[0])
            self.assertTrue(down[0]["detail"].endswith("(was ok)"), down[0])
            self.assertEqual(self.outcomes()[(FLIP, 80)], "connect")
        finally:
            self.flip.start()
        # Back.
        self.assertTrue(wait_until(lambda: self.up().get((updates, FLIP, 80)) == 1, timeout=10), self.up())
        wait_until(lambda: len(self.probe_records(FLIP)) >= 2, timeout=5)
        # A few more rounds, nothing changing: no more records.
        before = self.probe_page()["rounds"]
        self.assertTrue(wait_until(lambda: self.probe_page()["rounds"] >= before + 3, timeout=10))
        flips = self.probe_records(FLIP)
        self.assertEqual([r["detail"] for r in flips][1:], ["ok (was connect)"], flips)
        self.assertEqual(len(flips), 2, flips)
        no_name = self.probe_records(NO_NAME)
        self.assertEqual(len(no_name), 1, no_name)
        self.assertTrue(no_name[0]["detail"].startswith("dns: "), no_name)
        self.assertTrue(no_name[0]["detail"].endswith("(first probe)"), no_name)
        self.assertEqual(self.probe_records(OK_TLS), [])  # reachable from the start: no news

        # A probe is nobody's connection: no other record, no decision counted.
        self.assertEqual({r["event"] for r in self.proxy.records()}, {"probe"})
        status, text = self.proxy.admin("/metrics")
        self.assertNotIn("chokepoint_decisions_total{", text)
        self.assertNotIn("chokepoint_audit_events_total{", text)

        # `report` reads a log with probe records.
        report = subprocess.run([CHOKEPOINT, "report", self.proxy.audit_path], capture_output=True, text=True,
                                timeout=60)
        self.assertEqual(report.returncode, 0, report.stderr)

        # A reload that changes the policy changes what is watched.
        with open(self.config, "w") as f:
            f.write(policy(flip=OK_TLS))
        status, body = self.proxy.admin("/reload", method="POST")
        self.assertEqual(status, 200, body)
        self.assertTrue(wait_until(lambda: set(self.outcomes()) == {(OK_TLS, 443), (NO_NAME, 443), (OK_TLS, 80)},
                                   timeout=10), self.outcomes())
        self.assertNotIn(FLIP, [host for _, host, _ in self.up()])


if __name__ == "__main__":
    unittest.main()
