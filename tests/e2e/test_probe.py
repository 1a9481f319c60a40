"""chokepoint probe against real things on loopback: the test's DNS server
(the only resolver the probe is ever given), TLS servers with certificates
from the test CA, a port that refuses, a listener that never answers, a
plain HTTP server on a TLS port, a name that resolves to a private address,
and squid as the parent proxy of one rule. Every outcome is seen in the
JSON lines, the table groups them by what breaks, and the exit code says
whether everything probed is reachable. Last, the built-in catalog for a
relay against a DNS server that knows no name: everything `dns`, within the
time limit, on one screen."""

import json
import os
import socket
import subprocess
import tempfile
import time
import unittest

from dns_server import DnsServer
from harness import CA, CHOKEPOINT, HttpUpstream
from peers import Squid, free_port

# Names from the catalog; the test's DNS server and --connect-to say where they are.
OK_TLS = "ds20.icrc.trendmicro.com"  # the test CA's certificate names it
OK_PLAIN = "files.trendmicro.com"
NO_NAME = "ds20-jp.icrc.trendmicro.com"  # NXDOMAIN
REFUSED = "ds120.icrc.trendmicro.com"  # a port nothing listens on
SILENT = "ds2000-en-census.trendmicro.com"  # accepted by the kernel, never answered
MIDDLEBOX = "deepsec20-en.gfrbridge.trendmicro.com"  # the certificate names another host
NOT_TLS = "ds110.icrc.trendmicro.com"  # plain HTTP on 443
PRIVATE = "ds200-en.fbs25.trendmicro.com"  # resolves to 10.0.0.5: vetting refuses it
VIA_PARENT = "iaus.activeupdate.trendmicro.com"  # only squid knows where it is
PARENT_DENIES = "ipv6-iaus.trendmicro.com"  # squid's http_access refuses it


def write(text, suffix=".yaml"):
    fd, path = tempfile.mkstemp(prefix="chokepoint-probe-", suffix=suffix)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return path


def probe(*args, timeout=120):
    return subprocess.run([CHOKEPOINT, "probe", *args], capture_output=True, text=True, timeout=timeout)


def lines_of(run):
    return [json.loads(line) for line in run.stdout.splitlines()]


class ProbeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dns = DnsServer()
        for name in (OK_TLS, OK_PLAIN, REFUSED, SILENT, MIDDLEBOX, NOT_TLS):
            cls.dns.set(name, ["127.0.0.1"], ttl=60)
        cls.dns.set(PRIVATE, ["10.0.0.5"], ttl=60)
        cls.tls = HttpUpstream(tls=True)
        cls.plain = HttpUpstream()
        cls.closed_port = free_port()
        # Listening, never accepting: the kernel completes the connect, the
        # TLS hello is never read.
        cls.silent = socket.socket()
        cls.silent.bind(("127.0.0.1", 0))
        cls.silent.listen(8)
        cls.squid = Squid({VIA_PARENT: "127.0.0.1", PARENT_DENIES: "127.0.0.1"}, deny=[PARENT_DENIES])
        cls.config = write("""version: 1
default_role: agent
roles:
  agent: {}
  relay: {}
version_groups:
  "20.0+": {min: "20.0"}
  "12.0": {min: "12.0", below: "20.0"}
rules:
  - id: spn-smart-scan
    service: "Smart Protection Network: Smart Scan Service"
    description: File reputation lookups for agents that use smart scan.
    roles: [agent]
    ports: [443]
    destinations:
      "20.0+": [%(ok_tls)s, %(no_name)s, %(not_tls)s]
      "12.0": [%(refused)s]
  - id: spn-census
    service: "Smart Protection Network: Global Census Service"
    roles: [agent]
    ports: [443]
    destinations: [%(silent)s, %(middlebox)s, %(private)s]
  - id: download-center
    service: Download Center or web server
    description: Hosts Deep Security software for the Manager, agents and relays.
    roles: [agent, relay]
    ports: [443, 80]
    destinations: [%(ok_plain)s]
  - id: active-update
    service: Update server (ActiveUpdate)
    roles: [agent]
    ports: [%(plain_port)d]
    upstream_proxy: "http://127.0.0.1:%(squid)d"
    destinations: [%(via_parent)s, %(parent_denies)s]
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
""" % {"ok_tls": OK_TLS, "no_name": NO_NAME, "not_tls": NOT_TLS, "refused": REFUSED, "silent": SILENT,
       "middlebox": MIDDLEBOX, "private": PRIVATE, "ok_plain": OK_PLAIN, "plain_port": cls.plain.port,
       "squid": cls.squid.port, "via_parent": VIA_PARENT, "parent_denies": PARENT_DENIES})
        # Only the port changes: the name is still resolved and vetted.
        cls.connect_to = []
        for name, port in ((OK_TLS, cls.tls.port), (MIDDLEBOX, cls.tls.port), (REFUSED, cls.closed_port),
                           (SILENT, cls.silent.getsockname()[1]), (NOT_TLS, cls.plain.port)):
            cls.connect_to += ["--connect-to", "%s:443::%d" % (name, port)]
        cls.connect_to += ["--connect-to", "%s:443::%d" % (OK_PLAIN, cls.tls.port),
                           "--connect-to", "%s:80::%d" % (OK_PLAIN, cls.plain.port)]

    @classmethod
    def tearDownClass(cls):
        cls.squid.stop()
        cls.silent.close()
        cls.tls.stop()
        cls.plain.stop()
        cls.dns.stop()

    def run_probe(self, *more):
        return probe("--config", self.config, "--dns-server", self.dns.endpoint(), "--ca", CA, "--timeout", "1s",
                     *self.connect_to, *more)

    def test_every_outcome_in_json(self):
        run = self.run_probe("--format", "json")
        self.assertEqual(run.returncode, 1, run.stderr)
        by_host = {}
        for line in lines_of(run):
            by_host[(line["host"], line["port"])] = line
            for key in ("host", "port", "service", "rule", "outcome", "addresses", "dns_ms", "connect_ms",
                        "tls_ms", "subject", "issuer", "detail"):
                self.assertIn(key, line)
        outcome = {key: line["outcome"] for key, line in by_host.items()}
        self.assertEqual(outcome, {
            (OK_TLS, 443): "ok", (NO_NAME, 443): "dns", (NOT_TLS, 443): "tls", (REFUSED, 443): "connect",
            (SILENT, 443): "timeout", (MIDDLEBOX, 443): "certificate", (PRIVATE, 443): "vetting",
            (OK_PLAIN, 443): "ok", (OK_PLAIN, 80): "ok", (VIA_PARENT, self.plain.port): "ok",
            (PARENT_DENIES, self.plain.port): "parent", ("*.xdr.trendmicro.com", 443): "not_probed",
            ("127.0.0.0/8", None): "not_probed"}, run.stdout)

        ok = by_host[(OK_TLS, 443)]
        self.assertEqual(ok["rule"], "spn-smart-scan")
        self.assertEqual(ok["versions"], "20.0+")
        self.assertEqual(ok["addresses"], ["127.0.0.1"])
        self.assertEqual(ok["upstream"], "127.0.0.1:%d" % self.tls.port)
        self.assertTrue(ok["tls"])
        for step in ("dns_ms", "connect_ms", "tls_ms"):
            self.assertIsInstance(ok[step], int)
            self.assertLess(ok[step], 1000)
        plain = by_host[(OK_PLAIN, 80)]
        self.assertFalse(plain["tls"])
        self.assertIsNone(plain["tls_ms"])  # a plain port: connected is reachable

        no_name = by_host[(NO_NAME, 443)]
        self.assertIsInstance(no_name["dns_ms"], int)
        self.assertIsNone(no_name["connect_ms"])
        self.assertEqual(no_name["addresses"], [])
        self.assertIn(NO_NAME, no_name["detail"])

        self.assertIn("10.0.0.5 (private)", by_host[(PRIVATE, 443)]["detail"])
        self.assertIsNone(by_host[(PRIVATE, 443)]["connect_ms"])  # refused before any connect
        self.assertIn("refused", by_host[(REFUSED, 443)]["detail"])
        silent = by_host[(SILENT, 443)]
        self.assertIsInstance(silent["connect_ms"], int)  # the connect went through; the handshake did not
        self.assertGreaterEqual(silent["tls_ms"], 900)
        self.assertIn("TLS handshake", silent["detail"])
        self.assertIn("TLS handshake failed", by_host[(NOT_TLS, 443)]["detail"])

        # The middlebox case: what was presented instead.
        middlebox = by_host[(MIDDLEBOX, 443)]
        self.assertIn("hostname mismatch", middlebox["detail"])
        self.assertEqual(middlebox["subject"], "CN=ds20.icrc.trendmicro.com")
        self.assertEqual(middlebox["issuer"], "CN=chokepoint test CA")

        # Through squid: our DNS knows nothing of it, squid does.
        parent = by_host[(VIA_PARENT, self.plain.port)]
        self.assertEqual(parent["upstream_proxy"], "127.0.0.1:%d" % self.squid.port)
        self.assertEqual(self.dns.queries(VIA_PARENT)["total"], 0)
        self.assertIn("403", by_host[(PARENT_DENIES, self.plain.port)]["detail"])
        connects = [f[6] for f in self.squid.access_log() if f[5] == "CONNECT"]
        self.assertIn("%s:%d" % (VIA_PARENT, self.plain.port), connects)

        self.assertIn("wildcard", by_host[("*.xdr.trendmicro.com", 443)]["detail"])
        self.assertEqual(by_host[("127.0.0.0/8", None)]["ports"], "1-65535")

    def test_the_table(self):
        run = self.run_probe()
        self.assertEqual(run.returncode, 1, run.stderr)
        text = run.stdout
        print("\n" + text)
        self.assertTrue(text.startswith("chokepoint probe, role agent: 11 destinations probed, 4 reachable, 7 not; "
                                        "2 not probed"), text)
        broken, reachable, skipped = text.index("NOT REACHABLE"), text.index("\nREACHABLE"), text.index("NOT PROBED")
        self.assertLess(broken, reachable)
        self.assertLess(reachable, skipped)
        self.assertIn("Smart Protection Network: Smart Scan Service (agents 20.0+): 2 of 3 not reachable\n"
                      "    File reputation lookups for agents that use smart scan.\n", text)
        self.assertIn("Smart Protection Network: Smart Scan Service (agents 12.0): 1 of 1 not reachable", text)
        self.assertIn("Smart Protection Network: Global Census Service: 3 of 3 not reachable", text)
        self.assertIn("hostname mismatch (at 127.0.0.1:%d); presented CN=ds20.icrc.trendmicro.com, issued by "
                      "CN=chokepoint test CA" % self.tls.port, text)
        self.assertIn("Connection refused (tried 127.0.0.1)", text)
        self.assertIn("Update server (ActiveUpdate): 1 of 2 not reachable", text)
        # A service with any failure is listed with the failures only.
        self.assertEqual([line.strip() for line in text[reachable:skipped].strip().splitlines()],
                         ["REACHABLE", "ok  Download Center or web server: 2 destinations"])
        self.assertIn("*.xdr.trendmicro.com (443)", text)
        self.assertIn("7 destinations are not reachable from here", text)

    def test_one_version_and_all_reachable(self):
        run = self.run_probe("--role", "relay")
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        self.assertIn("role relay: 2 destinations probed, 2 reachable, 0 not", run.stdout)
        self.assertIn("Everything probed is reachable.", run.stdout)
        run = self.run_probe("--version", "12.0", "--format", "json")
        hosts = {line["host"] for line in lines_of(run) if line["rule"] == "spn-smart-scan"}
        self.assertEqual(hosts, {REFUSED})

    def test_without_the_test_ca_every_tls_name_is_a_certificate(self):
        run = probe("--config", self.config, "--dns-server", self.dns.endpoint(), "--timeout", "1s",
                    "--format", "json", *self.connect_to)
        line = [l for l in lines_of(run) if l["host"] == OK_TLS][0]
        self.assertEqual(line["outcome"], "certificate")
        self.assertEqual(line["issuer"], "CN=chokepoint test CA")
        self.assertIn("local issuer", line["detail"])

    def test_usage_errors(self):
        for args, message in ((["--format", "xml"], "--format must be text or json"),
                              (["--role", "nobody"], "unknown role 'nobody'"),
                              (["--timeout", "soon"], "--timeout"),
                              (["--version", "x"], "bad version"),
                              (["--ca", "/nonexistent/ca.pem"], "cannot load the CA"),
                              (["--dns-server", "not an address"], "--dns-server"),
                              (["--frobnicate"], "frobnicate")):
            run = probe("--config", self.config, "--dns-server", self.dns.endpoint(), *args)
            self.assertEqual(run.returncode, 2, (args, run.stdout, run.stderr))
            self.assertIn(message, run.stderr)
            self.assertEqual(run.stdout, "")

    def test_the_time_limit(self):
        # Names whose DNS never answers, each lookup given 5 s; the run 1 s.
        names = ["n%d.silent-zone.dns-e2e.example" % i for i in range(20)]
        config = write("""version: 1
rules:
  - {id: silent, service: Silent, ports: [443], destinations: [%s]}
""" % ", ".join(names))
        started = time.monotonic()
        run = probe("--config", config, "--dns-server", self.dns.endpoint(), "--timeout", "5s",
                    "--time-limit", "1s", "--format", "json")
        elapsed = time.monotonic() - started
        self.assertEqual(run.returncode, 1, run.stderr)
        self.assertLess(elapsed, 3.5)
        outcomes = [line["outcome"] for line in lines_of(run)]
        self.assertEqual(outcomes.count("timeout"), 16)  # at most 16 at once
        self.assertEqual(outcomes.count("not_probed"), 4)
        self.assertIn("time limit", lines_of(run)[-1]["detail"])


