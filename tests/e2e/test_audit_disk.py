"""The audit file on a disk that fills up and gets space back (issue 15,
points 5 and 6): a 256 KiB tmpfs, mostly taken by a filler file the test
removes later. Needs `mount` (root with CAP_SYS_ADMIN, as in CI); skipped
with the reason elsewhere.

With --audit-on-failure continue (the default) the proxy serves on: every
line of the file still parses as JSON, the file sink's written plus lost is
exactly what was emitted, and stderr says so in a few lines, not one per
failed write. With refuse, new connections are refused (503
audit_unavailable, SOCKS5 0x01, a close on the SNI listener) and /readyz
says 503 while the file cannot be written; an open tunnel keeps relaying;
serving resumes by itself once there is room, and every connection that
was let out has its open record in the file."""

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import unittest

from harness import EchoUpstream, Proxy, read_http_response, wait_until
from test_operations import metrics, sample

SIZE = 256 * 1024


class SmallDisk:
    """A tmpfs of SIZE bytes, and a filler file that leaves `free` bytes of it."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="chokepoint-disk-")
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%d" % SIZE, "tmpfs", self.dir],
                              capture_output=True, text=True)
        self.mounted = done.returncode == 0
        self.why = done.stderr.strip()
        self.audit = os.path.join(self.dir, "audit.jsonl")
        self.filler = os.path.join(self.dir, "filler")

    def fill(self, free):
        """Grows the filler until at most `free` bytes are left."""
        with open(self.filler, "ab") as f:
            while True:
                st = os.statvfs(self.dir)
                room = st.f_bavail * st.f_frsize
                if room <= free:
                    return
                try:
                    f.write(b"f" * min(4096, room - free))
                    f.flush()
                except OSError:
                    return

    def free_space(self):
        os.remove(self.filler)

    def close(self):
        if self.mounted:
            subprocess.run(["umount", "-l", self.dir], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


def tunnel(proxy, host="files.trendmicro.com", port=443):
    """A CONNECT through the proxy: (socket, status, headers)."""
    sock = proxy.connect()
    sock.sendall(b"CONNECT %s:%d HTTP/1.1\r\nHost: %s:%d\r\n\r\n" % (host.encode(), port, host.encode(), port))
    status, headers, _ = read_http_response(sock)
    return sock, status, headers


def round_trip(sock, payload):
    """Sends payload, half-closes, returns what came back (the echo's count, or nothing)."""
    try:
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return answer
            answer += chunk
    except OSError:
        return b""


def file_sink(m):
    written = [v for k, v in m.items() if k[0] == "chokepoint_audit_records_written_total"]
    lost = [v for k, v in m.items() if k[0] == "chokepoint_audit_records_lost_total"]
    emitted = sum(v for k, v in m.items() if k[0] == "chokepoint_audit_events_total")
    return written[0], lost[0], sample(m, "chokepoint_audit_records_dropped_total"), emitted


def settled(proxy, emitted):
    """`emitted` records emitted, and each of them written or counted lost."""
    written, lost, dropped, counted = file_sink(metrics(proxy))
    return counted == emitted and written + lost + dropped == emitted


def parse_lines(path):
    """Every line of the file as JSON (a line that does not parse fails the test)."""
    with open(path) as f:
        text = f.read()
    assert text == "" or text.endswith("\n"), repr(text[-200:])
    return [json.loads(line) for line in text.splitlines()]


class FullDiskTest(unittest.TestCase):
    def setUp(self):
        self.disk = SmallDisk()
        if not self.disk.mounted:
            self.disk.close()
            if os.environ.get("CHOKEPOINT_REQUIRE_PRIVILEGED") == "1":  # CI: must not skip
                self.fail("cannot mount a small tmpfs (%s)" % self.disk.why)
            self.skipTest("cannot mount a small tmpfs here (%s); CI runs this as root" % self.disk.why)
        self.echo = EchoUpstream()

    def tearDown(self):
        self.echo.stop()
        self.disk.close()

    def test_a_full_disk_leaves_only_whole_lines_and_counts_every_loss(self):
        proxy = Proxy("--connect-to", "::127.0.0.1:%d" % self.echo.port, audit_log=self.disk.audit)
        try:
            self.disk.fill(24 * 1024)
            made = 0
            # Until the disk has refused records for a while (each connection
            # leaves two records of about 700 bytes).
            while made < 400:
                sock, status, _ = tunnel(proxy)
                self.assertEqual(status, 200)  # serving goes on
                self.assertTrue(round_trip(sock, b"ping").startswith(b"got 4 "))
                sock.close()
                made += 1
                if made % 10 == 0 and file_sink(metrics(proxy))[1] >= 60:
                    break
            # Every record of those connections dealt with (written or lost).
            self.assertTrue(wait_until(lambda: settled(proxy, 2 * made), timeout=10), file_sink(metrics(proxy)))
            lost_while_full = file_sink(metrics(proxy))[1]
            self.assertGreaterEqual(lost_while_full, 60)

            self.disk.free_space()
            after = []
            for _ in range(20):
                sock, status, _ = tunnel(proxy)
                self.assertEqual(status, 200)
                after.append("127.0.0.1:%d" % sock.getsockname()[1])
                self.assertTrue(round_trip(sock, b"ping").startswith(b"got 4 "))
                sock.close()
            # Every record emitted is written or counted lost, exactly.
            self.assertTrue(wait_until(lambda: settled(proxy, 2 * (made + 20)), timeout=10),
                            file_sink(metrics(proxy)))
            written, lost, dropped, emitted = file_sink(metrics(proxy))
            self.assertEqual(dropped, 0)
            self.assertEqual(written + lost, emitted)
            records = parse_lines(self.disk.audit)
            self.assertEqual(len(records), written)
            self.assertEqual(lost, lost_while_full)  # nothing lost once there was room
            # The connections made after space came back left both their records.
            for client in after:
                events = sorted(r["event"] for r in records if r["client"] == client)
                self.assertEqual(events, ["close", "open"], client)
        finally:
            self.assertEqual(proxy.stop(), 0)
        said = proxy.stderr_text()
        # Dozens of failed writes; a handful of lines about them.
        failures = [line for line in said.splitlines() if "audit:" in line]
        self.assertLessEqual(len(failures), 6, said)
        self.assertIn("failed: No space left on device", said)
        self.assertIn("works again after", said)
        self.assertEqual(len(parse_lines(self.disk.audit)), written)

    def test_refuse_fails_closed_while_the_disk_is_full_and_resumes_by_itself(self):
        proxy = Proxy("--audit-on-failure", "refuse", "--connect-to", "::127.0.0.1:%d" % self.echo.port,
                      "--socks-listen", "127.0.0.1:0", "--sni-listen", "127.0.0.1:0", audit_log=self.disk.audit)
        let_out = []  # the client address of every connection whose bytes reached the echo
        try:
            self.assertEqual(proxy.admin("/readyz"), (200, "ready\n"))
            held, status, _ = tunnel(proxy)
            self.assertEqual(status, 200)
            held_client = "127.0.0.1:%d" % held.getsockname()[1]
            let_out.append(held_client)
            held.sendall(b"before ")

            self.disk.fill(8 * 1024)
            refused = None
            for _ in range(200):
                sock, status, headers = tunnel(proxy)
                client = "127.0.0.1:%d" % sock.getsockname()[1]
                if status == 503:
                    refused = headers
                    sock.close()
                    break
                self.assertEqual(status, 200)
                if round_trip(sock, b"ping").startswith(b"got 4 "):
                    let_out.append(client)
                sock.close()
            self.assertIsNotNone(refused, "never refused")
            self.assertIn("audit_unavailable", refused["proxy-status"])
            self.assertIn("retry-after", refused)

            status, body = proxy.admin("/readyz")
            self.assertEqual(status, 503)
            self.assertIn("audit_unavailable", body)
            self.assertIn("No space left on device", body)
            sock, status, headers = tunnel(proxy)
            sock.close()
            self.assertEqual(status, 503)
            # SOCKS5: the method, then the request, then 0x01 (general failure).
            socks_host, socks_port = [l for l in proxy.stderr_lines if "(socks)" in l][0] \
                .split("listening on ")[1].split(" ")[0].rsplit(":", 1)
            with socket.create_connection((socks_host, int(socks_port)), timeout=10) as s:
                s.sendall(b"\x05\x01\x00")
                self.assertEqual(s.recv(2), b"\x05\x00")
                s.sendall(b"\x05\x01\x00\x03\x14files.trendmicro.com\x01\xbb")
                self.assertEqual(s.recv(2), b"\x05\x01")
            # The SNI listener (transparent-style): closed without a byte.
            sni_host, sni_port = [l for l in proxy.stderr_lines if "(sni)" in l][0] \
                .split("listening on ")[1].split(" ")[0].rsplit(":", 1)
            with socket.create_connection((sni_host, int(sni_port)), timeout=10) as s:
                self.assertEqual(s.recv(100), b"")
            self.assertIn("audit_unavailable", proxy.admin("/")[1])

            # The tunnel opened before keeps relaying.
            held.sendall(b"during")

            self.disk.free_space()
            self.assertTrue(wait_until(lambda: proxy.admin("/readyz")[0] == 200, timeout=10))
            sock, status, _ = tunnel(proxy)
            self.assertEqual(status, 200)
            client = "127.0.0.1:%d" % sock.getsockname()[1]
            self.assertTrue(round_trip(sock, b"ping").startswith(b"got 4 "))
            let_out.append(client)
            sock.close()
            self.assertTrue(round_trip(held, b"").startswith(b"got 13 "))
            held.close()
            self.assertTrue(wait_until(
                lambda: any(r["event"] == "close" and r["client"] == held_client for r in proxy.records())))
            m = metrics(proxy)
            self.assertGreater(sample(m, "chokepoint_refusals_total", reason="audit_unavailable"), 0)
            written, lost, dropped, emitted = file_sink(m)
            self.assertGreater(lost, 0)  # the refusals' own records, among others
        finally:
            self.assertEqual(proxy.stop(), 0)
        records = parse_lines(self.disk.audit)
        opened = {r["client"] for r in records if r["event"] == "open"}
        # No connection was let out without its record.
        for client in let_out:
            self.assertIn(client, opened)
        # Every payload that reached the upstream came from one of them.
        self.assertEqual(len([d for d in self.echo.received if d]), len(let_out))


if __name__ == "__main__":
    unittest.main()
