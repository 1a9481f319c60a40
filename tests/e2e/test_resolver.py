"""Name resolution end to end (issue 11): chokepoint resolving through a real
DNS server (dns_server.py, UDP and TCP on loopback, with TTLs, delays,
truncation, SOA records and a query counter) given by --dns-server. Names
under resolver-e2e.example resolve to 127.0.0.1, where an echo upstream
listens; a CIDR rule lets that address through vetting. What the server
counts is what chokepoint asked; the audit record says how each lookup was
served (`dns`: hit, miss, coalesced, stale) and how long it took (`dns_ms`).

The /etc/hosts test runs in a network namespace of its own (ip netns mounts
/etc/netns/NAME/hosts over /etc/hosts) and is skipped where namespaces
cannot be made."""

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import uuid

import netns
from dns_server import DnsServer
from harness import EchoUpstream, Proxy, read_http_response, wait_until

ZONE = "resolver-e2e.example"
DNS = None
ECHO = None


def setUpModule():
    global DNS, ECHO
    DNS = DnsServer()
    ECHO = EchoUpstream()


def tearDownModule():
    if DNS:
        DNS.stop()
    if ECHO:
        ECHO.stop()


def policy(cidr=True):
    path = os.path.join(tempfile.mkdtemp(prefix="chokepoint-resolver-"), "policy.yaml")
    write_policy(path, cidr)
    return path


def write_policy(path, cidr):
    rules = "  - {id: test-zone, ports: [%d], destinations: ['*.%s']}\n" % (ECHO.port, ZONE)
    if cidr:
        rules += "  - {id: loopback-upstream, ports: [%d], destinations: [127.0.0.1/32]}\n" % ECHO.port
    with open(path, "w") as f:
        f.write("version: 1\nrules:\n" + rules)


def start_proxy(*flags, config=None):
    return Proxy("--dns-server", DNS.endpoint(), *flags, config=config or policy())


def connect(proxy, host, payload=b"ping"):
    """(status, Proxy-Status header, what the echo upstream answered) of CONNECT host."""
    with socket.create_connection((proxy.host, proxy.port), timeout=30) as s:
        s.sendall(b"CONNECT %s:%d HTTP/1.1\r\nHost: %s:%d\r\n\r\n" % (host.encode(), ECHO.port, host.encode(),
                                                                      ECHO.port))
        status, headers, _ = read_http_response(s)
        echoed = b""
        if status == 200:
            s.sendall(payload)
            s.shutdown(socket.SHUT_WR)
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                echoed += chunk
        return status, headers.get("proxy-status", ""), echoed


def name(label):
    """A name nobody has asked for yet."""
    return "%s-%s.%s" % (label, uuid.uuid4().hex[:8], ZONE)


class ResolverTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.proxy = start_proxy("--dns-min-ttl", "1s", "--dns-timeout", "3s")

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()

    def records(self, host, count=1):
        found = self.proxy.wait_records(lambda r: r["host"] == host and r["event"] != "close", count)
        self.assertEqual(len(found), count, self.proxy.records()[-5:])
        # Each I/O thread hands its records over on its own: file order is not time order.
        return sorted(found, key=lambda r: r["ts"])

    def test_an_answer_is_kept_for_its_ttl(self):
        host = name("cached")
        DNS.set(host, ["127.0.0.1"], ttl=300)
        for _ in range(3):
            status, _, echoed = connect(self.proxy, host)
            self.assertEqual(status, 200)
            self.assertTrue(echoed.startswith(b"got 4 "))
        self.assertEqual(DNS.queries(host)["total"], 2)  # one A and one AAAA question, once
        first, second, third = self.records(host, 3)
        self.assertEqual(first["dns"], "miss")
        self.assertEqual((second["dns"], second["dns_ms"]), ("hit", 0))
        self.assertEqual(third["dns"], "hit")
        self.assertEqual(first["upstream"], "127.0.0.1:%d" % ECHO.port)

    def test_an_expired_answer_is_asked_again_and_a_change_picked_up(self):
        host = name("expiring")
        DNS.set(host, ["127.0.0.1"], ttl=1)
        self.assertEqual(connect(self.proxy, host)[0], 200)
        DNS.set(host, ["10.0.0.9"], ttl=1)
        time.sleep(1.5)
        status, proxy_status, _ = connect(self.proxy, host)
        self.assertEqual(status, 403)
        self.assertIn("destination_ip_prohibited", proxy_status)
        self.assertEqual(DNS.queries(host)["total"], 4)
        _, second = self.records(host, 2)
        self.assertEqual(second["dns"], "miss")
        self.assertIn("10.0.0.9 (private)", second["detail"])

    def test_a_cached_private_address_is_refused_on_every_use(self):
        host = name("private")
        DNS.set(host, ["10.0.0.5"], ttl=300)
        for _ in range(2):
            self.assertEqual(connect(self.proxy, host)[0], 403)
        first, second = self.records(host, 2)
        self.assertEqual((first["dns"], second["dns"]), ("miss", "hit"))
        self.assertEqual(second["reason"], "forbidden_address")
        self.assertEqual(DNS.queries(host)["total"], 2)

    def test_negative_answers_are_cached_for_their_soa_ttl(self):
        host = name("gone")
        DNS.set(host, rcode="NXDOMAIN", soa=[3600, 60])
        for _ in range(2):
            status, proxy_status, _ = connect(self.proxy, host)
            self.assertEqual(status, 502)
            self.assertIn("dns_error", proxy_status)
        first, second = self.records(host, 2)
        self.assertEqual((first["reason"], second["reason"]), ("dns_not_found", "dns_not_found"))
        self.assertEqual((first["dns"], second["dns"]), ("miss", "hit"))
        self.assertEqual(DNS.queries(host)["total"], 2)
        # The name exists, with no address: NODATA, cached the same way.
        empty = name("empty")
        DNS.set(empty, [], soa=[60, 60])
        for _ in range(2):
            self.assertEqual(connect(self.proxy, empty)[0], 502)
        self.assertEqual(DNS.queries(empty)["total"], 2)
        self.assertEqual(self.records(empty, 2)[1]["dns"], "hit")

    def test_a_negative_answer_without_soa_and_a_failure_are_not_cached(self):
        for host, settings in ((name("nosoa"), {"rcode": "NXDOMAIN"}), (name("servfail"), {"rcode": "SERVFAIL"})):
            DNS.set(host, **settings)
            connect(self.proxy, host)
            asked = DNS.queries(host)["total"]
            self.assertGreaterEqual(asked, 2)
            connect(self.proxy, host)
            self.assertGreater(DNS.queries(host)["total"], asked)
            self.assertEqual([r["dns"] for r in self.records(host, 2)], ["miss", "miss"])

    def test_parallel_connections_to_a_cold_name_send_one_query_pair(self):
        host = name("cold")
        DNS.set(host, ["127.0.0.1"], ttl=300, delay_ms=500)
        statuses = []
        threads = [threading.Thread(target=lambda: statuses.append(connect(self.proxy, host)[0]))
                   for _ in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(statuses, [200] * 20)
        counted = DNS.queries(host)
        self.assertEqual((counted["A"]["udp"], counted["AAAA"]["udp"], counted["total"]), (1, 1, 2))
        served = sorted(r["dns"] for r in self.records(host, 20))
        self.assertEqual(served.count("miss"), 1, served)
        self.assertTrue(set(served) <= {"miss", "coalesced", "hit"}, served)

    def test_a_silent_name_does_not_delay_another(self):
        silent = [name("silent") for _ in range(10)]
        for host in silent:
            DNS.set(host, silent=True)
        results = {}
        threads = [threading.Thread(target=lambda h=h: results.__setitem__(h, connect(self.proxy, h)))
                   for h in silent]
        for t in threads:
            t.start()
        wait_until(lambda: sum(DNS.queries(h)["total"] for h in silent) >= 20, timeout=5)
        good = name("good")
        DNS.set(good, ["127.0.0.1"], ttl=300)
        self.assertEqual(connect(self.proxy, good)[0], 200)
        # Answered while every silent lookup was still waiting (3 s timeout).
        self.assertTrue(all(t.is_alive() for t in threads))
        for t in threads:
            t.join()
        for host in silent:
            status, proxy_status, _ = results[host]
            self.assertEqual(status, 504)
            self.assertIn("dns_timeout", proxy_status)

    def test_a_truncated_answer_is_asked_again_over_tcp(self):
        host = name("truncated")
        DNS.set(host, ["127.0.0.1"], ttl=300, truncate=True)
        status, _, echoed = connect(self.proxy, host)
        self.assertEqual(status, 200)
        self.assertTrue(echoed.startswith(b"got 4 "))
        counted = DNS.queries(host)
        self.assertEqual((counted["A"]["udp"], counted["A"]["tcp"]), (1, 1))
        self.assertEqual((counted["AAAA"]["udp"], counted["AAAA"]["tcp"]), (1, 1))


class ClampTest(unittest.TestCase):
    """--dns-min-ttl raises short TTLs; --dns-max-ttl and --dns-negative-ttl cut long ones."""

    @classmethod
    def setUpClass(cls):
        cls.raising = start_proxy("--dns-min-ttl", "300s")
        cls.cutting = start_proxy("--dns-min-ttl", "1s", "--dns-max-ttl", "1s", "--dns-negative-ttl", "1s")

    @classmethod
    def tearDownClass(cls):
        cls.raising.stop()
        cls.cutting.stop()

    def test_a_zero_ttl_is_raised_to_the_minimum(self):
        host = name("zero")
        DNS.set(host, ["127.0.0.1"], ttl=0)
        for _ in range(2):
            self.assertEqual(connect(self.raising, host)[0], 200)
        self.assertEqual(DNS.queries(host)["total"], 2)

    def test_a_long_ttl_is_cut_to_the_maximum(self):
        host = name("long")
        DNS.set(host, ["127.0.0.1"], ttl=3600)
        self.assertEqual(connect(self.cutting, host)[0], 200)
        time.sleep(1.5)
        self.assertEqual(connect(self.cutting, host)[0], 200)
        self.assertEqual(DNS.queries(host)["total"], 4)

    def test_a_long_negative_ttl_is_cut(self):
        host = name("gone")
        DNS.set(host, rcode="NXDOMAIN", soa=[3600, 3600])
        connect(self.cutting, host)
        time.sleep(1.5)
        connect(self.cutting, host)
        self.assertEqual(DNS.queries(host)["total"], 4)


class StaleAndReloadTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.config = policy()
        cls.proxy = start_proxy("--dns-min-ttl", "1s", "--dns-stale-for", "60s", "--dns-timeout", "1s",
                                config=cls.config)

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()

    def test_an_expired_answer_is_served_while_the_server_is_silent(self):
        host = name("stale")
        DNS.set(host, ["127.0.0.1"], ttl=1)
        self.assertEqual(connect(self.proxy, host)[0], 200)
        DNS.set(host, silent=True)
        time.sleep(1.5)
        status, _, echoed = connect(self.proxy, host)
        self.assertEqual(status, 200)
        self.assertTrue(echoed.startswith(b"got 4 "))
        found = self.proxy.wait_records(lambda r: r["host"] == host and r["event"] == "open", 2)
        self.assertEqual([r["dns"] for r in sorted(found, key=lambda r: r["ts"])], ["miss", "stale"])

    def test_a_reload_needs_no_flush_to_refuse_a_cached_address(self):
        host = name("reload")
        DNS.set(host, ["127.0.0.1"], ttl=300)
        self.assertEqual(connect(self.proxy, host)[0], 200)
        try:
            write_policy(self.config, cidr=False)
            status, body = self.proxy.admin("/reload", method="POST")
            self.assertEqual(status, 200, body)
            status, _, _ = connect(self.proxy, host)
            self.assertEqual(status, 403)
            record = self.proxy.wait_records(lambda r: r["host"] == host and r["event"] == "deny")[0]
            self.assertEqual((record["dns"], record["reason"]), ("hit", "forbidden_address"))
        finally:
            write_policy(self.config, cidr=True)
            self.proxy.admin("/reload", method="POST")


@unittest.skipIf(netns.available(), "network namespaces: %s" % netns.available())
class HostsFileTest(unittest.TestCase):
    """In a namespace whose /etc/hosts (from /etc/netns/NAME/hosts) names a
    host, and whose resolv.conf names a server that is not there."""

    def setUp(self):
        self.ns = "cpr" + uuid.uuid4().hex[:6]
        subprocess.run(["ip", "netns", "add", self.ns], check=True)
        subprocess.run(["ip", "netns", "exec", self.ns, "ip", "link", "set", "lo", "up"], check=True)
        self.etc = os.path.join("/etc/netns", self.ns)
        os.makedirs(self.etc, exist_ok=True)
        with open(os.path.join(self.etc, "hosts"), "w") as f:
            f.write("127.0.0.1 localhost\n10.9.9.9 hosts-only.%s\n" % ZONE)
        with open(os.path.join(self.etc, "resolv.conf"), "w") as f:
            f.write("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
        self.proxy = Proxy(config=policy(), netns=self.ns, admin=None)

    def tearDown(self):
        self.proxy.stop()
        subprocess.run(["ip", "netns", "del", self.ns])
        shutil.rmtree(self.etc, ignore_errors=True)

    def curl(self, host):
        return subprocess.run(["ip", "netns", "exec", self.ns, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                               "-p", "-x", "http://127.0.0.1:%d" % self.proxy.port,
                               "http://%s:%d/" % (host, ECHO.port), "--max-time", "10"],
                              capture_output=True, text=True).stdout

    def test_a_hosts_entry_is_honoured(self):
        self.curl("hosts-only." + ZONE)
        record = self.proxy.wait_records(lambda r: r["event"] in ("deny", "error"))[0]
        # Only the hosts file knows this address; no server answers here at all.
        self.assertEqual(record["reason"], "forbidden_address")
        self.assertIn("10.9.9.9 (private)", record["detail"])
        self.assertEqual((record["dns"], record["dns_ms"]), ("hit", 0))
        self.curl("elsewhere." + ZONE)
        record = self.proxy.wait_records(lambda r: r["host"] == "elsewhere." + ZONE)[0]
        self.assertEqual(record["reason"], "dns_error")


if __name__ == "__main__":
    unittest.main()
