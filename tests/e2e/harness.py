"""Real parts for end-to-end tests: the chokepoint binary, TLS and plain HTTP
upstreams, a raw TCP server, and the audit log they leave. Everything binds
port 0 on loopback; nothing leaves the machine."""

import hashlib
import http.server
import json
import os
import shutil
import signal
import socket
import socketserver
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

CHOKEPOINT = os.environ.get("CHOKEPOINT_BIN", "build/chokepoint")

# The files tests write get the modes the tests expect whatever umask the
# caller (a CI runner) has: chokepoint refuses a config or users file its
# group can write, or one in such a directory.
os.umask(0o022)


def private_copy(*paths):
    """Copies of files of the source tree in a directory of their own, under
    their relative paths: a checkout may sit below a directory its group can
    write, or come with group-writable files (git under umask 002), where
    chokepoint refuses a config. Returns the copies' paths."""
    source = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    directory = tempfile.mkdtemp(prefix="chokepoint-copy-")
    copies = []
    for path in paths:
        copy = os.path.join(directory, path)
        os.makedirs(os.path.dirname(copy), exist_ok=True)
        shutil.copyfile(os.path.join(source, path), copy)
        copies.append(copy)
    return copies
PKI = os.environ.get("CHOKEPOINT_PKI", "build/pki")
CA = os.path.join(PKI, "ca.pem")


def wait_until(predicate, timeout=5.0, interval=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


class Proxy:
    """chokepoint run, on 127.0.0.1:0 unless told otherwise, auditing to a file."""

    def __init__(self, *args, listen="127.0.0.1:0", threads=2, config=None, netns=None,
                 admin="127.0.0.1:0", preexec_fn=None, audit_log=None):
        self.dir = tempfile.mkdtemp(prefix="chokepoint-e2e-")
        self.audit_path = audit_log or os.path.join(self.dir, "audit.jsonl")
        prefix = ["ip", "netns", "exec", netns] if netns else []
        cmd = prefix + [CHOKEPOINT, "run", "--audit-log", self.audit_path, "--threads", str(threads)]
        if listen:
            cmd += ["--listen", listen]
        if config:
            cmd += ["--config", config]
        if admin:
            cmd += ["--admin", admin]
        cmd += list(args)
        self.proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, preexec_fn=preexec_fn)
        self.stderr_lines = []
        self.endpoints = []
        self.admin_url = None
        while True:
            line = self.proc.stderr.readline()
            if not line:
                raise RuntimeError("chokepoint exited: " + "".join(self.stderr_lines))
            self.stderr_lines.append(line)
            if "listening on" in line:
                self.endpoints.append(line.split("listening on ")[1].split(" ")[0])
            if "admin on " in line:
                self.admin_url = line.split("admin on ")[1].split(" ")[0]
            if line.startswith("chokepoint: policy"):
                break
        self._drain = threading.Thread(target=self._read_stderr, daemon=True)
        self._drain.start()
        host, port = self.endpoints[0].rsplit(":", 1)
        self.host = host.strip("[]")
        self.port = int(port)
        self.url = "http://%s:%d" % (host, self.port)

    def _read_stderr(self):
        for line in self.proc.stderr:
            self.stderr_lines.append(line)

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout)
        self._drain.join(timeout=2)
        return self.proc.returncode

    def admin(self, path, method="GET", timeout=10):
        """(status, body text) of an admin endpoint request."""
        request = urllib.request.Request(self.admin_url + path, method=method)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def stderr_text(self):
        return "".join(self.stderr_lines)

    def records(self):
        try:
            with open(self.audit_path) as f:
                return [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            return []

    def wait_records(self, predicate, count=1, timeout=5.0):
        """Records matching predicate, once at least `count` of them exist."""
        def matching():
            found = [r for r in self.records() if predicate(r)]
            return found if len(found) >= count else None
        return wait_until(matching, timeout) or [r for r in self.records() if predicate(r)]

    def connect(self):
        return socket.create_connection((self.host, self.port), timeout=10)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _send(self, status, body, headers=()):
        self.send_response(status)
        self.send_header("X-Server-Name", self.server.name)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):
        self.server.seen.append((self.command, self.path, dict(self.headers.items())))
        if self.path.startswith("/big/"):
            size = int(self.path.split("/")[2])
            self._send(200, b"x" * size)
            return
        if self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"hello ", b"chunked ", b"world"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
            return
        body = ("hello from %s path %s" % (self.headers.get("Host"), self.path)).encode()
        self._send(200, body, [("Content-Type", "text/plain")])

    do_HEAD = do_GET

    def do_POST(self):
        self.server.seen.append((self.command, self.path, dict(self.headers.items())))
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    break
                data += self.rfile.read(size)
                self.rfile.readline()
        else:
            data = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self._send(200, b"echo " + hashlib.sha256(data).hexdigest().encode() + b" %d" % len(data))


class _ThreadingServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class _ThreadingServer6(_ThreadingServer):
    address_family = socket.AF_INET6


class HttpUpstream:
    """A plain HTTP server (ActiveUpdate-like) on 127.0.0.1:0."""

    def __init__(self, tls=False, require_client_cert=False, address=("127.0.0.1", 0), name="upstream"):
        server_class = _ThreadingServer6 if ":" in address[0] else _ThreadingServer
        self.server = server_class(address, _Handler)
        self.server.seen = []
        self.server.name = name
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(os.path.join(PKI, "server.pem"), os.path.join(PKI, "server.key"))
            if require_client_cert:
                context.verify_mode = ssl.CERT_REQUIRED
                context.load_verify_locations(CA)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def seen(self):
        return self.server.seen

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class EchoUpstream:
    """Raw TCP: reads until the client's FIN, then answers with the count and
    a digest of what it got (after `banner`, if any) and closes."""

    def __init__(self, banner=b""):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.banner = banner
        self.received = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn):
        with conn:
            if self.banner:
                conn.sendall(self.banner)
            data = b""
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
            self.received.append(data)
            conn.sendall(b"got %d %s" % (len(data), hashlib.sha256(data).hexdigest().encode()))

    def stop(self):
        stop_listening(self.listener, self.thread)


def stop_listening(listener, thread):
    """Ends the accept loop `thread` runs on `listener`, then closes it.
    Closed first, the descriptor's number could go to the next test's
    listener while the loop was on its way into accept(), and the loop
    would take that test's connections (seen: a tunnel's bytes counted by
    the echo server of the test before)."""
    try:
        listener.shutdown(socket.SHUT_RDWR)  # wakes accept(); later calls fail at once
    except OSError:
        pass
    thread.join(timeout=5)
    listener.close()


def read_http_response(sock):
    """Status code, headers (lowercase names) and body of one response with
    Content-Length (the proxy's own answers always have one)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1]) if lines and len(lines[0].split(" ")) > 1 else 0
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, headers, body


def tls_get(sock, name, path="/"):
    """A TLS session named `name` on `sock` (verified against the test CA),
    one GET: the response text, read to the server's close."""
    context = ssl.create_default_context(cafile=CA)
    with context.wrap_socket(sock, server_hostname=name) as tls:
        tls.sendall(b"GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % (path.encode(), name.encode()))
        data = b""
        while True:
            chunk = tls.recv(65536)
            if not chunk:
                break
            data += chunk
        return data.decode("latin-1")
