"""`chokepoint report` and `chokepoint learn` on a real audit log: the proxy
serves real clients (curl, from three loopback source addresses) first in
audit mode, then enforced, and the records it writes (the first file rotated
and gzip-compressed, as logrotate leaves it) are what the tools read."""

import gzip
import html.parser
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from browser import chromium, screenshot
from harness import CHOKEPOINT, HttpUpstream, Proxy

AGENT, MANAGER, STRANGER = "127.0.0.2", "127.0.0.3", "127.0.0.4"


def run(*args, stdin=None):
    return subprocess.run([CHOKEPOINT, *args], capture_output=True, text=True, timeout=120,
                          input=stdin)


def curl(proxy, source, url):
    return subprocess.run(["curl", "--silent", "--output", "/dev/null", "--max-time", "15", "-k",
                           "--interface", source, "-x", proxy.url, url],
                          capture_output=True, text=True, timeout=30)


def site(directory, mode):
    path = os.path.join(directory, "site.yaml")
    with open(path, "w") as f:
        f.write("version: 1\ninclude: builtin:deep-security.yaml\nmode: %s\n" % mode)
    os.chmod(path, 0o644)
    return path


# (source, URL) each phase sends through the proxy.
AUDIT_TRAFFIC = [
    (AGENT, "https://ds20.icrc.trendmicro.com/"),
    (AGENT, "https://ds20.icrc.trendmicro.com/again"),
    (AGENT, "https://ds2000-en-census.trendmicro.com/"),
    (AGENT, "http://iaus.activeupdate.trendmicro.com/pattern/x.zip"),
    (AGENT, "https://files.trendmicro.com:8443/"),     # a catalog name on another port
    (AGENT, "https://github.com/"),                    # outside the catalog
    (AGENT, "https://api.github.com/"),
    (AGENT, "https://codeload.github.com/"),
    (AGENT, "http://deb.debian.org/debian/pool/x.deb"),
    (AGENT, "http://iaus.activeupdate.trendmicro.com:8081/"),  # let out, then nothing listens
    (MANAGER, "https://grid-global.trendmicro.com/"),
    (MANAGER, "https://licenseupdate.trendmicro.com/"),
    (MANAGER, "https://ec2.us-east-1.amazonaws.com/"),
    (MANAGER, "https://storage.example-vendor.com/"),
]
ENFORCED_TRAFFIC = [
    (AGENT, "https://ds20.icrc.trendmicro.com/"),
    (AGENT, "https://exfil.example.net/"),              # refused, and stays refused
    (MANAGER, "https://grid-global.trendmicro.com/"),
    (STRANGER, "https://exfil.example.net/"),
    (STRANGER, "https://pastebin.example.org/"),
]


class AuditToolsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="chokepoint-tools-")
        cls.tls = HttpUpstream(tls=True)
        cls.plain = HttpUpstream()
        routes = ["--connect-to", ":443:127.0.0.1:%d" % cls.tls.port,
                  "--connect-to", ":8443:127.0.0.1:%d" % cls.tls.port,
                  "--connect-to", ":80:127.0.0.1:%d" % cls.plain.port,
                  "--connect-to", ":8081:127.0.0.1:1"]  # nothing listens on port 1
        # Day one, audit mode; the file is then rotated and compressed.
        proxy = Proxy(*routes, config=site(cls.dir, "audit"))
        for source, url in AUDIT_TRAFFIC:
            curl(proxy, source, url)
        proxy.wait_records(lambda r: r["event"] in ("close", "error"), len(AUDIT_TRAFFIC) - 0, 10)
        proxy.stop()
        cls.rotated = os.path.join(cls.dir, "audit.jsonl.1.gz")
        with open(proxy.audit_path, "rb") as f, gzip.open(cls.rotated, "wb") as out:
            shutil.copyfileobj(f, out)
        # Day two, enforced.
        cls.config = site(cls.dir, "enforce")
        proxy = Proxy(*routes, config=cls.config)
        for source, url in ENFORCED_TRAFFIC:
            curl(proxy, source, url)
        proxy.wait_records(lambda r: r["event"] in ("close", "deny"), len(ENFORCED_TRAFFIC), 10)
        proxy.stop()
        cls.current = proxy.audit_path
        cls.records = []
        with gzip.open(cls.rotated, "rt") as f:
            cls.records += [json.loads(l) for l in f]
        with open(cls.current) as f:
            cls.records += [json.loads(l) for l in f]

    @classmethod
    def tearDownClass(cls):
        cls.tls.stop()
        cls.plain.stop()

    def count(self, predicate):
        return sum(1 for r in self.records if predicate(r))

    # --- report ---------------------------------------------------------------------
    def test_report_totals_and_tables_match_the_records(self):
        result = run("report", self.rotated, self.current)
        self.assertEqual(result.returncode, 0, result.stderr)
        text = result.stdout
        opens = self.count(lambda r: r["event"] == "open")
        would = self.count(lambda r: r["event"] == "open" and r["decision"] == "deny" and not r["enforced"])
        denied = self.count(lambda r: r["event"] == "deny")
        errors = self.count(lambda r: r["event"] == "error")
        self.assertGreaterEqual(would, 6)
        self.assertGreaterEqual(denied, 3)
        self.assertGreaterEqual(errors, 1)
        self.assertIn("%d records from %d lines in 2 files" % (len(self.records), len(self.records)), text)
        self.assertIn("connections %d (%d of them would be refused when enforced), refused %d, errors %d"
                      % (opens, would, denied, errors), text)
        smart_scan = self.count(lambda r: r["event"] == "open" and r["rule"] == "spn-smart-scan")
        self.assertRegex(text, r"Smart Scan Service\s+spn-smart-scan\s+%d\s+1\s" % smart_scan)
        self.assertRegex(text, r"\n  exfil\.example\.net:443\s+no_matching_rule\s+2\s+2\s")
        would_section = text.split("Would be refused (audit mode)")[1].split("\nErrors")[0]
        self.assertRegex(would_section, r"files\.trendmicro\.com:8443\s+port_not_allowed\s+1\s+1\s+download-center")
        self.assertRegex(would_section, r"github\.com:443\s+no_matching_rule")
        self.assertNotIn("exfil", would_section)
        self.assertRegex(text, r"\n  connect_refused\s+1\s")
        # Per role and client (no inventory here: no computer, each its address):
        # all three sources, with their refusals.
        self.assertRegex(text, r"any\s+-\s+%s\s+-\s+0\s+0\s+2\s" % STRANGER)
        # What was let out, by destination: ds20 from the agent alone, audit
        # mode's github.com marked as such, nothing refused.
        let_out = text.split("\nDestinations let out")[1].split("\nRoles")[0]
        ds20 = self.count(lambda r: r["event"] == "open" and r["host"] == "ds20.icrc.trendmicro.com")
        self.assertRegex(let_out, r"\n  ds20\.icrc\.trendmicro\.com:443\s+Smart Protection Network: "
                                  r"Smart Scan Service\s+spn-smart-scan\s+%d\s+0\s+1\s" % ds20)
        self.assertRegex(let_out, r"\n  github\.com:443\s+\(no rule: refused when enforced\)"
                                  r"\s+-\s+1\s+1\s+1\s")
        self.assertNotIn("exfil", let_out)

    def test_report_reads_stdin_and_concatenated_gzip_members(self):
        both = os.path.join(self.dir, "both.gz")
        with open(both, "wb") as out:
            with open(self.rotated, "rb") as f:
                out.write(f.read())
            with open(self.current, "rb") as f:
                out.write(gzip.compress(f.read()))
        from_files = run("report", self.rotated, self.current).stdout
        from_members = run("report", both).stdout
        with open(self.current) as f:
            plain = f.read()
        with gzip.open(self.rotated, "rt") as f:
            plain = f.read() + plain
        from_stdin = run("report", "-", stdin=plain).stdout
        body = lambda text: text.split("\n", 2)[2]  # past the line naming the inputs
        self.assertEqual(body(from_members), body(from_files))
        self.assertEqual(body(from_stdin), body(from_files))

    def test_report_since_until(self):
        first_enforced = min(r["ts"] for r in self.records if r["enforced"] and r["event"] == "deny")
        day_two = [r for r in self.records if r["ts"] >= first_enforced]
        result = run("report", "--since", first_enforced, self.rotated, self.current)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("%d records" % len(day_two), result.stdout)
        self.assertIn("Would be refused (audit mode): none", result.stdout)
        result = run("report", "--until", "1d", self.rotated, self.current)  # a day ago: nothing
        self.assertIn("\n  0 records", result.stdout)
        for bad in ("yesterday", "2026-13-01", "5x"):
            self.assertEqual(run("report", "--since", bad, self.current).returncode, 2)

    def test_html_page_is_self_contained_and_escapes_what_records_say(self):
        # One hostile record (what a broken or forged line could carry) and one broken line.
        hostile = os.path.join(self.dir, "hostile.jsonl")
        record = dict(self.records[0], host="<script>alert(1)</script>.example", event="deny",
                      reason="no_matching_rule", detail="<img src=x onerror=alert(2)>", enforced=True)
        with open(hostile, "w") as f:
            f.write(json.dumps(record) + "\n")
            f.write('{"ts":"2026-11-30T00:00:00Z","event{"ts":\n')
        page = os.path.join(self.dir, "report.html")
        result = run("report", "--html", page, self.rotated, self.current, hostile)
        self.assertEqual(result.returncode, 0, result.stderr)
        with open(page) as f:
            text = f.read()

        class Checker(html.parser.HTMLParser):
            def __init__(self):
                super().__init__()
                self.stack, self.tags, self.problems = [], [], []

            def handle_starttag(self, tag, attrs):
                self.tags.append(tag)
                for name, value in attrs:
                    if name in ("src", "href") or (value and re.search(r"(https?:|url\()", value)):
                        self.problems.append((tag, name, value))
                if tag not in ("meta", "br", "rect", "line", "path", "circle"):
                    self.stack.append(tag)

            def handle_startendtag(self, tag, attrs):
                self.tags.append(tag)

            def handle_endtag(self, tag):
                if not self.stack or self.stack.pop() != tag:
                    self.problems.append(("unbalanced", tag))

        checker = Checker()
        checker.feed(text)
        self.assertEqual(checker.problems, [])
        self.assertEqual(checker.stack, [])
        for tag in ("script", "link", "img", "iframe", "object"):
            self.assertNotIn(tag, checker.tags)
        self.assertNotRegex(text, r"@import|url\(|https?://")
        self.assertGreaterEqual(checker.tags.count("svg"), 2)  # over time, per service
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;.example:", text)
        self.assertIn("1 lines skipped: not audit records", text)
        self.assertIn("exfil.example.net:443", text)

        # Opened from disk by a browser: what Chromium built has the charts and
        # the hostile name as text, and nothing it would run.
        shown = chromium("--dump-dom", "file://" + page)
        self.assertEqual(shown.returncode, 0, shown.stderr[-2000:])
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;.example:", shown.stdout)
        self.assertIn("<svg", shown.stdout)
        self.assertNotIn("<script", shown.stdout)
        self.assertNotIn("<img", shown.stdout)
        screenshot(self, "file://" + page, "report.png", size="1280,1400")

    # --- learn ----------------------------------------------------------------------
    def learn(self, *args):
        result = run("learn", "--config", self.config, *args, self.rotated, self.current)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertNotIn("warning", result.stderr)
        path = os.path.join(self.dir, "learned-%d.yaml" % len(args))
        with open(path, "w") as f:
            f.write(result.stdout)
        os.chmod(path, 0o644)
        checked = run("check", "--config", path)
        self.assertEqual(checked.returncode, 0, checked.stdout + checked.stderr + result.stdout)
        return path, result.stdout

    def explain(self, config, client, host, port, path=""):
        result = run("explain", "--config", config, "--client", client, "%s:%d%s" % (host, port, path))
        self.assertIn(result.returncode, (0, 1), result.stderr)
        return result.returncode == 0, json.loads(result.stdout)

    def learned_from(self):
        """(client, host, port, path) of every connection the records show let out."""
        out = set()
        for r in self.records:
            if r["event"] not in ("open", "error") or r["decision"] is None:
                continue
            if r["decision"] == "deny" and r["enforced"]:
                continue
            client = r["client"].rsplit(":", 1)[0]
            out.add((client, r["host"], r["port"], r.get("path", "") if r["mode"] == "http" else ""))
        return out

    def test_learn_round_trip_lets_out_what_the_records_show_and_nothing_new(self):
        path, text = self.learn()
        # Roles: the agent's and the Manager's traffic chose them; the agent's pinned its version.
        self.assertIn('- {cidr: "%s/32", role: agent, version: "20.0"}' % AGENT, text)
        self.assertIn('- {cidr: "%s/32", role: manager}' % MANAGER, text)
        self.assertNotIn(STRANGER, text)  # only refused: nothing to learn, nothing to map
        # Rules outside the catalog, by registrable domain, exact names on the ports seen.
        self.assertRegex(text, r"- id: learned\.github\.com\n(.*\n){2}    roles: \[agent\]\n"
                               r"    ports: \[443\]\n")
        self.assertIn("suggestion: '*.github.com' would cover the 2 names below", text)
        self.assertRegex(text, r'- "files\.trendmicro\.com"  # 1 connection')

        seen = self.learned_from()
        self.assertGreaterEqual(len(seen), 12)
        for client, host, port, request_path in sorted(seen):
            with self.subTest(client=client, host=host, port=port, path=request_path):
                allowed, decision = self.explain(path, client, host, port, request_path)
                self.assertTrue(allowed, decision)

        # Nothing new: refusals that were enforced stay; names beside the learned ones,
        # other ports, other roles, other versions are refused.
        refused = [
            (AGENT, "exfil.example.net", 443), (STRANGER, "exfil.example.net", 443),
            (STRANGER, "pastebin.example.org", 443),
            (AGENT, "gist.github.com", 443), (AGENT, "github.com", 8443), (AGENT, "github.com", 80),
            (AGENT, "debian.org", 80), (AGENT, "security.debian.org", 80),
            (AGENT, "files.trendmicro.com", 8444),
            (MANAGER, "github.com", 443),                      # learned for agents only
            (AGENT, "grid-global.trendmicro.com", 443),        # the Manager's, no longer the agent's
            (AGENT, "ds120.icrc.trendmicro.com", 443),         # another version's
            (MANAGER, "ds20.icrc.trendmicro.com", 443),        # the agents'
        ]
        for client, host, port in refused:
            with self.subTest(refused=(client, host, port)):
                allowed, decision = self.explain(path, client, host, port)
                self.assertFalse(allowed, decision)

    def test_learn_by_block(self):
        path, text = self.learn("--group", "24")
        self.assertEqual(text.count("- {cidr:"), 1, text)
        self.assertIn('- {cidr: "127.0.0.0/24", role: ', text)
        for client, host, port, request_path in sorted(self.learned_from()):
            with self.subTest(client=client, host=host, port=port):
                allowed, decision = self.explain(path, client, host, port, request_path)
                self.assertTrue(allowed, decision)
        allowed, _ = self.explain(path, STRANGER, "exfil.example.net", 443)
        self.assertFalse(allowed)

    def test_learn_skips_records_it_cannot_use_and_names_their_lines(self):
        # A damaged or hand-edited log: names the proxy never writes, beside good records.
        log = os.path.join(self.dir, "damaged.jsonl")
        good = next(r for r in self.records if r["event"] == "open" and r["host"] == "github.com")
        with open(log, "w") as f:
            f.write(json.dumps(good) + "\n")
            f.write(json.dumps(dict(good, host="GitHub.COM")) + "\n")
            f.write(json.dumps(dict(good, host="bad host\u001b[31m.example")) + "\n")
            f.write(json.dumps(dict(good, host="gist.github.com")) + "\n")
        result = run("learn", "--config", self.config, log)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("version: 1", result.stdout)
        self.assertIn('"github.com"', result.stdout)
        self.assertIn('"gist.github.com"', result.stdout)
        self.assertNotIn("GitHub.COM", result.stdout)
        self.assertIn("warning: %s:2: skipped: host \"GitHub.COM\"" % log, result.stderr)
        self.assertIn("warning: %s:3: skipped: host \"bad host\\u001b[31m.example\"" % log, result.stderr)
        self.assertNotIn("\x1b", result.stderr)

    def test_learn_usage_errors(self):
        for args in (["--group", "4", self.current], ["--group", "x", self.current], [],
                     ["--since", "soon", self.current]):
            with self.subTest(args=args):
                self.assertEqual(run("learn", *args).returncode, 2)


if __name__ == "__main__":
    unittest.main()
