"""The PAC file (`chokepoint pac`) evaluated by a real PAC engine (Debian's
python3-pacparser), checked against `chokepoint explain --role any` (some
role may go there) for every destination of the shipped catalog, the names
just beside them, and names the catalog refuses."""

import concurrent.futures
import json
import os
import re
import subprocess
import tempfile
import unittest

import pacparser

import catalog_probes
from harness import CHOKEPOINT

PROXY = "proxy.corp.example:3128"


def run(*args):
    return subprocess.run([CHOKEPOINT, *args], capture_output=True, text=True, timeout=60)


def explain_target(host, port, path):
    literal = "[%s]" % host if ":" in host else host
    return "%s:%d%s" % (literal, port, path or "")


class Engine:
    """One PAC file loaded into pacparser."""

    def __init__(self, text):
        pacparser.init()
        pacparser.parse_pac_string(text)

    def find(self, url, host):
        return pacparser.find_proxy(url, host)

    def close(self):
        pacparser.cleanup()


class PacTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="chokepoint-pac-")

    def pac(self, *args):
        result = run("pac", *args)
        self.assertEqual(result.returncode, 0, result.stderr)
        return result.stdout

    def explain_all(self, config, probes):
        """probe -> whether some role may go there (explain --role any exits 0)."""
        def one(probe):
            result = run("explain", "--config", config, "--role", "any", explain_target(*probe))
            self.assertIn(result.returncode, (0, 1), result.stderr)
            return probe, result.returncode == 0, json.loads(result.stdout)
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            return {probe: (allowed, decision) for probe, allowed, decision in pool.map(one, probes)}

    def test_every_catalog_destination_agrees_with_explain(self):
        config = catalog_probes.write_site(self.dir)
        text = self.pac("--config", config, "--proxy", PROXY)
        # re: rules cannot be expressed: named at the top, left to the fallback.
        header = text.split("\nvar ", 1)[0]
        self.assertIn("re:^cdn[0-9]+\\.example\\.net$", header)
        probes = catalog_probes.probes()
        self.assertGreater(len(probes), 1000)
        expected = self.explain_all(config, probes)
        engine = Engine(text)
        try:
            mismatches = []
            counts = {"PROXY": 0, "DIRECT": 0}
            for probe in probes:
                host, port, path = probe
                answer = engine.find(catalog_probes.url_of(host, port, path), host)
                allowed, decision = expected[probe]
                if decision["reason"] == "rule_denies":
                    continue  # deny rules do not take names out of the file (below)
                # A re: rule's names are allowed, but the PAC file leaves them to the fallback.
                if decision.get("match") == "regex":
                    want = "DIRECT"
                else:
                    want = "PROXY " + PROXY if allowed else "DIRECT"
                counts[want.split()[0]] += 1
                if answer != want:
                    mismatches.append((catalog_probes.url_of(host, port, path), answer, want,
                                       decision["reason"]))
            self.assertEqual(mismatches, [])
            # A deny rule inside an allowed ".example.org": PROXY, where chokepoint refuses
            # it and records the refusal; sending it through the proxy is never a leak.
            self.assertFalse(expected[("blocked.example.org", 443, None)][0])
            self.assertEqual(engine.find("https://blocked.example.org/", "blocked.example.org"),
                             "PROXY " + PROXY)
            # Both answers are well represented, so neither half is vacuous.
            self.assertGreater(counts["PROXY"], 400, counts)
            self.assertGreater(counts["DIRECT"], 400, counts)
        finally:
            engine.close()

    def test_fallback_proxy_and_audit_mode_send_everything_through_chokepoint(self):
        for name, kwargs in (("fallback PROXY", {"pac": {"fallback": "PROXY"}}),
                             ("audit mode", {"mode": "audit"})):
            with self.subTest(name):
                config = catalog_probes.write_site(self.dir, **kwargs)
                engine = Engine(self.pac("--config", config, "--proxy", PROXY))
                try:
                    for url, host in (("https://evil.example.com/", "evil.example.com"),
                                      ("https://files.trendmicro.com/", "files.trendmicro.com"),
                                      ("https://192.0.2.1:8443/", "192.0.2.1")):
                        self.assertEqual(engine.find(url, host), "PROXY " + PROXY)
                finally:
                    engine.close()

    def test_proxy_address_from_the_file_or_the_flag(self):
        config = catalog_probes.write_site(self.dir, pac={"proxy": "chokepoint.corp.example:8080"})
        text = self.pac("--config", config)
        self.assertIn('"PROXY chokepoint.corp.example:8080"', text)
        # A flag wins over the file, as everywhere on the command line.
        self.assertIn('"PROXY [2001:db8::1]:3128"', self.pac("--config", config, "--proxy",
                                                             "[2001:DB8::1]:3128"))
        # Without either, there is nothing to name.
        plain = catalog_probes.write_site(self.dir)
        result = run("pac", "--config", plain)
        self.assertEqual(result.returncode, 2)
        self.assertIn("--proxy", result.stderr)
        # Whatever ends up in the script is a normalised HOST:PORT, never script text.
        result = run("pac", "--config", plain, "--proxy", 'x";alert(1);"y:3128')
        self.assertEqual(result.returncode, 2)

    def test_bad_pac_keys_are_refused_with_file_line_column(self):
        path = os.path.join(self.dir, "bad.yaml")
        with open(path, "w") as f:
            f.write("version: 1\ninclude: builtin:deep-security.yaml\n"
                    "pac:\n  fallback: SOCKS\n  proxy: 'no port here'\n  color: blue\n")
        result = run("check", "--config", path)
        self.assertEqual(result.returncode, 2)
        lines = result.stdout.splitlines()
        self.assertTrue(any(re.match(r"%s:4:13: pac.fallback must be DIRECT or PROXY" %
                                     re.escape(path), l) for l in lines), lines)
        self.assertTrue(any(re.match(r"%s:5:10: pac.proxy must be HOST:PORT" % re.escape(path), l)
                            for l in lines), lines)
        self.assertTrue(any(re.match(r"%s:6:3: .*color" % re.escape(path), l) for l in lines),
                        lines)


