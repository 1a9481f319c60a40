"""A Deep Security Manager for tests and benchmarks: the part of its REST API
(v1) that chokepoint reads, over HTTPS with the test PKI's certificate
(certs/gen-test-pki.sh: it names 127.0.0.1 and dsm.corp.example).

    POST /api/computers/search?expand=...   {"maxItems": N, "searchCriteria":
        [{"idTest": "greater-than", "idValue": ID}], "sortByObjectID": true}
    -> {"computers": [...]}: the computers with a larger ID, ascending, at most N

as Trend's SDK models it (seen through its generated Python SDK and its
samples; nothing here was run against a real manager). The key is checked as
a manager would: `api-secret-key: KEY` (on premises) or `Authorization:
ApiKey KEY` (SaaS), and `api-version: v1`; anything else is a 401.

With `chunked`, pages come in chunks without a Content-Length. A test sets
what the next requests meet (`fail_next`): "429" (with
Retry-After), "401", "500", "slow" (an answer after `slow_seconds`),
"truncated" (half a body, then the close), "garbage" (not JSON), "huge"
(a body larger than any page should be). Every request is kept in
`requests` (path, headers, body), so a test can count what a refresh cost;
`connections` counts the TLS connections accepted. With `idle_timeout`
(seconds), a connection quiet for that long is closed without a word, as a
real server's keep-alive timeout does.

    manager_server.py COMPUTERS [--changing]
        serves COMPUTERS generated computers on a free port (prints "port N",
        then "ready"), for the bench; with --changing, the first computer's
        agent version changes before every refresh (every search from the
        first ID). A line "searches" on its input asks how many searches it
        has answered.
"""

import bisect
import http.server
import json
import os
import socketserver
import ssl
import sys
import threading
import time

PKI = os.environ.get("CHOKEPOINT_PKI", "build/pki")


def computer(id, host, version="20.0.1.690", addresses=(), interfaces=(), relay=None, ec2=None,
             display=""):
    """One Computer as the API writes it (`interfaces` entries are lists of
    IPs, in whatever form the test wants: bare or with a prefix)."""
    c = {"ID": id, "hostName": host, "displayName": display, "agentVersion": version,
         "lastIPUsed": addresses[0] if addresses else "", "platform": "Linux", "groupID": 0,
         "policyID": 1, "relayListID": 0,
         "computerStatus": {"agentStatus": "active" if version != "0.0.0.0" else "inactive",
                            "agentStatusMessages": ["Managed (Online)"]}}
    if interfaces:
        c["interfaces"] = {"interfaces": [{"name": "eth%d" % i, "MAC": "02:00:00:00:00:%02x" % i,
                                           "DHCP": True, "ID": 100 + i, "IPs": list(ips)}
                                          for i, ips in enumerate(interfaces)]}
    if ec2:
        c["ec2VirtualMachineSummary"] = {"privateIPAddress": ec2, "accountID": "123456789012"}
    if relay is not None:
        c["computerSettings"] = {"platformSettingRelayState": {"value": "true" if relay else "false"}}
    return c


def generated(count, first_id=1):
    """`count` agents on 10.x.y.z, every tenth of them a relay."""
    out = []
    for i in range(count):
        a = 10 << 24 | (i + 1)
        address = "%d.%d.%d.%d" % (a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255)
        out.append(computer(first_id + i, "host-%d.corp.example" % i,
                            "20.0.1.690" if i % 3 else "12.0.0.1234",
                            interfaces=[[address + "/16"]], relay=(i % 10 == 0)))
    return out


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        manager = self.server.manager
        with manager.lock:
            manager.connections += 1
        # A read that waits longer ends the connection (handle_one_request).
        self.timeout = manager.idle_timeout
        super().setup()

    def log_message(self, *args):
        pass

    def _send(self, status, body, headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        manager = self.server.manager
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        with manager.lock:
            manager.requests.append((self.path, dict(self.headers.items()), body))
            failure = manager.fail_next.pop(0) if manager.fail_next else None
        if not self.path.startswith(manager.prefix + "/computers/search"):
            self._send(404, b'{"message": "not found"}')
            return
        authorized = (self.headers.get("api-secret-key") == manager.key
                      or self.headers.get("Authorization") == "ApiKey " + manager.key)
        if not authorized or self.headers.get("api-version") != "v1" or failure == "401":
            self._send(401, b'{"message": "Authentication required."}')
            return
        if failure == "429":
            self._send(429, b'{"message": "Too many API requests."}',
                       [("Retry-After", str(manager.retry_after))])
            return
        if failure == "500":
            self._send(500, b'{"message": "Internal server error."}')
            return
        if failure == "slow":
            time.sleep(manager.slow_seconds)
        if failure == "garbage":
            self._send(200, b"<html>maintenance</html>")
            return
        if failure == "huge":
            self._send(200, b'{"computers": [' + b" " * (80 << 20) + b"]}")
            return
        search = json.loads(body or b"{}")
        after = 0
        for criteria in search.get("searchCriteria", []):
            if criteria.get("idTest") == "greater-than":
                after = int(criteria.get("idValue", 0))
        answer = manager.page(after, int(search.get("maxItems", 5000)))
        if failure == "truncated":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer[:len(answer) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        if manager.chunked:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for at in range(0, len(answer), 65536):
                piece = answer[at:at + 65536]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
            return
        self._send(200, answer)


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class Manager:
    """A manager on 127.0.0.1, a free port, speaking HTTPS."""

    def __init__(self, computers=(), key="test-api-key", prefix="/api"):
        self.lock = threading.Lock()
        self.set_computers(computers)
        self.key = key
        self.prefix = prefix
        self.requests = []
        self.fail_next = []
        self.retry_after = 1
        self.slow_seconds = 3
        self.changing = False
        self.chunked = False  # answers without Content-Length, in chunks
        self.connections = 0
        self.idle_timeout = None
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.manager = self
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(os.path.join(PKI, "server.pem"), os.path.join(PKI, "server.key"))
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.url = "https://127.0.0.1:%d%s" % (self.port, prefix)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def set_computers(self, computers):
        with self.lock:
            self.computers = sorted(computers, key=lambda c: c["ID"])
            self.ids = [c["ID"] for c in self.computers]
            # Each page is rendered once per list: a benchmark that asks
            # every second measures chokepoint, not this server's json.dumps.
            self.pages = {}

    def page(self, after, limit):
        """The body answering a search for IDs above `after`, at most `limit`."""
        with self.lock:
            if self.changing and after == 0 and self.computers:
                # (The dict is the caller's: only the bench's own list changes.)
                lowest = self.computers[0]
                lowest["agentVersion"] = "20.0.1.691" if lowest["agentVersion"] != "20.0.1.691" else "20.0.1.690"
                self.pages.pop((after, limit), None)
            if (after, limit) not in self.pages:
                start = bisect.bisect_right(self.ids, after)
                self.pages[(after, limit)] = json.dumps(
                    {"computers": self.computers[start:start + limit]}).encode()
            return self.pages[(after, limit)]

    def searches(self):
        with self.lock:
            return [r for r in self.requests if r[0].startswith(self.prefix + "/computers/search")]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


if __name__ == "__main__":
    manager = Manager(generated(int(sys.argv[1])))
    manager.changing = "--changing" in sys.argv[2:]
    print("port %d" % manager.port, flush=True)
    print("ready", flush=True)
    try:
        for line in sys.stdin:
            if line.strip() == "searches":
                print(len(manager.searches()), flush=True)
        while True:  # no input (started in the background): serve on
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
