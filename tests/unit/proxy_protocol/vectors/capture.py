"""Captures the PROXY protocol headers that real load balancers send, for the
header parser's test vectors: HAProxy (send-proxy, send-proxy-v2, with the
crc32c and unique-id TLVs, and the LOCAL header of its health checks) and
nginx's stream module (proxy_protocol on). Each balancer listens on loopback
in front of a throwaway recorder; a client sends one line through it and the
recorder keeps every byte that arrived: the header, then the client's line.

    /usr/bin/python3 capture.py OUT_DIR

Needs Debian's haproxy, nginx-light and libnginx-mod-stream. Nothing leaves
the machine: balancers, recorders and clients are all on 127.0.0.1 and ::1.
"""

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

PAYLOAD = b"hello from the client\n"
CHECK = b"check\n"


def free_port(family=socket.AF_INET, host="127.0.0.1"):
    with socket.socket(family) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class Recorder:
    """Accepts connections on 127.0.0.1 and keeps the bytes of each."""

    def __init__(self, until=PAYLOAD):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        self.until = until
        self.connections = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            data = b""
            conn.settimeout(2)
            try:
                while not data.endswith(self.until):
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            except socket.timeout:
                pass
            conn.close()
            self.connections.append(data)

    def first(self, timeout=10):
        deadline = time.time() + timeout
        while not self.connections and time.time() < deadline:
            time.sleep(0.05)
        return self.connections[0] if self.connections else None


def send_through(host, port, family=socket.AF_INET):
    deadline = time.time() + 10
    while True:
        try:
            with socket.socket(family) as s:
                s.connect((host, port))
                s.sendall(PAYLOAD)
                time.sleep(0.3)
                return
        except ConnectionRefusedError:
            if time.time() > deadline:
                raise
            time.sleep(0.1)


def save(out_dir, name, data):
    path = os.path.join(out_dir, name + ".bin")
    with open(path, "wb") as f:
        f.write(data)
    print(name, len(data), "bytes ->", path)


def haproxy(out_dir, work):
    # name: (server options, frontend bind on IPv6?)
    cases = {
        "haproxy_v1_tcp4": ("send-proxy", False),
        "haproxy_v1_tcp6": ("send-proxy", True),
        "haproxy_v2_tcp4": ("send-proxy-v2", False),
        "haproxy_v2_tcp6": ("send-proxy-v2", True),
        "haproxy_v2_tlvs": ("send-proxy-v2 proxy-v2-options crc32c,unique-id", False),
    }
    # A health check sends its header only with something to send after it.
    checks = {
        "haproxy_v2_local_check": "send-proxy-v2 check check-send-proxy inter 300ms",
        "haproxy_v1_check": "send-proxy check check-send-proxy inter 300ms",
    }
    config = ["global", "  log stderr format raw local0 warning",
              "defaults", "  mode tcp", "  timeout connect 2s", "  timeout client 5s",
              "  timeout server 5s", "  unique-id-format cp-%{+X}o%ci:%cp_%fi:%fp_%Ts_%rt"]
    recorders, fronts = {}, {}
    for name, (options, v6) in cases.items():
        recorders[name] = Recorder()
        fronts[name] = (free_port(socket.AF_INET6, "::1") if v6 else free_port(), v6)
        bind = "[::1]:%d" % fronts[name][0] if v6 else "127.0.0.1:%d" % fronts[name][0]
        config += ["listen %s" % name, "  bind %s" % bind,
                   "  server s 127.0.0.1:%d %s" % (recorders[name].port, options)]
    for name, options in checks.items():
        recorders[name] = Recorder(until=CHECK)
        config += ["listen %s" % name, "  bind 127.0.0.1:%d" % free_port(),
                   "  option tcp-check", "  tcp-check send check\\n",
                   "  server s 127.0.0.1:%d %s" % (recorders[name].port, options)]
    path = os.path.join(work, "haproxy.cfg")
    with open(path, "w") as f:
        f.write("\n".join(config) + "\n")
    proc = subprocess.Popen(["haproxy", "-db", "-f", path])
    try:
        for name, (port, v6) in fronts.items():
            if v6:
                send_through("::1", port, socket.AF_INET6)
            else:
                send_through("127.0.0.1", port)
        for name in list(cases) + list(checks):
            save(out_dir, name, recorders[name].first())
    finally:
        proc.terminate()
        proc.wait()


def nginx(out_dir, work):
    rec4, rec6 = Recorder(), Recorder()
    port4, port6 = free_port(), free_port(socket.AF_INET6, "::1")
    config = """
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
daemon off;
master_process off;
pid %(work)s/nginx.pid;
error_log %(work)s/error.log warn;
events {}
stream {
    server { listen 127.0.0.1:%(port4)d; proxy_pass 127.0.0.1:%(r4)d; proxy_protocol on; }
    server { listen [::1]:%(port6)d; proxy_pass 127.0.0.1:%(r6)d; proxy_protocol on; }
}
""" % {"work": work, "port4": port4, "port6": port6, "r4": rec4.port, "r6": rec6.port}
    path = os.path.join(work, "nginx.conf")
    with open(path, "w") as f:
        f.write(config)
    proc = subprocess.Popen(["nginx", "-p", work, "-c", path])
    try:
        send_through("127.0.0.1", port4)
        send_through("::1", port6, socket.AF_INET6)
        save(out_dir, "nginx_v1_tcp4", rec4.first())
        save(out_dir, "nginx_v1_tcp6", rec6.first())
    finally:
        proc.terminate()
        proc.wait()


def main():
    out_dir = sys.argv[1]
    with tempfile.TemporaryDirectory() as work:
        haproxy(out_dir, work)
        nginx(out_dir, work)


if __name__ == "__main__":
    main()