if __name__ == "__main__":
    unittest.main()


class ServedPacTest(unittest.TestCase):
    """The PAC file served by the running proxy (GET /proxy.pac and /wpad.dat
    on the explicit listener and the admin endpoint), made from the running
    policy: a reload brings a new file."""

    def setUp(self):
        from harness import Proxy
        self.dir = tempfile.mkdtemp(prefix="chokepoint-served-pac-")
        self.config = os.path.join(self.dir, "site.yaml")
        self.write_config([])
        self.proxy = Proxy(config=self.config)

    def tearDown(self):
        self.proxy.stop()

    def write_config(self, extra_names):
        rules = "".join("  - {id: extra-%d, ports: [443], destinations: [%s]}\n" % (i, name)
                        for i, name in enumerate(extra_names))
        with open(self.config + ".tmp", "w") as f:
            f.write("version: 1\ninclude: builtin:deep-security.yaml\n" + ("rules:\n" + rules if rules else ""))
        os.replace(self.config + ".tmp", self.config)

    def fetch(self, base, path="/proxy.pac", method="GET"):
        import urllib.request
        request = urllib.request.Request(base + path, method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read().decode()

    def test_served_on_the_explicit_listener_and_the_admin_endpoint(self):
        proxy_address = "127.0.0.1:%d" % self.proxy.port
        for base in (self.proxy.url, self.proxy.admin_url):
            for path in ("/proxy.pac", "/wpad.dat"):
                with self.subTest(base=base, path=path):
                    status, headers, text = self.fetch(base, path)
                    self.assertEqual(status, 200)
                    self.assertEqual(headers["Content-Type"], "application/x-ns-proxy-autoconfig")
                    engine = Engine(text)
                    try:
                        # Named by the host the client used and the explicit listener's port.
                        self.assertEqual(engine.find("https://ds20.icrc.trendmicro.com/", "ds20.icrc.trendmicro.com"),
                                         "PROXY " + proxy_address)
                        self.assertEqual(engine.find("https://evil.example.com/", "evil.example.com"), "DIRECT")
                    finally:
                        engine.close()
        status, headers, text = self.fetch(self.proxy.url, method="HEAD")
        self.assertEqual(status, 200)
        self.assertGreater(int(headers["Content-Length"]), 1000)
        # Serving the file is not an egress decision: no record for it.
        self.assertEqual([r for r in self.proxy.records() if r.get("path") in ("/proxy.pac", "/wpad.dat")], [])

    def test_a_reload_serves_the_new_policy(self):
        _, _, before = self.fetch(self.proxy.url)
        engine = Engine(before)
        try:
            self.assertEqual(engine.find("https://new.partner.example/", "new.partner.example"), "DIRECT")
        finally:
            engine.close()
        self.write_config(["new.partner.example"])
        self.assertEqual(self.proxy.admin("/reload", method="POST")[0], 200)
        _, _, after = self.fetch(self.proxy.url)
        engine = Engine(after)
        try:
            self.assertEqual(engine.find("https://new.partner.example/", "new.partner.example"),
                             "PROXY 127.0.0.1:%d" % self.proxy.port)
        finally:
            engine.close()
