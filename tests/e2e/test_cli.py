"""The command-line contract of DESIGN.md: check and explain, their output
and exit codes, run against the real binary."""

import json
import os
import re
import subprocess
import tempfile
import unittest

from harness import CHOKEPOINT, private_copy

SOURCE = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def run(*args, stdin=None):
    return subprocess.run([CHOKEPOINT, *args], capture_output=True, text=True, input=stdin, timeout=30)


class CheckTest(unittest.TestCase):
    def test_shipped_files_are_valid(self):
        shipped = ("policy/deep-security.yaml", "policy/examples/site.yaml", "policy/examples/audit-mode.yaml",
                   "policy/workload-security.yaml", "policy/examples/workload-security.yaml",
                   "policy/examples/migrating.yaml")
        for path, copy in zip(shipped, private_copy(*shipped)):
            with self.subTest(path=path):
                result = run("check", "--config", copy)
                self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
                self.assertIn(": ok:", result.stdout)

    def test_the_kubernetes_configmaps_site_file_is_valid(self):
        # The block scalar under `site.yaml: |`, indented four spaces.
        with open(os.path.join(SOURCE, "deploy", "kubernetes", "configmap.yaml")) as f:
            lines = f.read().split("  site.yaml: |\n", 1)[1].splitlines()
        site = "\n".join(line[4:] for line in lines if line.startswith("    ") or not line.strip())
        path = os.path.join(tempfile.mkdtemp(), "site.yaml")
        with open(path, "w") as f:
            f.write(site + "\n")
        result = run("check", "--config", path)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("proxy_protocol", site)

    def test_every_problem_as_file_line_column(self):
        directory = tempfile.mkdtemp()
        path = os.path.join(directory, "bad.yaml")
        with open(path, "w") as f:
            f.write("version: 1\nrules:\n  - {id: a, destinations: ['*.co.jp']}\n"
                    "  - {id: b, ports: 70000, destinations: [ok.example.com]}\n"
                    "  - {id: c, roles: [robot], destinations: [ok.example.com]}\n")
        result = run("check", "--config", path)
        self.assertEqual(result.returncode, 2)
        lines = [l for l in (result.stdout + result.stderr).splitlines() if l.strip()]
        self.assertEqual(len(lines), 3, lines)
        for line, number in zip(lines, (3, 4, 5)):
            self.assertRegex(line, r"^%s:%d:\d+: \S" % (re.escape(path), number))

    def test_yaml_syntax_error_and_missing_file(self):
        directory = tempfile.mkdtemp()
        path = os.path.join(directory, "broken.yaml")
        with open(path, "w") as f:
            f.write("version: 1\nrules: [\n")
        result = run("check", "--config", path)
        self.assertEqual(result.returncode, 2)
        self.assertRegex(result.stdout + result.stderr, r"%s:\d+:\d+: " % re.escape(path))
        result = run("check", "--config", os.path.join(directory, "absent.yaml"))
        self.assertEqual(result.returncode, 2)

    def test_a_config_or_users_file_others_could_replace_is_refused(self):
        directory = tempfile.mkdtemp()
        shared = os.path.join(directory, "shared")
        os.mkdir(shared)
        os.chmod(shared, 0o775)  # its group may write: rename a file of theirs over ours
        users = os.path.join(shared, "users")
        with open(users, "w") as f:
            f.write("# no users yet\n")
        path = os.path.join(directory, "site.yaml")
        with open(path, "w") as f:
            f.write("version: 1\nsettings: {users_file: %s}\n" % users)
        result = run("check", "--config", path)
        self.assertEqual(result.returncode, 2, result.stdout)
        self.assertIn("%s: its directory %s is writable by its group, who could replace the file; "
                      "refusing it (chmod g-w %s, or chmod +t %s)" % (users, shared, shared, shared),
                      result.stdout + result.stderr)
        config = os.path.join(shared, "site.yaml")
        os.rename(path, config)
        result = run("check", "--config", config)
        self.assertEqual(result.returncode, 2, result.stdout)
        self.assertRegex(result.stdout + result.stderr, "^%s: its directory %s is writable by its group"
                         % (re.escape(config), re.escape(shared)))
        os.chmod(shared, 0o755)
        result = run("check", "--config", config)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_run_refuses_a_bad_config(self):
        directory = tempfile.mkdtemp()
        path = os.path.join(directory, "bad.yaml")
        with open(path, "w") as f:
            f.write("version: 1\nrules:\n  - {id: a, destinations: ['*']}\n")
        result = run("run", "--config", path, "--listen", "127.0.0.1:0")
        self.assertEqual(result.returncode, 2)
        self.assertIn("%s:3:" % path, result.stderr)


