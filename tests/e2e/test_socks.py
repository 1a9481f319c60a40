"""The SOCKS listener end to end (issue 13): curl's --socks5, --socks5-hostname,
--socks4 and --socks4a, Python's PySocks (Debian's python3-socks) and raw bytes
for every reply code, against chokepoint --socks-listen with the built-in
catalog. Names are decided as names and IP literals as IP literals; the same
users file as HTTP proxy authentication; the same ClientHello check inside
the tunnel; the same audit record (mode socks)."""

import os
import socket
import ssl
import struct
import subprocess
import tempfile
import unittest

import socks  # python3-socks (PySocks)

from dns_server import DnsServer
from harness import CA, CHOKEPOINT, EchoUpstream, HttpUpstream, Proxy

ZONE = "socks-e2e.example"


def curl(*args):
    return subprocess.run(["curl", "--silent", "--show-error", "--max-time", "15", *args], capture_output=True,
                          text=True, timeout=30)


def socks5(proxy, request, greeting=b"\x05\x01\x00", extra=b""):
    """Sends a greeting, the request (and `extra` in the same segment) and
    returns (method reply, request reply, socket)."""
    s = socket.create_connection((proxy.host, proxy.port), timeout=10)
    s.sendall(greeting + request + extra)
    method = recv_exactly(s, 2)
    if method != b"\x05\x00":
        return method, b"", s
    head = recv_exactly(s, 4)
    if len(head) < 4:
        return method, head, s
    rest = {1: 4, 4: 16}.get(head[3], 0) + 2
    return method, head + recv_exactly(s, rest), s


def connect_request(host=None, address=None, port=443, command=1, atyp=None):
    if host is not None:
        return bytes([5, command, 0, atyp or 3, len(host)]) + host.encode() + struct.pack("!H", port)
    packed = socket.inet_pton(socket.AF_INET6 if ":" in address else socket.AF_INET, address)
    return bytes([5, command, 0, atyp or (4 if len(packed) == 16 else 1)]) + packed + struct.pack("!H", port)


