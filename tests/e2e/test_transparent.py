"""Transparent mode end to end (issue 4), in network namespaces the test
creates: a client namespace routed through a proxy namespace that applies the
shipped nftables rules and runs chokepoint --transparent, to a server
namespace. Real clients (curl, openssl s_client, gnutls-cli, python) connect
to the servers' addresses with no proxy configured. The same namespaces also
host a DNS server, through which an explicit-mode proxy resolves names."""

import os
import signal
import socket
import subprocess
import tempfile
import time
import unittest

import netns
from harness import CA, CHOKEPOINT, Proxy, wait_until
from peers import Squid

TOPOLOGY = None
SERVERS = None
HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS = os.path.join(HERE, "..", "unit", "tls", "vectors")


def setUpModule():
    global TOPOLOGY, SERVERS
    why = netns.available()
    if why:
        raise unittest.SkipTest(why)
    TOPOLOGY = netns.Topology()
    try:
        start_servers()
    except BaseException:
        tearDownModule()  # unittest skips tearDownModule when setUpModule fails
        raise


def start_servers():
    global SERVERS
    SERVERS = TOPOLOGY.popen(
        TOPOLOGY.server, "/usr/bin/python3", os.path.join(HERE, "serve.py"),
        "tls", netns.GOOD, "443", "good", "plain", netns.GOOD, "80", "good",
        "tls", netns.EVIL, "443", "evil", "plain", netns.EVIL, "80", "evil",
        "tls", netns.GOOD6, "443", "good6", "tls", netns.GOOD, "4120", "manager",
        stdout=subprocess.PIPE, text=True, cwd=HERE, env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
    assert SERVERS.stdout.readline().strip() == "ready"


def tearDownModule():
    if SERVERS:
        SERVERS.kill()
        SERVERS.wait()
    if TOPOLOGY:
        TOPOLOGY.close()


def config(text):
    path = os.path.join(tempfile.mkdtemp(prefix="chokepoint-tp-"), "policy.yaml")
    with open(path, "w") as f:
        f.write(text)
    return path


BASE = """version: 1
include: builtin:deep-security.yaml
variables:
  manager: [100.200.0.10]
rules:
  - {id: good-by-address, ports: [443], destinations: [100.200.0.10/32]}
"""


def in_client(*cmd, input=None, timeout=20):
    return TOPOLOGY.run(TOPOLOGY.client, *cmd, check=False, input=input, timeout=timeout)


def curl(*args):
    return in_client("curl", "--silent", "--show-error", "--max-time", "10", "--cacert", CA,
                     "-H", "Connection: close", "-D", "-", *args)


def s_client(connect, *args, request=b""):
    return subprocess.run(["ip", "netns", "exec", TOPOLOGY.client, "openssl", "s_client", "-connect", connect,
                           "-CAfile", CA, "-quiet", *args], input=request, capture_output=True, timeout=20)


def raw_exchange(address, port, payload, read=True, family=socket.AF_INET):
    """Sends `payload` from the client namespace and returns what comes back."""
    code = ("import socket,sys\n"
            "s=socket.socket(%d)\ns.settimeout(10)\ns.connect((%r,%d))\ns.sendall(sys.stdin.buffer.read())\n"
            "data=b''\n"
            "try:\n  while %r:\n    c=s.recv(65536)\n    if not c: break\n    data+=c\nexcept Exception: pass\n"
            "sys.stdout.buffer.write(data)\n") % (family, address, port, read)
    return subprocess.run(["ip", "netns", "exec", TOPOLOGY.client, "/usr/bin/python3", "-c", code],
                          input=payload, capture_output=True, timeout=30).stdout


class RedirectTest(unittest.TestCase):
    """REDIRECT rules, original_destination: ignore, tls.ech: allow."""

    @classmethod
    def setUpClass(cls):
        cls.proxy = Proxy("--transparent", "0.0.0.0:%d" % netns.PROXY_PORT, "--transparent",
                          "[::]:%d" % netns.PROXY_PORT, "--peek-timeout", "1s", listen=None,
                          config=config(BASE), netns=TOPOLOGY.proxy)

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()

    def record(self, predicate, count=1):
        found = self.proxy.wait_records(predicate, count)
        self.assertGreaterEqual(len(found), count, self.proxy.records())
        return found

    def test_allowed_sni_goes_out_and_is_audited(self):
        result = curl("-4", "https://ds20.icrc.trendmicro.com/allowed")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("hello from ds20.icrc.trendmicro.com path /allowed", result.stdout)
        self.assertIn("X-Server-Name: good", result.stdout)
        close = self.record(lambda r: r["event"] == "close" and r["sni"] == "ds20.icrc.trendmicro.com" and
                              r["orig_dst"] == "100.200.0.10:443")[-1]
        self.assertEqual(close["mode"], "transparent")
        self.assertEqual(close["host"], "ds20.icrc.trendmicro.com")
        self.assertEqual(close["rule"], "spn-smart-scan")
        # Dialled by name; Happy Eyeballs tries the name's IPv6 address first.
        self.assertIn(close["upstream"], ("[2a10:7700:2::10]:443", "100.200.0.10:443"))
        self.assertEqual(close["client"].split(":")[0], "10.77.1.2")
        self.assertGreater(close["bytes_down"], 500)

    def test_other_clients(self):
        request = b"GET /gnutls HTTP/1.1\r\nHost: ds20.icrc.trendmicro.com\r\nConnection: close\r\n\r\n"
        result = in_client("gnutls-cli", "--x509cafile", CA, "ds20.icrc.trendmicro.com", input=request.decode())
        self.assertIn("path /gnutls", result.stdout, result.stderr)
        code = ("import requests; r=requests.get('https://ds20.icrc.trendmicro.com/py', verify=%r, timeout=10); "
                "print(r.status_code, r.text)" % CA)
        result = in_client("/usr/bin/python3", "-c", code)
        self.assertIn("200 hello from ds20.icrc.trendmicro.com path /py", result.stdout, result.stderr)
        result = s_client("ds20.icrc.trendmicro.com:443", "-servername", "ds20.icrc.trendmicro.com",
                          request=b"GET /s HTTP/1.1\r\nHost: ds20.icrc.trendmicro.com\r\nConnection: close\r\n\r\n")
        self.assertIn(b"path /s", result.stdout, result.stderr)

    def test_ipv6(self):
        result = curl("-6", "https://ds20.icrc.trendmicro.com/v6")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("path /v6", result.stdout)
        self.record(lambda r: r["event"] == "close" and r["orig_dst"] == "[2a10:7700:2::10]:443")

    def test_denied_sni_gets_an_alert_and_a_record(self):
        result = curl("-4", "https://evil.example.com/")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("access denied", result.stderr.lower())
        deny = self.record(lambda r: r["event"] == "deny" and r["sni"] == "evil.example.com")[-1]
        self.assertEqual(deny["reason"], "no_matching_rule")
        self.assertEqual(deny["orig_dst"], "100.200.0.11:443")

    def test_no_sni_is_decided_on_the_original_destination(self):
        result = s_client("100.200.0.10:443", "-noservername",
                          request=b"GET /nosni HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.assertIn(b"path /nosni", result.stdout, result.stderr)
        self.record(lambda r: r["event"] == "open" and r["sni"] is None and r["orig_dst"] == "100.200.0.10:443" and
                    r["host"] == "100.200.0.10" and r["decision"] == "allow")
        result = s_client("100.200.0.11:443", "-noservername")
        self.assertNotIn(b"HTTP/1.1", result.stdout)
        self.record(lambda r: r["event"] == "deny" and r["host"] == "100.200.0.11" and r["sni"] is None)

    def test_a_lying_sni_reaches_the_named_host_not_the_chosen_address(self):
        # The client connects to the "evil" address but names ds20 in its hello:
        # the proxy dials ds20's own address (dial by name), never the address
        # the client picked.
        result = s_client("100.200.0.11:443", "-servername", "ds20.icrc.trendmicro.com",
                          request=b"GET /lie HTTP/1.1\r\nHost: ds20.icrc.trendmicro.com\r\nConnection: close\r\n\r\n")
        self.assertIn(b"X-Server-Name: good", result.stdout, result.stderr)
        opened = self.record(lambda r: r["event"] == "open" and r["orig_dst"] == "100.200.0.11:443" and
                               r["sni"] == "ds20.icrc.trendmicro.com")[-1]
        self.assertIn(opened["upstream"], ("100.200.0.10:443", "[2a10:7700:2::10]:443"))

    def test_plain_http_by_host_header_per_request(self):
        result = curl("-4", "http://iaus.activeupdate.trendmicro.com/update.zip")
        self.assertIn("200", result.stdout.splitlines()[0])
        self.assertIn("path /update.zip", result.stdout)
        close = self.record(lambda r: r["event"] == "close" and r.get("path") == "/update.zip")[-1]
        self.assertEqual(close["mode"], "transparent")
        self.assertEqual(close["http_host"], "iaus.activeupdate.trendmicro.com")
        self.assertEqual(close["orig_dst"], "100.200.0.10:80")
        result = curl("http://evil.example.com/")
        self.assertIn("403", result.stdout.splitlines()[0])
        # A second request on the same connection is decided on its own Host.
        answer = raw_exchange(netns.GOOD, 80, b"GET /one HTTP/1.1\r\nHost: iaus.activeupdate.trendmicro.com\r\n\r\n"
                              b"GET /two HTTP/1.1\r\nHost: evil.example.com\r\n\r\n")
        self.assertIn(b"path /one", answer)
        self.assertIn(b"403 Forbidden", answer)
        self.record(lambda r: r["event"] == "deny" and r.get("path") == "/two")

    def test_a_stalled_hello_is_cut_off(self):
        hello = open(os.path.join(VECTORS, "curl.bin"), "rb").read()
        start = time.monotonic()
        raw_exchange(netns.GOOD, 443, hello[:40])
        self.assertLess(time.monotonic() - start, 8)
        self.record(lambda r: r["event"] == "deny" and r["reason"] == "peek_timeout")

    def test_a_replayed_chromium_hello_with_ech(self):
        hello = open(os.path.join(VECTORS, "chromium.bin"), "rb").read()
        raw_exchange(netns.GOOD, 443, hello, read=False)
        opened = self.record(lambda r: r["event"] == "open" and "ech" in (r.get("detail") or ""))[-1]
        self.assertEqual(opened["sni"], "ds20.icrc.trendmicro.com")

    def test_a_connection_that_was_not_redirected_is_refused(self):
        answer = raw_exchange("10.77.1.1", netns.PROXY_PORT, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        self.assertEqual(answer, b"")
        self.record(lambda r: r["reason"] == "not_redirected")

    def test_manager_port_through_the_chokepoint(self):
        result = curl("--connect-to", "dsm.example:4120:100.200.0.10:4120", "-k", "https://dsm.example:4120/hb")
        # dsm.example is not a name the proxy can resolve: the SNI decides, and
        # it is not in the catalog; the Manager's address is (variable manager).
        self.assertNotEqual(result.returncode, 0)
        result = s_client("100.200.0.10:4120", "-noservername",
                          request=b"GET /hb HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.assertIn(b"X-Server-Name: manager", result.stdout, result.stderr)

    def test_quic_is_dropped_at_the_chokepoint(self):
        def dropped():
            out = TOPOLOGY.run(TOPOLOGY.proxy, "nft", "list", "chain", "inet", "chokepoint", "forward").stdout
            line = [l for l in out.splitlines() if "udp dport 443" in l and "10.77.1.0/24" in l][0]
            return int(line.split("packets ")[1].split(" ")[0])
        before = dropped()
        code = "import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(b'q'*1200, ('%s', 443))"
        in_client("/usr/bin/python3", "-c", code % netns.GOOD)
        self.assertTrue(wait_until(lambda: dropped() > before, 3))


class RequireMatchTest(unittest.TestCase):
    """original_destination: require-match and tls.ech: deny."""

    @classmethod
    def setUpClass(cls):
        cls.proxy = Proxy("--transparent", "0.0.0.0:%d" % netns.PROXY_PORT, "--transparent",
                          "[::]:%d" % netns.PROXY_PORT, listen=None,
                          config=config(BASE + "original_destination: require-match\ntls: {ech: deny}\n"),
                          netns=TOPOLOGY.proxy)

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()

    def test_a_lying_sni_is_refused(self):
        result = s_client("100.200.0.11:443", "-servername", "ds20.icrc.trendmicro.com",
                          request=b"GET / HTTP/1.1\r\nHost: ds20.icrc.trendmicro.com\r\n\r\n")
        self.assertNotIn(b"HTTP/1.1 200", result.stdout)
        [deny] = self.proxy.wait_records(lambda r: r["reason"] == "original_destination_mismatch")
        self.assertEqual(deny["orig_dst"], "100.200.0.11:443")

    def test_an_honest_sni_passes(self):
        for family in ("-4", "-6"):
            result = curl(family, "https://ds20.icrc.trendmicro.com/honest")
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertIn("path /honest", result.stdout)

    def test_ech_is_refused_with_an_alert(self):
        hello = open(os.path.join(VECTORS, "chromium.bin"), "rb").read()
        answer = raw_exchange(netns.GOOD, 443, hello)
        self.assertEqual(answer, bytes([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x31]))
        self.proxy.wait_records(lambda r: r["reason"] == "ech_refused")


class TproxyTest(unittest.TestCase):
    """The TPROXY rules and --tproxy (IP_TRANSPARENT) instead of REDIRECT."""

    @classmethod
    def setUpClass(cls):
        t = TOPOLOGY
        t.run(t.proxy, "nft", "delete", "table", "inet", "chokepoint")
        t.run(t.proxy, "nft", "-D", "CLIENT_NETS4={ 10.77.1.0/24 }", "-D", "CLIENT_NETS6={ fd77:1::/64 }",
              "-D", "REDIRECT_PORTS={ 80, 443 }", "-D", "PROXY_PORT=3130", "-D", "PASS_UDP={ 53, 123 }", "-f",
              os.path.join(netns.SOURCE, "deploy", "nftables", "chokepoint-tproxy.nft"))
        t.run(t.proxy, "ip", "rule", "add", "fwmark", "0x1", "lookup", "100")
        t.run(t.proxy, "ip", "route", "add", "local", "0.0.0.0/0", "dev", "lo", "table", "100")
        cls.proxy = Proxy("--tproxy", "0.0.0.0:3130", listen=None, config=config(BASE), netns=t.proxy)

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()
        t = TOPOLOGY
        t.run(t.proxy, "nft", "delete", "table", "inet", "chokepoint_tproxy", check=False)
        t.load_rules()

    def test_tproxy_carries_the_original_destination(self):
        result = curl("-4", "https://ds20.icrc.trendmicro.com/tproxy")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("path /tproxy", result.stdout)
        [close] = self.proxy.wait_records(lambda r: r["event"] == "close")
        self.assertEqual(close["orig_dst"], "100.200.0.10:443")
        result = curl("-4", "https://evil.example.com/")
        self.assertNotEqual(result.returncode, 0)
        self.proxy.wait_records(lambda r: r["event"] == "deny" and r["sni"] == "evil.example.com")


class ParentProxyTest(unittest.TestCase):
    """Transparent mode whose only way out is a parent proxy (issue 14):
    squid in the proxy namespace, asked by name with CONNECT."""

    @classmethod
    def setUpClass(cls):
        cls.squid = Squid({"ds20.icrc.trendmicro.com": netns.GOOD, "evil.example.com": netns.EVIL},
                          deny=["evil.example.com"], netns=TOPOLOGY.proxy, port=3140)
        policy = BASE + "  - {id: squid-decides, ports: [443], destinations: [evil.example.com]}\n"
        cls.proxy = Proxy("--transparent", "0.0.0.0:%d" % netns.PROXY_PORT, "--upstream-proxy",
                          "http://127.0.0.1:3140", listen=None, config=config(policy), netns=TOPOLOGY.proxy)

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()
        cls.squid.stop()

    def test_through_the_parent_by_name(self):
        result = curl("-4", "https://ds20.icrc.trendmicro.com/via-parent")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("path /via-parent", result.stdout)
        [opened] = self.proxy.wait_records(lambda r: r["event"] == "open" and r["sni"] == "ds20.icrc.trendmicro.com")
        self.assertEqual(opened["mode"], "transparent")
        self.assertEqual(opened["upstream_proxy"], "127.0.0.1:3140")
        self.assertEqual(opened["upstream_proxy_status"], 200)
        self.assertTrue(wait_until(lambda: [line for line in self.squid.access_log()
                                            if line[5:7] == ["CONNECT", "ds20.icrc.trendmicro.com:443"]]))

    def test_the_parent_refusing_closes_the_connection(self):
        result = curl("-4", "https://evil.example.com/")
        self.assertNotEqual(result.returncode, 0)
        [record] = self.proxy.wait_records(lambda r: r["sni"] == "evil.example.com")
        self.assertEqual(record["event"], "error")
        self.assertEqual(record["reason"], "upstream_proxy_refused")
        self.assertEqual(record["upstream_proxy_status"], 403)


class ResolverTest(unittest.TestCase):
    """Explicit mode in the proxy namespace, resolving through a real DNS
    server there (tests/e2e/dns_server.py, via /etc/resolv.conf and glibc):
    what a name resolves to is vetted, and DNS failures get their answers."""

    @classmethod
    def setUpClass(cls):
        cls.dns = TOPOLOGY.popen(TOPOLOGY.proxy, "/usr/bin/python3", os.path.join(HERE, "dns_server.py"),
                                 "127.0.0.1", "53", stdout=subprocess.PIPE, text=True)
        assert cls.dns.stdout.readline().strip() == "ready"
        policy = ("version: 1\nrules:\n"
                  "  - {id: test-zone, ports: [443], destinations: ['*.dns-e2e.example']}\n"
                  "  - {id: one-private-host, ports: [443], destinations: [10.0.0.7/32]}\n")
        cls.proxy = Proxy("--dns-timeout", "500ms", listen="10.77.1.1:3128", config=config(policy),
                          netns=TOPOLOGY.proxy)

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()
        cls.dns.kill()
        cls.dns.wait()

    def connect(self, host):
        """(status line, Proxy-Status value, the record) of CONNECT host:443 from the client namespace."""
        code = ("import socket,sys\ns=socket.create_connection(('10.77.1.1',3128),timeout=10)\n"
                "s.sendall(b'CONNECT %s:443 HTTP/1.1\\r\\nHost: %s:443\\r\\n\\r\\n')\nhead=b''\n"
                "while b'\\r\\n\\r\\n' not in head:\n  c=s.recv(4096)\n  if not c: break\n  head+=c\n"
                "sys.stdout.write(head.decode())\n") % (host, host)
        # Text mode: the answer's CRLFs arrive as newlines.
        lines = in_client("/usr/bin/python3", "-c", code).stdout.split("\n\n")[0].split("\n")
        status = [line.split(":", 1)[1].strip() for line in lines if line.lower().startswith("proxy-status:")]
        found = self.proxy.wait_records(lambda r: r["host"] == host and r["event"] in ("open", "deny", "error"))
        self.assertTrue(found, self.proxy.records())
        return lines[0], status[0] if status else None, found[-1]

    def test_a_public_answer_is_dialled(self):
        line, _, record = self.connect("public.dns-e2e.example")
        self.assertEqual(line, "HTTP/1.1 200 Connection established")
        self.assertEqual(record["upstream"], "100.200.0.10:443")
        self.assertGreaterEqual(record["dns_ms"], 0)

    def test_a_mixed_answer_is_dialled_at_its_public_address(self):
        line, _, record = self.connect("mixed.dns-e2e.example")
        self.assertEqual(line, "HTTP/1.1 200 Connection established")
        self.assertEqual(record["upstream"], "100.200.0.10:443")

    def test_names_resolving_to_refused_addresses_get_403(self):
        for name, address in (("private", "10.0.0.5 (private)"), ("metadata", "169.254.169.254"),
                              ("loopback", "127.0.0.1 (loopback)"), ("mapped", "::ffff:10.1.2.3"),
                              ("nat64", "64:ff9b::a9fe:a9fe")):
            with self.subTest(name=name):
                host = name + ".dns-e2e.example"
                line, status, record = self.connect(host)
                self.assertTrue(line.startswith("HTTP/1.1 403"), line)
                self.assertIn("error=destination_ip_prohibited", status)
                self.assertEqual(record["event"], "deny")
                self.assertEqual(record["reason"], "forbidden_address")
                self.assertIn(address, record["detail"])
                self.assertIsNone(record["upstream"])

    def test_a_cidr_rule_lets_its_private_address_through_vetting(self):
        # Vetting passes; the dial itself fails (nothing routes to 10/8 here),
        # so no packet leaves the namespaces.
        line, status, record = self.connect("allowed-private.dns-e2e.example")
        self.assertTrue(line.startswith("HTTP/1.1 502"), line)
        self.assertNotEqual(record["reason"], "forbidden_address")
        self.assertIn(record["reason"], ("unreachable", "connect_failed"))

    def test_dns_failures(self):
        for name, code, error, reason in (("missing", 502, "dns_error", "dns_not_found"),
                                          ("broken", 502, "dns_error", "dns_error"),
                                          ("silent", 504, "dns_timeout", "dns_timeout")):
            with self.subTest(name=name):
                line, status, record = self.connect(name + ".dns-e2e.example")
                self.assertTrue(line.startswith("HTTP/1.1 %d" % code), line)
                self.assertIn("error=" + error, status)
                self.assertEqual(record["event"], "error")
                self.assertEqual(record["reason"], reason)


if __name__ == "__main__":
    unittest.main()