class ExplainTest(unittest.TestCase):
    def explain(self, *args):
        result = run("explain", *args)
        self.assertIn(result.returncode, (0, 1), result.stderr)
        return result.returncode, json.loads(result.stdout)

    def test_issue_examples(self):
        code, out = self.explain("--role", "agent", "--version", "20.0", "ds20.icrc.trendmicro.com:443")
        self.assertEqual(code, 0)
        self.assertEqual(out["decision"], "allow")
        self.assertEqual(out["rule"], "spn-smart-scan")
        self.assertTrue(out["reason"])
        code, out = self.explain("--role", "agent", "evil.example.com:443")
        self.assertEqual(code, 1)
        self.assertEqual(out["decision"], "deny")
        self.assertIsNone(out["rule"])

    def test_version_forms_and_groups(self):
        for version in ("20", "20.0", "20.0.1-1234"):
            code, _ = self.explain("--role", "agent", "--version", version, "ds20.icrc.trendmicro.com:443")
            self.assertEqual(code, 0, version)
        code, out = self.explain("--role", "agent", "--version", "12.0", "ds20.icrc.trendmicro.com:443")
        self.assertEqual(code, 1)
        self.assertEqual(out["reason"], "version_not_allowed")
        code, _ = self.explain("--role", "agent", "ds20.icrc.trendmicro.com:443")  # no version: every version
        self.assertEqual(code, 0)

    def test_any_role_client_user_and_paths(self):
        code, out = self.explain("grid-global.trendmicro.com:443")  # default role any
        self.assertEqual((code, out["role"]), (0, "any"))
        code, _ = self.explain("--role", "agent", "grid-global.trendmicro.com:443")
        self.assertEqual(code, 1)
        code, out = self.explain("--client", "10.1.2.3", "files.trendmicro.com:80")
        self.assertEqual(code, 0)
        code, out = self.explain("--role", "agent", "--version", "10.0", "ds10-jp.icrc.trendmicro.com:80/other")
        self.assertEqual((code, out["reason"]), (1, "path_not_allowed"))
        code, _ = self.explain("--role", "agent", "--version", "10.0", "ds10-jp.icrc.trendmicro.com:80/tmcss/x")
        self.assertEqual(code, 0)
        code, _ = self.explain("--role", "manager", "[2001:db8::1]:443")
        self.assertEqual(code, 1)

    def test_usage_errors_exit_2(self):
        for args in (["explain"], ["explain", "no-port.example.com"], ["explain", "--role", "robot", "a.com:443"],
                     ["explain", "--version", "v20", "a.com:443"], ["frobnicate"],
                     ["explain", "--role", "agent", "--client", "10.0.0.1", "a.com:443"]):
            with self.subTest(args=args):
                self.assertEqual(run(*args).returncode, 2)


if __name__ == "__main__":
    unittest.main()


class PasswdTest(unittest.TestCase):
    def test_entries_are_added_and_replaced_and_the_file_keeps_its_group_and_mode(self):
        path = os.path.join(tempfile.mkdtemp(), "users")
        for user, password in (("relay01", "one"), ("dsm", "two"), ("relay01", "three")):
            result = run("passwd", "--users-file", path, "--iterations", "1000", user, stdin=password + "\n")
            self.assertEqual(result.returncode, 0, result.stderr)
            if user == "dsm" and os.geteuid() == 0:
                # What an operator does so the service's group can read it.
                os.chown(path, 0, 65534)
                os.chmod(path, 0o640)
        lines = open(path).read().splitlines()
        self.assertEqual([line.split(":")[0] for line in lines], ["relay01", "dsm"])
        self.assertTrue(all(re.match(r"^\w+:\$pbkdf2-sha256\$1000\$", line) for line in lines), lines)
        status = os.stat(path)
        self.assertEqual(status.st_mode & 0o777, 0o640)
        if os.geteuid() == 0:
            self.assertEqual(status.st_gid, 65534)
        self.assertFalse(os.path.exists(path + ".tmp"))
        self.assertNotEqual(run("passwd", "--users-file", path, "x", stdin="\n").returncode, 0)
