"""The SaaS edition (issue 22): builtin:workload-security.yaml with the
region set to jp-1, end to end. An agent reaches jp-1's names through the
explicit proxy and is refused us-1's; the PAC file lists jp-1's names only;
`check`, `explain`, `export` (every format), `learn`, `report`, /policy and
the status page follow the catalog. Upstreams are pinned with --connect-to,
so no name is resolved."""

import json
import os
import re
import subprocess
import tempfile
import unittest

import pacparser

from harness import CA, CHOKEPOINT, PKI, HttpUpstream, Proxy, wait_until

REGIONS = ("us-1", "ca-1", "de-1", "gb-1", "au-1", "in-1", "jp-1", "sg-1", "ae-1")
# NAME.workload.REGION.cloudone.trendmicro.com, and workload.REGION... itself.
REGIONAL = ("workload", "agents") + tuple("agents-%03d" % n for n in range(1, 11)) + (
    "agent-comm", "dsmim", "relay", "xdr-resp-ioc", "gateway", "gateway-control")
EVERY_REGION = ("dsaas1100-en-census.trendmicro.com", "ds200-en.fbs25.trendmicro.com",
                "ds200-jp.fbs25.trendmicro.com", "dsaas.icrc.trendmicro.com",
                "dsaas-en-f.trx.trendmicro.com", "dsaas-en-b.trx.trendmicro.com",
                "deepsecaas11-en.gfrbridge.trendmicro.com", "dsaas.url.trendmicro.com",
                "relay.deepsecurity.trendmicro.com", "app.deepsecurity.trendmicro.com",
                "agents.deepsecurity.trendmicro.com")
RELAYS_ONLY = ("iaus.activeupdate.trendmicro.com", "iaus.trendmicro.com", "ipv6-iaus.trendmicro.com",
               "ipv6-iaus.activeupdate.trendmicro.com", "files.trendmicro.com")
PAC_PROXY = "chokepoint.corp.example:3128"


def regional(name, region):
    base = "workload.%s.cloudone.trendmicro.com" % region
    return base if name == "workload" else "%s.%s" % (name, base)


def run(*args, **kwargs):
    return subprocess.run([CHOKEPOINT, *args], capture_output=True, text=True, timeout=60, **kwargs)


def curl(*args):
    return subprocess.run(["curl", "--silent", "--show-error", "--max-time", "15", *args],
                          capture_output=True, text=True, timeout=30)


def regions_named(text):
    """Every region code that appears in a regional name of `text`."""
    return set(re.findall(r"workload\.([a-z0-9-]+)\.cloudone\.trendmicro\.com", text))


def write_site(directory, name, body):
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write(body)
    return path


def saas_site(directory, region, extra=""):
    return write_site(directory, "site-%s.yaml" % (region or "none"),
                      "version: 1\ninclude: builtin:workload-security.yaml\ndefault_role: agent\n"
                      "variables:\n  workload_security_region: [%s]\n%s" % (region, extra))


class WorkloadSecurityTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="chokepoint-saas-")
        # A certificate for both regions' names from the test CA, so that curl
        # verifies the upstream as an agent would.
        key, cert = os.path.join(cls.dir, "leaf.key"), os.path.join(cls.dir, "leaf.pem")
        ext = write_site(cls.dir, "leaf.ext",
                         "subjectAltName=DNS:*.workload.jp-1.cloudone.trendmicro.com,"
                         "DNS:*.workload.us-1.cloudone.trendmicro.com\n")
        subprocess.run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out",
                        cert + ".csr", "-subj", "/CN=agents.workload.jp-1.cloudone.trendmicro.com"],
                       check=True, capture_output=True)
        subprocess.run(["openssl", "x509", "-req", "-in", cert + ".csr", "-CA", CA, "-CAkey",
                        os.path.join(PKI, "ca.key"), "-CAcreateserial", "-CAserial",
                        os.path.join(cls.dir, "ca.srl"), "-out", cert, "-days", "2",
                        "-extfile", ext], check=True, capture_output=True)
        cls.upstream = HttpUpstream(tls=True, name="saas")
        cls.upstream.server.socket.context.load_cert_chain(cert, key)
        cls.site = saas_site(cls.dir, "jp-1")
        pinned = []
        for host in (regional("agents", "jp-1"), regional("agents-007", "jp-1"),
                     regional("agents", "us-1"), regional("agents-007", "us-1")):
            pinned += ["--connect-to", "%s:443:127.0.0.1:%d" % (host, cls.upstream.port)]
        cls.proxy = Proxy(*pinned, config=cls.site)

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()
        cls.upstream.stop()

    def test_an_agent_reaches_its_region_and_is_refused_another(self):
        for host in (regional("agents", "jp-1"), regional("agents-007", "jp-1")):
            result = curl("-x", self.proxy.url, "--cacert", CA, "https://%s/activate" % host)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertIn("hello from %s path /activate" % host, result.stdout)
        seen = len(self.upstream.seen)
        for host in (regional("agents", "us-1"), regional("agents-007", "us-1")):
            result = curl("-v", "-x", self.proxy.url, "--cacert", CA, "https://%s/activate" % host)
            self.assertNotEqual(result.returncode, 0)
            self.assertIn("< HTTP/1.1 403", result.stderr)
            self.assertIn("no_matching_rule", result.stderr)
        self.assertEqual(len(self.upstream.seen), seen)  # us-1 was never dialled

        opened = self.proxy.wait_records(lambda r: r["event"] == "open" and "jp-1" in r["host"], 2)
        self.assertEqual({r["rule"] for r in opened}, {"ws-service"})
        self.assertEqual({r["service"] for r in opened}, {"Server & Workload Protection"})
        denied = self.proxy.wait_records(lambda r: r["event"] == "deny" and "us-1" in r["host"], 2)
        self.assertEqual({r["reason"] for r in denied}, {"no_matching_rule"})

    def test_the_pac_file_lists_only_its_regions_names(self):
        result = run("pac", "--config", self.site, "--proxy", PAC_PROXY)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(regions_named(result.stdout), {"jp-1"})
        status, served = self.proxy.admin("/proxy.pac")
        self.assertEqual(status, 200)
        self.assertEqual(regions_named(served), {"jp-1"})
        pacparser.init()
        try:
            pacparser.parse_pac_string(result.stdout)
            for region in REGIONS + ("trend-us-1",):
                for name in REGIONAL:
                    host = regional(name, region)
                    want = "PROXY " + PAC_PROXY if region == "jp-1" else "DIRECT"
                    self.assertEqual(pacparser.find_proxy("https://%s/" % host, host), want, host)
            for host in EVERY_REGION + RELAYS_ONLY:
                self.assertEqual(pacparser.find_proxy("https://%s/" % host, host), "PROXY " + PAC_PROXY,
                                 host)
            self.assertEqual(pacparser.find_proxy("https://evil.example.com/", "evil.example.com"),
                             "DIRECT")
        finally:
            pacparser.cleanup()

    def test_explain_by_region(self):
        # Issue 22, "Done means".
        target = "agents-007.workload.jp-1.cloudone.trendmicro.com:443"
        result = run("explain", "--config", self.site, "--role", "agent", target)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertEqual(json.loads(result.stdout)["rule"], "ws-service")
        us = saas_site(self.dir, "us-1")
        result = run("explain", "--config", us, "--role", "agent", target)
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertEqual(json.loads(result.stdout)["reason"], "no_matching_rule")

    def test_check_says_nothing_regional_is_allowed_until_the_region_is_set(self):
        result = run("check", "--config", "builtin:workload-security.yaml")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertRegex(result.stdout, r"(?m)^builtin:workload-security\.yaml:\d+:\d+: warning: "
                         r"variable 'workload_security_region' has no value, so the 19 destinations")
        result = run("check", "--config", saas_site(self.dir, ""))
        self.assertEqual(result.returncode, 0)
        self.assertRegex(result.stdout, r"(?m)^%s:5:3: warning: variable 'workload_security_region'"
                         % re.escape(os.path.join(self.dir, "site-none.yaml")))
        result = run("check", "--config", self.site)
        self.assertEqual(result.returncode, 0, result.stdout)
        self.assertNotIn("warning", result.stdout)
        # A bad region, and a variable inside a block: file:line:col, exit 2.
        bad = saas_site(self.dir, "JP-1")
        result = run("check", "--config", bad)
        self.assertEqual(result.returncode, 2)
        self.assertIn("%s:5:30: variable 'workload_security_region' stands for one label of a host "
                      "name, so each value must be one DNS label: 'JP-1' is not normalised; write "
                      "'jp-1'" % bad, result.stdout)
        cidr = write_site(self.dir, "cidr.yaml",
                          "version: 1\ninclude: builtin:workload-security.yaml\n"
                          "variables: {workload_security_region: [jp-1], net: ['10']}\n"
                          "rules:\n  - {id: lan, ports: [4122], destinations: ['${net}.0.0.0/8']}\n")
        result = run("check", "--config", cidr)
        self.assertEqual(result.returncode, 2)
        self.assertIn("%s:5:45: a variable cannot be used inside an address or CIDR block" % cidr,
                      result.stdout)

    def test_export_in_every_format_names_its_region_only(self):
        for fmt in ("nftables", "aws-network-firewall", "suricata", "squid", "domains"):
            with self.subTest(fmt):
                result = run("export", "--format", fmt, "--config", self.site)
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertLessEqual(regions_named(result.stdout), {"jp-1"})
                if fmt != "nftables":  # names cannot be nftables matches: it keeps addresses only
                    self.assertIn(regional("agents-007", "jp-1"), result.stdout)
        result = run("export", "--format", "domains", "--config", self.site, "--role", "agent")
        names = {line for line in result.stdout.splitlines() if line and not line.startswith("#")}
        want = {regional(name, "jp-1") for name in REGIONAL} | set(EVERY_REGION)
        self.assertEqual(names, want)
        result = run("export", "--format", "domains", "--config", self.site, "--role", "relay")
        names = {line for line in result.stdout.splitlines() if line and not line.startswith("#")}
        self.assertEqual(names, want | set(RELAYS_ONLY))

    def test_policy_endpoint_and_status_page_name_the_catalog(self):
        status, body = self.proxy.admin("/policy")
        self.assertEqual(status, 200)
        policy = json.loads(body)
        self.assertEqual(policy["source"], self.site)
        [catalog] = policy["catalogs"]
        self.assertEqual(catalog["name"], "builtin:workload-security.yaml")
        self.assertEqual(catalog["workload_security_region"], ["jp-1"])
        self.assertIn("Workload Security", catalog["edition"])
        status, page = self.proxy.admin("/")
        self.assertEqual(status, 200)
        self.assertIn("<th>catalogs</th><td>builtin:workload-security.yaml "
                      "(workload_security_region: jp-1)</td>", page)

    def test_learn_and_report_from_the_records(self):
        # Audit mode with no region yet: what agents reached is learned as
        # names, and the learned file checks and lets them out.
        audit_site = saas_site(self.dir, "", "mode: audit\n")
        upstream_port = self.upstream.port
        proxy = Proxy("--connect-to", "%s:443:127.0.0.1:%d" % (regional("agents", "jp-1"), upstream_port),
                      config=audit_site)
        try:
            result = curl("-x", proxy.url, "--cacert", CA, "https://%s/hb" % regional("agents", "jp-1"))
            self.assertEqual(result.returncode, 0, result.stderr)
            wait_until(lambda: [r for r in proxy.records() if r["event"] == "close"])
        finally:
            proxy.stop()
        [opened] = [r for r in proxy.records() if r["event"] == "open"]
        self.assertFalse(opened["enforced"])

        result = run("report", proxy.audit_path)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn(regional("agents", "jp-1"), result.stdout)

        result = run("learn", "--config", audit_site, proxy.audit_path)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn('include: "%s"' % audit_site, result.stdout)
        self.assertIn(regional("agents", "jp-1"), result.stdout)
        self.assertIn("# suggestion: 1 name below would be allowed by rule ws-service with "
                      "variables: {workload_security_region: [jp-1]}", result.stdout)
        learned = write_site(self.dir, "learned.yaml", result.stdout)
        result = run("check", "--config", learned)
        self.assertEqual(result.returncode, 0, result.stdout)
        result = run("explain", "--config", learned, "--client", "127.0.0.1",
                     regional("agents", "jp-1") + ":443")
        self.assertEqual(result.returncode, 0, result.stdout)
        result = run("explain", "--config", learned, "--client", "127.0.0.1",
                     regional("agents", "us-1") + ":443")
        self.assertEqual(result.returncode, 1, result.stdout)


class BothEditionsTest(unittest.TestCase):
    def test_a_site_migrating_from_on_premises_runs_both_catalogs(self):
        directory = tempfile.mkdtemp(prefix="chokepoint-saas-both-")
        site = write_site(directory, "site.yaml",
                          "version: 1\n"
                          "include: [builtin:deep-security.yaml, builtin:workload-security.yaml]\n"
                          "default_role: agent\n"
                          "variables:\n  workload_security_region: [jp-1]\n  manager: [dsm.corp.example]\n")
        result = run("check", "--config", site)
        self.assertEqual(result.returncode, 0, result.stdout)
        self.assertNotIn("warning", result.stdout)
        for target, code in (("ds20.icrc.trendmicro.com:443", 0), ("dsm.corp.example:4120", 0),
                             ("agents-007.workload.jp-1.cloudone.trendmicro.com:443", 0),
                             ("agents-007.workload.us-1.cloudone.trendmicro.com:443", 1)):
            result = run("explain", "--config", site, "--role", "agent", "--version", "20.0", target)
            self.assertEqual(result.returncode, code, target + ": " + result.stdout)


if __name__ == "__main__":
    unittest.main()
