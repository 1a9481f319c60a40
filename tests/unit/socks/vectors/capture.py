"""Captures what real SOCKS clients send, for the handshake parser's test
vectors. Each client talks to a throwaway SOCKS server on 127.0.0.1 that
answers just enough of the protocol (the method the client offers, success
for credentials and for the request, a bound address of 127.0.0.1) and then
records the client's first payload bytes. The file written is every byte the
client sent, in order: greeting, credentials, request, then early data.

    /usr/bin/python3 capture.py OUT_DIR [client ...]

Needs curl and Debian's python3-socks. Nothing leaves the machine: every
client is pointed at the local listener, which never dials the destination.
"""

import os
import socket
import subprocess
import sys
import threading

NAME = "ds20.icrc.trendmicro.com"
USER, PASSWORD = "agent-7", "s3cret!pass"


class Recorder:
    def __init__(self, conn):
        self.conn, self.data, self.at = conn, b"", 0

    def take(self, n):
        while len(self.data) - self.at < n:
            chunk = self.conn.recv(65536)
            if not chunk:
                raise EOFError("client closed after %d bytes" % len(self.data))
            self.data += chunk
        out = self.data[self.at:self.at + n]
        self.at += n
        return out

    def take_until_nul(self):
        out = b""
        while True:
            b = self.take(1)
            if b == b"\0":
                return out
            out += b

    def early_data(self):
        # The client speaks first after a CONNECT (HTTP request or ClientHello).
        self.conn.settimeout(3)
        try:
            while len(self.data) == self.at:
                chunk = self.conn.recv(65536)
                if not chunk:
                    return
                self.data += chunk
            self.conn.settimeout(0.3)
            while True:
                chunk = self.conn.recv(65536)
                if not chunk:
                    return
                self.data += chunk
        except socket.timeout:
            return


def serve_socks(conn):
    r = Recorder(conn)
    version = r.take(1)[0]
    if version == 5:
        methods = r.take(r.take(1)[0])
        method = 2 if 2 in methods else 0
        conn.sendall(bytes([5, method]))
        if method == 2:
            r.take(1)
            r.take(r.take(1)[0])
            r.take(r.take(1)[0])
            conn.sendall(b"\x01\x00")
        _, _, _, atyp = r.take(4)
        r.take({1: 4, 4: 16}.get(atyp) or r.take(1)[0])
        r.take(2)
        conn.sendall(b"\x05\x00\x00\x01\x7f\x00\x00\x01\x04\x38")
    else:
        _, port, ip = r.take(1), r.take(2), r.take(4)
        r.take_until_nul()
        if ip[:3] == b"\0\0\0" and ip[3] != 0:
            r.take_until_nul()
        conn.sendall(b"\x00\x5a" + port + ip)
    r.early_data()
    return r.data


def capture(name, run_client, out_dir):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    result = {}

    def serve():
        conn, _ = listener.accept()
        with conn:
            result["bytes"] = serve_socks(conn)

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        run_client(port)
    except Exception as e:  # the client gives up once we hang up; expected
        print(name, "client ended:", type(e).__name__)
    thread.join(30)
    listener.close()
    path = os.path.join(out_dir, name + ".bin")
    with open(path, "wb") as f:
        f.write(result["bytes"])
    print(name, len(result["bytes"]), "bytes ->", path)


def curl(*args):
    def run(port):
        proxy = "127.0.0.1:%d" % port
        argv = ["curl", "-s", "-k", "--max-time", "4"]
        for a in args:
            argv.append(a.replace("PROXY", proxy))
        subprocess.run(argv, capture_output=True, timeout=30)
    return run


def pysocks(kind, rdns, host, port, username=None, password=None, payload=b""):
    import socks  # Debian's python3-socks (PySocks)

    def run(proxy_port):
        s = socks.socksocket()
        s.settimeout(5)
        s.set_proxy(kind, "127.0.0.1", proxy_port, rdns=rdns, username=username, password=password)
        s.connect((host, port))
        s.sendall(payload)
        try:
            s.recv(1)
        finally:
            s.close()
    return run


def clients():
    import socks
    hello = b"GET /healthz HTTP/1.1\r\nHost: " + NAME.encode() + b"\r\n\r\n"
    return {
        "curl_socks5_ipv4": curl("--socks5", "PROXY", "http://192.0.2.10/"),
        "curl_socks5_ipv6": curl("--socks5", "PROXY", "http://[2001:db8::10]:8080/"),
        "curl_socks5_hostname": curl("--socks5-hostname", "PROXY", "https://%s/" % NAME),
        "curl_socks5_userpass": curl("--socks5-hostname", "PROXY", "--proxy-user",
                                     "%s:%s" % (USER, PASSWORD), "https://%s/" % NAME),
        "curl_socks4": curl("--socks4", "PROXY", "http://192.0.2.10/"),
        "curl_socks4_user": curl("--socks4", "PROXY", "--proxy-user", USER + ":", "http://192.0.2.10/"),
        "curl_socks4a": curl("--socks4a", "PROXY", "http://%s:4119/" % NAME),
        "curl_socks4a_user": curl("--socks4a", "PROXY", "--proxy-user", USER + ":",
                                  "http://%s:4119/" % NAME),
        "python_socks5_domain": pysocks(socks.SOCKS5, True, NAME, 443, payload=hello),
        "python_socks5_userpass": pysocks(socks.SOCKS5, True, NAME, 443, USER, PASSWORD, hello),
        "python_socks5_ipv4": pysocks(socks.SOCKS5, False, "192.0.2.10", 80, payload=hello),
        "python_socks4a": pysocks(socks.SOCKS4, True, NAME, 80, USER, payload=hello),
        "python_socks4": pysocks(socks.SOCKS4, False, "192.0.2.10", 80, payload=hello),
    }


def main():
    out_dir = sys.argv[1]
    table = clients()
    for name in sys.argv[2:] or table:
        capture(name, table[name], out_dir)


if __name__ == "__main__":
    main()