class CatalogWithoutDnsTest(unittest.TestCase):
    """Done means: the built-in catalog for a relay, against a DNS server
    that knows no name, ends within its time limit, everything `dns`, and
    says so on one screen."""

    @classmethod
    def setUpClass(cls):
        cls.dns = DnsServer()  # NXDOMAIN for every name it was not told

    @classmethod
    def tearDownClass(cls):
        cls.dns.stop()

    def test_everything_dns_on_one_screen(self):
        started = time.monotonic()
        run = probe("--role", "relay", "--dns-server", self.dns.endpoint(), "--time-limit", "30s")
        elapsed = time.monotonic() - started
        print("\n" + run.stdout)
        self.assertEqual(run.returncode, 1, run.stderr)
        self.assertLess(elapsed, 30)
        lines = run.stdout.splitlines()
        self.assertLessEqual(len(lines), 45)
        self.assertRegex(lines[0], r"role relay: (\d+) destinations probed, 0 reachable, \1 not")
        self.assertIn("--format json lists every destination", run.stdout)
        self.assertRegex(run.stdout, r"\n  dns +\d+ +e\.g\. ")
        self.assertGreater(self.dns.stats()["total"], 100)

        run = probe("--role", "relay", "--dns-server", self.dns.endpoint(), "--time-limit", "30s",
                    "--format", "json")
        results = lines_of(run)
        probed = [r for r in results if r["outcome"] != "not_probed"]
        self.assertGreater(len(probed), 100)
        self.assertEqual({r["outcome"] for r in probed}, {"dns"})
        self.assertIn("ds20.icrc.trendmicro.com", {r["host"] for r in probed})


if __name__ == "__main__":
    unittest.main()
