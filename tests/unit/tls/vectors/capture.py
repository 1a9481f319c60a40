"""Captures the first flight (the ClientHello) of real TLS clients, for the
parser's test vectors. Each client connects to a local listener that records
bytes until one complete handshake message has arrived, then closes.

    python3 capture.py OUT_DIR [client ...]

Clients: gnutls, curl, python, chromium (needs Debian's chromium). Nothing
leaves the machine: every client is pointed at 127.0.0.1."""

import os
import socket
import ssl
import subprocess
import sys
import threading

SNI = "ds20.icrc.trendmicro.com"


def read_hello(conn):
    data = b""
    conn.settimeout(20)
    while True:
        # Reassemble handshake bytes across records until the message length is met.
        payload, at = b"", 0
        while at + 5 <= len(data):
            length = int.from_bytes(data[at + 3:at + 5], "big")
            payload += data[at + 5:at + 5 + length]
            at += 5 + length
        if len(payload) >= 4 and len(payload) >= 4 + int.from_bytes(payload[1:4], "big") and at <= len(data):
            return data[:at]
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk


def capture(name, run_client, out_dir):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    result = {}

    def serve():
        conn, _ = listener.accept()
        with conn:
            result["hello"] = read_hello(conn)

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        run_client(port)
    except Exception as e:  # the client fails once we hang up; that is expected
        print(name, "client ended:", type(e).__name__)
    thread.join(30)
    listener.close()
    path = os.path.join(out_dir, name + ".bin")
    with open(path, "wb") as f:
        f.write(result["hello"])
    print(name, len(result["hello"]), "bytes ->", path)


def gnutls(port):
    subprocess.run(["gnutls-cli", "--insecure", "--port", str(port), "--sni-hostname", SNI, "--alpn", "http/1.1",
                    "127.0.0.1"], input=b"", capture_output=True, timeout=30)


def curl(port):
    subprocess.run(["curl", "-sk", "--max-time", "10", "--connect-to", "%s:443:127.0.0.1:%d" % (SNI, port),
                    "https://%s/" % SNI], capture_output=True, timeout=30)


def python(port):
    context = ssl.create_default_context()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        with context.wrap_socket(sock, server_hostname=SNI):
            pass


def chromium(port):
    profile = "/tmp/chokepoint-chromium-profile"
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--user-data-dir=" + profile, "--host-resolver-rules=MAP %s 127.0.0.1:%d" % (SNI, port),
                    "--timeout=5000", "--dump-dom", "https://%s/" % SNI], capture_output=True, timeout=60)


if __name__ == "__main__":
    out = sys.argv[1]
    clients = sys.argv[2:] or ["gnutls", "curl", "python", "chromium"]
    for name in clients:
        capture(name, globals()[name], out)
