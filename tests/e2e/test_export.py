"""`chokepoint export`: every format read back by a real parser of that
format (nft -c, squid -k parse, suricata-update's rule parser, botocore's
model of CreateRuleGroup), and what each says it could not express."""

import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import botocore.session
import suricata.update.rule as suricata_rule
from botocore.validate import ParamValidator

import catalog_probes
from harness import CHOKEPOINT


def run(*args):
    return subprocess.run([CHOKEPOINT, *args], capture_output=True, text=True, timeout=60)


def catalog_names(roles=None):
    """Names and wildcards of the catalog and site rules (no re:, no CIDR), for `roles`."""
    names = set()
    for rule in catalog_probes.catalog_rules():
        if rule.get("action") == "deny":
            continue
        if roles is not None and not set(rule.get("roles", ["any"])) & roles:
            continue
        destinations = rule["destinations"]
        if isinstance(destinations, dict):
            destinations = [d for group in destinations.values() for d in group]
        for written in destinations:
            values = [written]
            if written.startswith("${"):
                name, rest = written[2:].split("}", 1)
                values = [v + rest for v in catalog_probes.SITE_VARIABLES[name]]
            for value in values:
                host, _ = catalog_probes._split(value)
                if host.startswith("re:"):
                    continue
                try:
                    import ipaddress
                    ipaddress.ip_network(host)
                    continue
                except ValueError:
                    names.add(host)
    return names


def shape_problems(value, shape, where="params"):
    """What botocore's ParamValidator leaves unchecked: enums, patterns, maximum lengths."""
    problems = []
    if shape.type_name == "structure":
        for key, member in shape.members.items():
            if key in value:
                problems += shape_problems(value[key], member, where + "." + key)
    elif shape.type_name == "list":
        for i, item in enumerate(value):
            problems += shape_problems(item, shape.member, "%s[%d]" % (where, i))
        if "max" in shape.metadata and len(value) > shape.metadata["max"]:
            problems.append("%s: more than %d items" % (where, shape.metadata["max"]))
    elif shape.type_name == "string":
        if shape.enum and value not in shape.enum:
            problems.append("%s: %r not in %r" % (where, value, shape.enum))
        if "pattern" in shape.metadata and not re.search(shape.metadata["pattern"], value):
            problems.append("%s: %r does not match %s" % (where, value, shape.metadata["pattern"]))
        if "max" in shape.metadata and len(value) > shape.metadata["max"]:
            problems.append("%s: longer than %d" % (where, shape.metadata["max"]))
    return problems


class ExportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="chokepoint-export-")
        cls.config = catalog_probes.write_site(cls.dir)

    def export(self, fmt, *args):
        result = run("export", "--format", fmt, "--config", self.config, *args)
        self.assertEqual(result.returncode, 0, result.stderr)
        return result.stdout, result.stderr

    def leading_comment(self, text):
        lines = []
        for line in text.splitlines():
            if not line.startswith("#"):
                break
            lines.append(line)
        return "\n".join(lines)

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_nftables_loads_in_nft_check_mode(self):
        for role in (None, "agent", "manager"):
            with self.subTest(role=role):
                text, _ = self.export("nftables", *(["--role", role] if role else []))
                path = self.write("export-%s.nft" % role, text)
                command = ["nft", "-c", "-f", path]
                if os.geteuid() != 0:
                    command = ["unshare", "-rn"] + command
                result = subprocess.run(command, capture_output=True, text=True, timeout=60)
                self.assertEqual(result.returncode, 0, result.stderr + text)
                comment = self.leading_comment(text)
                self.assertIn("host names", comment)
                if role != "manager":  # the only re: rule is for agents
                    self.assertIn("re: rules", comment)
                self.assertIn("paths", comment)
                self.assertIn("versions", comment)
        text, _ = self.export("nftables")
        # The port tables as sets, per component; the clients per role; the CIDR destinations.
        self.assertRegex(text, r"set ports_agent_outbound_udp \{[^}]*elements = \{ 53, 123, 514 \}")
        self.assertRegex(text, r"set ports_manager_outbound_tcp \{[^}]*11000-11999, 14000-14999")
        self.assertRegex(text, r"set clients_agent_v4 \{[^}]*10\.0\.8\.0/21")
        self.assertRegex(text, r"set dest_relay_channel_v6 \{[^}]*2001:db8:1::/48")
        self.assertIn("ip saddr @clients_agent_v4 ip daddr @dest_manager_channel_v4 "
                      "tcp dport { 443, 4119-4120 } accept", text)
        self.assertIn("ip saddr @clients_manager_v4 ip daddr @dest_manager_database_v4", text)
        # Agents never get the Manager's database.
        self.assertNotIn("ip saddr @clients_agent_v4 ip daddr @dest_manager_database_v4", text)

    def test_squid_parses_the_acls_without_a_complaint(self):
        if not shutil.which("squid"):
            self.fail("squid is not installed (Debian package squid)")
        for role in (None, "agent", "manager"):
            with self.subTest(role=role):
                text, _ = self.export("squid", *(["--role", role] if role else []))
                acls = self.write("export-%s.squid" % role, text)
                conf = self.write("squid-%s.conf" % role,
                                  "http_port 127.0.0.1:3128\npid_filename none\n"
                                  "cache_log %s/cache.log\naccess_log none\ncache deny all\n"
                                  "include %s\n" % (self.dir, acls))
                result = subprocess.run(["squid", "-k", "parse", "-f", conf], capture_output=True,
                                        text=True, timeout=60)
                output = result.stdout + result.stderr
                self.assertEqual(result.returncode, 0, output)
                complaints = [l for l in output.splitlines()
                              if re.search(r"ERROR|WARNING|FATAL|Bungled", l)]
                self.assertEqual(complaints, [], text)
                self.assertIn("Processing Configuration File: %s" % acls, output)
        text, _ = self.export("squid")
        # Exact semantics where Squid has them: ".domain", "*.domain", one-label wildcards.
        self.assertRegex(text, r"dstdomain -n .*\.example\.org")
        self.assertIn(r"^([^.]+\.)+xdr\.trendmicro\.com$", text)
        self.assertIn(r"^ec2\.[^.]+\.amazonaws\.com$", text)
        self.assertRegex(text, r"acl \S+_path urlpath_regex \^/tmcss/")
        self.assertIn("http_access deny all", text)
        self.assertIn("CIDR destinations", self.leading_comment(text))

    def test_suricata_rules_parse_with_suricata_update(self):
        text, _ = self.export("suricata")
        sids = set()
        active = 0
        for line in text.splitlines():
            if not line.strip() or (line.startswith("#") and "sid:" not in line):
                continue
            rule = suricata_rule.parse(line)
            self.assertIsNotNone(rule, line)
            self.assertNotIn(rule["sid"], sids, line)
            sids.add(rule["sid"])
            self.assertTrue(rule["msg"].startswith("chokepoint"), line)
            if rule["enabled"]:
                active += 1
                self.assertEqual(rule["action"], "pass", line)
                self.assertIn(rule["proto"], ("tls", "http", "tcp"), line)
            else:
                self.assertEqual(rule["action"], "drop", line)
        self.assertGreater(active, 250)
        rules = [l for l in text.splitlines() if l.startswith("pass ")]
        # Exact names anchored at both ends, "*.x" below x only, ".x" with its apex.
        self.assertTrue(any('tls.sni; content:"files.trendmicro.com"; nocase; startswith; endswith;'
                            in r for r in rules))
        self.assertTrue(any('tls.sni; content:".xdr.trendmicro.com"; nocase; endswith;' in r
                            and "dotprefix" not in r for r in rules))
        self.assertTrue(any('tls.sni; dotprefix; content:".example.org"' in r and "[443,8000:8001]" in r
                            for r in rules))
        self.assertTrue(any(r'pcre:"/^ec2\.[^.]+\.amazonaws\.com$/i"' in r for r in rules))
        self.assertTrue(any('http.uri; content:"/tmcss/"; startswith;' in r for r in rules))
        self.assertTrue(any(r.startswith("pass tcp $HOME_NET any -> [10.0.1.0/24,2001:db8:1::/48] 4122")
                            for r in rules))
        self.assertIn("re: rules", self.leading_comment(text))

    def test_suricata_rules_keep_hostile_paths_and_patterns_inside_their_options(self):
        # A path is printable ASCII, so it may hold what ends a msg and starts
        # options of its own; a re: pattern may hold the rule syntax's '"' and
        # ';' and the pcre delimiter, escaped or not, and quoted (\Q...\E).
        hostile = '/a";sid:1;classtype:x;msg:"pwn'
        regex = r'^x"y;z/w\;v\/u\Q;\E$'
        config = self.write("hostile.yaml", "version: 1\nrules:\n"
                            "  - {id: r, ports: [80], destinations: ['a.example.com%s', 'b.example.com/c\\d;e']}\n"
                            "  - {id: q, ports: [443], destinations: ['re:%s']}\n" % (hostile, regex))
        result = run("export", "--format", "suricata", "--config", config)
        self.assertEqual(result.returncode, 0, result.stderr)
        rules = [suricata_rule.parse(line) for line in result.stdout.splitlines()
                 if line.startswith("pass ")]
        self.assertEqual(len(rules), 6, result.stdout)  # TLS and HTTP for each name and the re: rule
        for rule in rules:
            with self.subTest(rule=rule["raw"]):
                self.assertGreaterEqual(rule["sid"], 1000001)
                self.assertIsNone(rule.get("classtype"))
                self.assertTrue(rule["msg"].startswith("chokepoint "), rule["msg"])
        messages = {r["msg"] for r in rules}
        self.assertIn(r'chokepoint r: a.example.com/a\"\;sid:1\;classtype:x\;msg:\"pwn', messages)
        self.assertIn(r"chokepoint r: b.example.com/c\\d\;e", messages)
        # The pattern means what it meant, read by Python's re (which knows
        # PCRE's \xHH, not \Q...\E: there is nothing left between them).
        bodies = {r["pcre"].strip('"') for r in rules if r.get("pcre")}
        self.assertEqual(len(bodies), 2, bodies)  # TLS with /i, HTTP without
        for body in bodies:
            with self.subTest(pcre=body):
                inner = body[1:body.rindex("/")]
                self.assertFalse(set('";/\n') & set(inner), inner)
                self.assertIn(r"\Q\E", inner)
                pattern = re.compile(inner.replace(r"\Q\E", ""))
                self.assertTrue(pattern.fullmatch('x"y;z/w;v/u;'), inner)
                self.assertFalse(pattern.fullmatch("x"), inner)

    def test_a_re_pattern_with_a_newline_is_refused_before_any_export(self):
        config = self.write("newline.yaml", 'version: 1\nrules:\n  - {id: q, destinations: ["re:^a\\nb$"]}\n')
        result = run("check", "--config", config)
        self.assertEqual(result.returncode, 2, result.stdout)
        self.assertRegex(result.stdout + result.stderr, re.escape(config) + r":3:\d+: control character")
        result = run("export", "--format", "suricata", "--config", config)
        self.assertEqual(result.returncode, 2)
        self.assertEqual(result.stdout, "")

    def test_aws_rule_group_is_valid_for_create_rule_group(self):
        model = botocore.session.get_session().get_service_model("network-firewall")
        shape = model.operation_model("CreateRuleGroup").input_shape
        for role in (None, "agent", "manager"):
            with self.subTest(role=role):
                text, notes = self.export("aws-network-firewall", *(["--role", role] if role else []))
                params = json.loads(text)
                report = ParamValidator().validate(params, shape)
                self.assertFalse(report.has_errors(), report.generate_report())
                self.assertEqual(shape_problems(params, shape), [])
                source = params["RuleGroup"]["RulesSource"]["RulesSourceList"]
                self.assertEqual(source["GeneratedRulesType"], "ALLOWLIST")
                self.assertEqual(sorted(source["TargetTypes"]), ["HTTP_HOST", "TLS_SNI"])
                self.assertGreaterEqual(params["Capacity"], 2 * len(source["Targets"]) + 2)
                self.assertTrue(notes.startswith("note: chokepoint export"), notes)
        text, notes = self.export("aws-network-firewall")
        targets = json.loads(text)["RuleGroup"]["RulesSource"]["RulesSourceList"]["Targets"]
        self.assertIn("files.trendmicro.com", targets)
        self.assertIn(".xdr.trendmicro.com", targets)  # widened: the apex too
        self.assertIn(".example.org", targets)
        self.assertFalse(any("*" in t for t in targets), targets)
        self.assertNotIn("blocked.example.org", targets)  # a deny rule
        for said in ("ports", "subdomain wildcards", "also allows example.com itself",
                     "middle-label wildcards", "re: rules", "CIDR destinations", "paths",
                     "versions", "roles", "deny rules (site-deny)"):
            self.assertIn(said, notes)

    def test_domains_by_role(self):
        for role, roles in ((None, None), ("agent", {"agent", "any"}),
                            ("relay", {"relay", "agent", "any"}), ("manager", {"manager", "any"})):
            with self.subTest(role=role):
                text, _ = self.export("domains", *(["--role", role] if role else []))
                listed = {l for l in text.splitlines() if l and not l.startswith("#")}
                self.assertEqual(listed, catalog_names(roles))
        agent, _ = self.export("domains", "--role", "agent")
        self.assertIn("ds20.icrc.trendmicro.com\n", agent)
        self.assertNotIn("grid-global.trendmicro.com\n", agent)
        comment = self.leading_comment(agent)
        self.assertIn("roles: only the rules of role 'agent'", comment)
        self.assertIn("ports", comment)
        self.assertIn("re: rules (1, e.g. '^cdn[0-9]+\\.example\\.net$')", comment)

    def test_usage_errors(self):
        for args in (["--format", "iptables"], ["--format", "squid", "--role", "robot"], []):
            with self.subTest(args=args):
                result = run("export", "--config", self.config, *args)
                self.assertEqual(result.returncode, 2)
                self.assertIn("usage: chokepoint export", result.stderr)


if __name__ == "__main__":
    unittest.main()