def recv_exactly(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def read_to_end(s):
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return data
        data += chunk


class SocksTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tls = HttpUpstream(tls=True)
        cls.plain = HttpUpstream()
        cls.echo = EchoUpstream()
        cls.dns = DnsServer()
        cls.dir = tempfile.mkdtemp(prefix="chokepoint-socks-")
        config = os.path.join(cls.dir, "site.yaml")
        with open(config, "w") as f:
            f.write("version: 1\ninclude: builtin:deep-security.yaml\nrules:\n"
                    "  - {id: loopback-plain, ports: [%d, %d], destinations: [127.0.0.1/32]}\n"
                    "  - {id: socks-zone, ports: [443], destinations: ['*.%s']}\n"
                    % (cls.plain.port, cls.echo.port, ZONE))
        cls.proxy = Proxy("--socks-listen", "127.0.0.1:0", "--dns-server", cls.dns.endpoint(),
                          "--connect-to", "ds20.icrc.trendmicro.com:443:127.0.0.1:%d" % cls.tls.port,
                          "--connect-to", "refused.%s:443:127.0.0.1:1" % ZONE,
                          listen=None, config=config)
        cls.url = "127.0.0.1:%d" % cls.proxy.port

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()
        for server in (cls.tls, cls.plain, cls.echo, cls.dns):
            server.stop()

    def record(self, predicate, event=None):
        [r, *_] = self.proxy.wait_records(lambda r: predicate(r) and (event is None or r["event"] == event))
        return r

    # --- real clients -------------------------------------------------------------------
    def test_curl_socks5_hostname_reaches_a_catalog_name(self):
        result = curl("--socks5-hostname", self.url, "--cacert", CA, "https://ds20.icrc.trendmicro.com/s5h")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("hello from ds20.icrc.trendmicro.com path /s5h", result.stdout)
        closed = self.record(lambda r: r["host"] == "ds20.icrc.trendmicro.com" and r.get("socks_version") == "5"
                             and r.get("end") == "eof" and r["bytes_up"] > 0, "close")
        self.assertEqual(closed["mode"], "socks")
        self.assertEqual(closed["socks_method"], "no_auth")
        self.assertEqual(closed["rule"], "spn-smart-scan")
        self.assertEqual(closed["sni"], "ds20.icrc.trendmicro.com")  # the in-tunnel check read it
        self.assertEqual(closed["relay"], "splice")
        self.assertGreater(closed["bytes_down"], 500)

    def test_curl_socks4a_reaches_a_catalog_name(self):
        result = curl("--socks4a", self.url, "--cacert", CA, "https://ds20.icrc.trendmicro.com/s4a")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("path /s4a", result.stdout)
        self.record(lambda r: r.get("socks_version") == "4a" and r["host"] == "ds20.icrc.trendmicro.com", "close")

    def test_curl_socks5_and_socks4_with_an_ip_literal_decided_as_an_ip(self):
        for flag, version in (("--socks5", "5"), ("--socks4", "4")):
            result = curl(flag, self.url, "http://127.0.0.1:%d/ip-%s" % (self.plain.port, version))
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertIn("path /ip-%s" % version, result.stdout)
            opened = self.record(lambda r: r.get("socks_version") == version and r["host"] == "127.0.0.1", "open")
            self.assertEqual(opened["rule"], "loopback-plain")  # a CIDR rule, never a host name rule

    def test_curl_is_refused_a_name_the_catalog_does_not_know(self):
        result = curl("--socks5-hostname", self.url, "https://evil.example.com/")
        self.assertNotEqual(result.returncode, 0)
        denied = self.record(lambda r: r["host"] == "evil.example.com" and r["mode"] == "socks", "deny")
        self.assertEqual(denied["reason"], "no_matching_rule")
        self.assertEqual(denied["source"], "policy")

    def test_pysocks_over_socks5_with_tls(self):
        s = socks.socksocket()
        s.set_proxy(socks.SOCKS5, self.proxy.host, self.proxy.port, rdns=True)
        s.settimeout(10)
        s.connect(("ds20.icrc.trendmicro.com", 443))
        context = ssl.create_default_context(cafile=CA)
        with context.wrap_socket(s, server_hostname="ds20.icrc.trendmicro.com") as t:
            t.sendall(b"GET /pysocks HTTP/1.1\r\nHost: ds20.icrc.trendmicro.com\r\nConnection: close\r\n\r\n")
            self.assertIn(b"path /pysocks", read_to_end(t))

    # --- replies a client can act on --------------------------------------------------
    def test_reply_codes(self):
        self.dns.set("nowhere.%s" % ZONE, [], rcode="NXDOMAIN")
        cases = [
            ("policy deny", connect_request("evil.example.com"), 0x02, "no_matching_rule"),
            ("an IP literal no CIDR rule allows", connect_request(address="127.0.0.1", port=9), 0x02,
             "no_matching_rule"),
            ("a name that does not exist", connect_request("nowhere.%s" % ZONE), 0x04, "dns_not_found"),
            ("connection refused", connect_request("refused.%s" % ZONE), 0x05, "connect_refused"),
            ("not a host name", connect_request("bad..name"), 0x01, "bad_request"),
            ("BIND", connect_request("ds20.icrc.trendmicro.com", command=2), 0x07, "bad_request"),
            ("UDP ASSOCIATE", connect_request(address="0.0.0.0", port=0, command=3), 0x07, "bad_request"),
            ("address type 2", bytes([5, 1, 0, 2, 1, 2, 3, 4, 1, 187]), 0x08, "bad_request"),
        ]
        for name, request, code, reason in cases:
            with self.subTest(name):
                method, reply, s = socks5(self.proxy, request)
                s.close()
                self.assertEqual(method, b"\x05\x00")
                self.assertEqual(reply[:2], bytes([5, code]))
                self.assertEqual(reply[3], 1)  # an IPv4 bound address, 0.0.0.0:0 when refused
        self.record(lambda r: r["reason"] == "dns_not_found" and r["mode"] == "socks")
        self.record(lambda r: r["reason"] == "connect_refused" and r["mode"] == "socks")

    def test_socks4_refusal_and_grant(self):
        s = socket.create_connection((self.proxy.host, self.proxy.port), timeout=10)
        s.sendall(b"\x04\x01\x01\xbb\x00\x00\x00\x01agent7\x00evil.example.com\x00")  # 4a, denied
        self.assertEqual(recv_exactly(s, 8)[:2], b"\x00\x5b")
        s.close()
        denied = self.record(lambda r: r.get("socks_user_id") == "agent7", "deny")
        self.assertEqual(denied["socks_version"], "4a")
        self.assertEqual(denied["user"], None)  # a SOCKS4 user id is never an identity

    def test_the_success_reply_carries_the_bound_address_and_early_data_goes_through(self):
        # Greeting, request and the first payload bytes in one segment.
        method, reply, s = socks5(self.proxy, connect_request(address="127.0.0.1", port=self.echo.port),
                                  extra=b"early")
        self.assertEqual(reply[:4], b"\x05\x00\x00\x01")
        bound_port = struct.unpack("!H", reply[8:10])[0]
        self.assertEqual(socket.inet_ntoa(reply[4:8]), "127.0.0.1")
        self.assertNotEqual(bound_port, 0)
        s.sendall(b"-late")
        s.shutdown(socket.SHUT_WR)
        self.assertTrue(read_to_end(s).startswith(b"got 10 "))
        s.close()

    def test_a_hello_naming_another_host_inside_the_tunnel_is_refused(self):
        s = socks.socksocket()
        s.set_proxy(socks.SOCKS5, self.proxy.host, self.proxy.port, rdns=True)
        s.settimeout(10)
        s.connect(("ds20.icrc.trendmicro.com", 443))
        context = ssl.create_default_context(cafile=CA)
        with self.assertRaises(ssl.SSLError):
            context.wrap_socket(s, server_hostname="evil.example.com")
        denied = self.record(lambda r: r["mode"] == "socks" and r["reason"] == "sni_mismatch", "deny")
        self.assertEqual(denied["sni"], "evil.example.com")


class SocksAuthTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="chokepoint-socks-auth-")
        cls.users = os.path.join(cls.dir, "users")
        subprocess.run([CHOKEPOINT, "passwd", "--users-file", cls.users, "--iterations", "1000", "relay01"],
                       input="relay-secret\n", text=True, check=True)
        config = os.path.join(cls.dir, "site.yaml")
        with open(config, "w") as f:
            f.write("version: 1\ninclude: builtin:deep-security.yaml\ndefault_role: agent\n"
                    "clients:\n  - {user: relay01, role: relay, version: '20.0'}\n")
        cls.tls = HttpUpstream(tls=True)
        cls.proxy = Proxy("--socks-listen", "127.0.0.1:0", "--users-file", cls.users,
                          "--connect-to", "::127.0.0.1:%d" % cls.tls.port, listen=None, config=config)
        cls.url = "127.0.0.1:%d" % cls.proxy.port

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()
        cls.tls.stop()

    def test_the_users_file_gives_the_same_identity_as_http(self):
        result = curl("--socks5-hostname", self.url, "--proxy-user", "relay01:relay-secret", "--cacert", CA,
                      "https://ds20.icrc.trendmicro.com/auth")
        self.assertEqual(result.returncode, 0, result.stderr)
        [opened] = self.proxy.wait_records(lambda r: r["event"] == "open" and r["user"] == "relay01")
        self.assertEqual(opened["role"], "relay")
        self.assertEqual(opened["socks_method"], "username_password")

    def test_wrong_or_missing_credentials_are_refused(self):
        result = curl("--socks5-hostname", self.url, "--proxy-user", "relay01:wrong",
                      "https://ds20.icrc.trendmicro.com/")
        self.assertNotEqual(result.returncode, 0)
        [failed] = self.proxy.wait_records(lambda r: r["reason"] == "auth_failed")
        self.assertEqual(failed["user"], "relay01")
        self.assertEqual(failed["event"], "deny")
        # Offering only "no authentication": no acceptable method.
        method, _, s = socks5(self.proxy, connect_request("ds20.icrc.trendmicro.com"))
        s.close()
        self.assertEqual(method, b"\x05\xff")
        self.proxy.wait_records(lambda r: r["reason"] == "auth_required")
        # SOCKS4 has no credentials to give.
        s = socket.create_connection((self.proxy.host, self.proxy.port), timeout=10)
        s.sendall(b"\x04\x01\x01\xbb\x7f\x00\x00\x01\x00")
        self.assertEqual(recv_exactly(s, 8)[:2], b"\x00\x5b")
        s.close()


if __name__ == "__main__":
    unittest.main()
