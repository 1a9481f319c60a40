"""Clients from the Deep Security Manager (issue 21), end to end: a test
manager (manager_server.py: HTTPS with the test PKI, real paging, the key
checked) says who each loopback address is; the proxy lets each computer out
by its role and agent version, names it in the records, follows a refresh,
keeps the last good list through failures, and falls back to the clients
CIDRs when a computer is gone. Upstreams are pinned with --connect-to, so no
name is resolved."""

import json
import os
import socket
import subprocess
import tempfile
import unittest

from harness import CA, CHOKEPOINT, PKI, EchoUpstream, Proxy, read_http_response, wait_until

os.environ.setdefault("CHOKEPOINT_PKI", PKI)
from manager_server import Manager, computer, generated  # noqa: E402

AGENT_20 = "127.0.0.21"
AGENT_12 = "127.0.0.22"
RELAY = "127.0.0.23"
NO_AGENT = "127.0.0.24"
SHARED = "127.0.0.25"
UNKNOWN = "127.0.0.26"
TWIN_A, TWIN_B, TWIN_C = "127.0.0.27", "127.0.0.28", "127.0.0.29"
SPN_20 = "ds2000-en-census.trendmicro.com"  # the 20.0+ row of the catalog
SPN_12 = "ds1200-en-census.trendmicro.com"  # its 12.0 row
RELAYS_ONLY = "relay-only.corp.example"     # the site's rule for relays alone


def fleet():
    return [
        computer(1, "agent20.corp.example", "20.0.1.690", addresses=[AGENT_20]),
        # Its address only in an interface, in the prefix form.
        computer(2, "agent12.corp.example", "12.0.0.1234", interfaces=[[AGENT_12 + "/8"]]),
        computer(3, "relay01.corp.example", "20.0.1.690", addresses=[RELAY], relay=True,
                 display="Relay 01"),
        computer(4, "unmanaged.corp.example", "0.0.0.0", addresses=[NO_AGENT]),
        computer(5, "nat-a.corp.example", "20.0.1.690", addresses=[SHARED]),
        computer(6, "nat-b.corp.example", "20.0.1.690", ec2=SHARED),
    ]


def site(directory, manager, required=False, refresh="1s", stale_for="1h"):
    key = os.path.join(directory, "dsm.key")
    with open(key, "w") as f:
        f.write(manager.key + "\n")
    os.chmod(key, 0o600)
    path = os.path.join(directory, "site.yaml")
    with open(path, "w") as f:
        f.write("version: 1\ninclude: builtin:deep-security.yaml\ndefault_role: agent\n"
                # What the operator wrote by hand: everything on loopback an 11.0 agent.
                "clients:\n  - {cidr: 127.0.0.0/8, role: agent, version: '11.0'}\n"
                "rules:\n  - {id: relays-only, roles: [relay], ports: [443],"
                " destinations: [%s]}\n"
                "inventory:\n  url: %s\n  auth: api-secret-key\n  key_file: dsm.key\n"
                "  ca_file: %s\n  refresh: %s\n  stale_for: %s\n  required: %s\n"
                % (RELAYS_ONLY, manager.url, os.path.abspath(CA), refresh, stale_for,
                   "true" if required else "false"))
    return path


def connect(proxy, source, host):
    """The status of a CONNECT to host:443 from `source`."""
    with socket.create_connection((proxy.host, proxy.port), timeout=10,
                                  source_address=(source, 0)) as s:
        s.sendall(b"CONNECT %s:443 HTTP/1.1\r\nHost: %s:443\r\n\r\n" % (host.encode(), host.encode()))
        return read_http_response(s)[0]


def inventory_page(proxy):
    return json.loads(proxy.admin("/inventory")[1])


def metric(proxy, name):
    for line in proxy.admin("/metrics")[1].splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


class InventoryTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="chokepoint-inventory-")
        self.manager = Manager(fleet())
        self.addCleanup(self.manager.stop)
        self.echo = EchoUpstream()
        self.addCleanup(self.echo.stop)

    def start(self, **site_options):
        proxy = Proxy("--connect-to", "::127.0.0.1:%d" % self.echo.port,
                      config=site(self.dir, self.manager, **site_options))
        self.addCleanup(proxy.stop)
        return proxy

    def decided(self, proxy, source, host):
        """The deny or open record of the last connection from `source` to `host`."""
        [record] = proxy.wait_records(lambda r: r["client"].startswith(source + ":")
                                      and r["host"] == host and r["event"] in ("open", "deny"))[-1:]
        return record

    def test_each_computer_gets_what_its_role_and_version_allow(self):
        proxy = self.start()
        self.assertTrue(wait_until(lambda: inventory_page(proxy)["applies"], timeout=10))
        # A 20.0 agent reaches the 20.0 Smart Protection host; a 12.0 agent
        # is refused it and reaches its own row's.
        self.assertEqual(connect(proxy, AGENT_20, SPN_20), 200)
        self.assertEqual(connect(proxy, AGENT_12, SPN_20), 403)
        self.assertEqual(connect(proxy, AGENT_12, SPN_12), 200)
        record = self.decided(proxy, AGENT_20, SPN_20)
        self.assertEqual((record["identity"], record["computer"], record["computer_id"], record["role"]),
                         ("inventory", "agent20.corp.example", 1, "agent"))
        self.assertEqual(self.decided(proxy, AGENT_12, SPN_20)["computer_id"], 2)
        # A relay: its records say so, and a rule for relays admits it, not an agent.
        self.assertEqual(connect(proxy, RELAY, RELAYS_ONLY), 200)
        self.assertEqual(connect(proxy, AGENT_20, RELAYS_ONLY), 403)
        relay = self.decided(proxy, RELAY, RELAYS_ONLY)
        self.assertEqual((relay["role"], relay["computer"], relay["rule"]),
                         ("relay", "Relay 01", "relays-only"))
        # No agent, an address two computers claim, an address the manager
        # does not know: the clients CIDR decides (an 11.0 agent).
        for source in (NO_AGENT, SHARED, UNKNOWN):
            self.assertEqual(connect(proxy, source, SPN_20), 403, source)
            record = self.decided(proxy, source, SPN_20)
            self.assertEqual(record["identity"], "cidr", source)
            self.assertNotIn("computer", record)
        # What the operator sees.
        page = inventory_page(proxy)
        self.assertEqual(page["inventory"]["computers"], 6)
        self.assertEqual(page["inventory"]["ambiguous"], [{"address": SHARED, "computer_ids": [5, 6]}])
        by_address = {e["address"]: e for e in page["inventory"]["addresses"]}
        self.assertEqual(by_address[AGENT_12]["version"], "12.0.0-1234")
        self.assertNotIn(NO_AGENT, by_address)
        self.assertEqual(metric(proxy, "chokepoint_inventory_ambiguous_addresses"), 1)
        self.assertEqual(metric(proxy, "chokepoint_inventory_applies"), 1)
        self.assertIn("Relay 01", proxy.admin("/")[1] + json.dumps(page))
        # What a refresh cost the manager: one page and the empty one after it.
        searches = self.manager.searches()
        self.assertTrue(all(json.loads(body)["maxItems"] == 5000 for _, _, body in searches))
        self.assertEqual(page["last_requests"], 2)

    def test_the_report_shows_a_computer_once_whatever_its_addresses(self):
        # Computer 7 at two addresses (the last one used and an interface's);
        # computer 8, which the manager calls by the same name, at a third.
        self.manager.set_computers(fleet() + [
            computer(7, "twin.corp.example", addresses=[TWIN_A], interfaces=[[TWIN_B]]),
            computer(8, "twin.corp.example", addresses=[TWIN_C])])
        proxy = self.start()
        self.assertTrue(wait_until(lambda: inventory_page(proxy)["applies"], timeout=10))
        for source in (TWIN_A, TWIN_B, TWIN_B, TWIN_C):
            self.assertEqual(connect(proxy, source, SPN_20), 200, source)
        closes = proxy.wait_records(lambda r: r["event"] == "close" and "computer" in r, 4)
        self.assertEqual(sorted(r["computer_id"] for r in closes), [7, 7, 7, 8])
        report = subprocess.run([CHOKEPOINT, "report", proxy.audit_path], capture_output=True,
                                text=True, timeout=60)
        self.assertEqual(report.returncode, 0, report.stderr)
        text = report.stdout
        # One row for computer 7: its first address and one more; its own for 8.
        self.assertRegex(text, r"\n  agent\s+twin\.corp\.example \(ID 7\)\s+%s \+1\s+-\s+3\s"
                         % TWIN_A.replace(".", r"\."))
        self.assertRegex(text, r"\n  agent\s+twin\.corp\.example \(ID 8\)\s+%s\s+-\s+1\s"
                         % TWIN_C.replace(".", r"\."))
        # The destination: four connections from two clients (the two computers).
        let_out = text.split("\nDestinations let out")[1].split("\nRoles")[0]
        self.assertRegex(let_out, r"\n  %s:443\s.*\s4\s+0\s+2\s" % SPN_20.replace(".", r"\."))

    def test_a_refresh_changes_access_and_a_removed_computer_falls_back(self):
        proxy = self.start()
        self.assertTrue(wait_until(lambda: inventory_page(proxy)["applies"], timeout=10))
        self.assertEqual(connect(proxy, AGENT_12, SPN_20), 403)
        # Refreshes that find the list as it was confirm it (its age starts
        # again) and change nothing.
        first = inventory_page(proxy)
        self.assertTrue(wait_until(lambda: inventory_page(proxy)["refreshes"] >= first["refreshes"] + 2,
                                   timeout=10))
        unchanged = inventory_page(proxy)
        self.assertEqual(unchanged["last_changed"], first["last_changed"])
        self.assertNotEqual(unchanged["last_good"], first["last_good"])
        self.assertLessEqual(unchanged["age_s"], 2)
        # The 12.0 agent is upgraded; the 20.0 one is removed from the manager.
        upgraded = [c for c in fleet() if c["ID"] != 1]
        upgraded[0]["agentVersion"] = "20.0.1.690"
        before = inventory_page(proxy)["refreshes"]
        self.manager.set_computers(upgraded)
        self.assertTrue(wait_until(lambda: inventory_page(proxy)["refreshes"] >= before + 2, timeout=10))
        self.assertNotEqual(inventory_page(proxy)["last_changed"], first["last_changed"])
        self.assertEqual(connect(proxy, AGENT_12, SPN_20), 200)
        self.assertEqual(connect(proxy, AGENT_20, SPN_20), 403)
        self.assertEqual(self.decided(proxy, AGENT_20, SPN_20)["identity"], "cidr")

    def test_pages_in_chunks_are_read_as_pages(self):
        # No Content-Length to size the body from: 3,000 more computers make
        # the first page 5,000 long, in many chunks.
        self.manager.chunked = True
        self.manager.set_computers(fleet() + generated(3000, first_id=1000))
        proxy = self.start()
        self.assertTrue(wait_until(lambda: inventory_page(proxy)["applies"], timeout=10))
        self.assertEqual(inventory_page(proxy)["inventory"]["computers"], len(fleet()) + 3000)
        self.assertEqual(connect(proxy, AGENT_20, SPN_20), 200)
        self.assertEqual(connect(proxy, AGENT_12, SPN_20), 403)

    def test_one_connection_serves_refresh_after_refresh(self):
        proxy = self.start()
        self.assertTrue(wait_until(lambda: inventory_page(proxy)["refreshes"] >= 4, timeout=15))
        self.assertEqual(self.manager.connections, 1)

    def test_a_manager_closing_idle_connections_costs_no_refresh(self):
        # Closed after half a second of quiet, as a server's keep-alive
        # timeout closes it: each refresh meets a connection gone under it.
        self.manager.idle_timeout = 0.5
        proxy = self.start()
        self.assertTrue(wait_until(lambda: inventory_page(proxy)["refreshes"] >= 4, timeout=15))
        page = inventory_page(proxy)
        self.assertEqual(page["failures"], {})
        self.assertGreaterEqual(self.manager.connections, 3)
        self.assertEqual(page["last_requests"], 2)  # the page and the empty one after it

    def test_failures_keep_the_last_good_list_and_are_reported(self):
        proxy = self.start()
        self.assertTrue(wait_until(lambda: inventory_page(proxy)["applies"], timeout=10))
        self.manager.fail_next = ["500", "garbage", "truncated"]
        self.assertTrue(wait_until(lambda: sum(inventory_page(proxy)["failures"].values()) >= 3,
                                   timeout=20))
        page = inventory_page(proxy)
        self.assertTrue(page["applies"])
        self.assertEqual(page["failures"].get("status"), 1)
        self.assertEqual(page["failures"].get("malformed"), 2)
        self.assertEqual(connect(proxy, AGENT_20, SPN_20), 200)
        self.assertTrue(wait_until(lambda: inventory_page(proxy)["last_error"] is None, timeout=20))
        # A wrong key: said once, and not retried in a loop.
        self.manager.key = "rotated"
        self.assertTrue(wait_until(lambda: inventory_page(proxy)["failures"].get("refused", 0) >= 1,
                                   timeout=10))
        asked = len(self.manager.searches())
        wait_until(lambda: False, timeout=2.5)
        self.assertLessEqual(len(self.manager.searches()) - asked, 3)
        self.assertEqual(proxy.stderr_text().count("the manager refused the API key"), 1)
        self.assertEqual(connect(proxy, AGENT_20, SPN_20), 200)

    def test_required_and_unreachable_is_not_ready(self):
        self.manager.fail_next = ["401"] * 1000
        proxy = self.start(required=True)
        self.assertTrue(wait_until(lambda: proxy.admin("/readyz")[0] == 503, timeout=10))
        self.assertIn("inventory_unavailable", proxy.admin("/readyz")[1])
        self.assertEqual(metric(proxy, "chokepoint_inventory_applies"), 0)
        # Meanwhile the CIDRs decide.
        self.assertEqual(connect(proxy, AGENT_20, SPN_20), 403)
        self.manager.fail_next = []
        # A refused key is tried again only at the next regular refresh (1 s here).
        self.assertTrue(wait_until(lambda: proxy.admin("/readyz")[0] == 200, timeout=10))
        self.assertEqual(connect(proxy, AGENT_20, SPN_20), 200)

    def test_stale_for_ends_the_inventory(self):
        proxy = self.start(stale_for="2s")
        self.assertTrue(wait_until(lambda: inventory_page(proxy)["applies"], timeout=10))
        self.manager.fail_next = ["500"] * 1000
        self.assertTrue(wait_until(lambda: not inventory_page(proxy)["applies"], timeout=15))
        self.assertEqual(connect(proxy, AGENT_20, SPN_20), 403)
        self.assertIn("it no longer applies", proxy.stderr_text())
        # The manager answers again, with the list it had: it applies again.
        self.manager.fail_next = []
        self.assertTrue(wait_until(lambda: inventory_page(proxy)["applies"], timeout=15))
        self.assertEqual(connect(proxy, AGENT_20, SPN_20), 200)

    def test_the_inventory_command_prints_what_the_manager_says(self):
        config = site(self.dir, self.manager)
        text = subprocess.run([CHOKEPOINT, "inventory", "--config", config], capture_output=True,
                              text=True, timeout=30)
        self.assertEqual(text.returncode, 0, text.stderr)
        self.assertIn("%s\tRelay 01\t3\trelay\t20.0.1-690" % RELAY, text.stdout)
        self.assertIn("%s\tambiguous: computers 5 6" % SHARED, text.stdout)
        listing = subprocess.run([CHOKEPOINT, "inventory", "--config", config, "--format", "json"],
                                 capture_output=True, text=True, timeout=30)
        self.assertEqual(json.loads(listing.stdout)["clients"], 5)
        # A key others can read is refused before anything is asked.
        os.chmod(os.path.join(self.dir, "dsm.key"), 0o644)
        asked = len(self.manager.searches())
        refused = subprocess.run([CHOKEPOINT, "inventory", "--config", config], capture_output=True,
                                 text=True, timeout=30)
        self.assertEqual(refused.returncode, 2)
        self.assertIn("dsm.key", refused.stderr)
        self.assertEqual(len(self.manager.searches()), asked)

    def test_explain_asks_the_manager_who_a_client_is(self):
        config = site(self.dir, self.manager)

        def explain(client, target):
            done = subprocess.run([CHOKEPOINT, "explain", "--config", config, "--client", client,
                                   target], capture_output=True, text=True, timeout=30)
            return done.returncode, json.loads(done.stdout), done.stderr

        code, answer, _ = explain(AGENT_20, SPN_20 + ":443")
        self.assertEqual(code, 0)
        self.assertEqual((answer["identity"], answer["computer"], answer["computer_id"],
                          answer["version"]), ("inventory", "agent20.corp.example", 1, "20.0.1-690"))
        code, answer, _ = explain(AGENT_12, SPN_20 + ":443")
        self.assertEqual((code, answer["identity"], answer["computer_id"]), (1, "inventory", 2))
        code, answer, _ = explain(UNKNOWN, SPN_20 + ":443")
        self.assertEqual((code, answer["identity"]), (1, "cidr"))
        self.assertNotIn("computer", answer)
        # The manager down: said, and the clients entries decide.
        self.manager.stop()
        code, answer, stderr = explain(AGENT_20, SPN_20 + ":443")
        self.assertEqual((code, answer["identity"]), (1, "cidr"))
        self.assertIn("could not be fetched", stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
