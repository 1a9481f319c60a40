"""Real load balancers and parent proxies from Debian, for end-to-end tests:
HAProxy and nginx's stream module in front of chokepoint (PROXY protocol),
squid behind it (a parent proxy). Each runs as its own process on loopback,
configured in a temporary directory; the tests read what they logged."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _connects(port, netns):
    if not netns:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            return False
    probe = "import socket; socket.create_connection(('127.0.0.1', %d), timeout=0.5).close()" % port
    return subprocess.run(["ip", "netns", "exec", netns, "/usr/bin/python3", "-c", probe],
                          capture_output=True).returncode == 0


def wait_port(port, proc, what, netns=None, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("%s exited with %s" % (what, proc.returncode))
        if _connects(port, netns):
            return
        time.sleep(0.05)
    raise RuntimeError("%s does not listen on %d" % (what, port))


def listener_of(proxy, kind):
    """The ADDR:PORT chokepoint printed for its listener of `kind` ("socks", "sni", ...)."""
    for line in proxy.stderr_lines:
        if "listening on" in line and line.rstrip().endswith("(%s)" % kind):
            host, port = line.split("listening on ")[1].split(" ")[0].rsplit(":", 1)
            return host.strip("[]"), int(port)
    raise KeyError(kind)


class _Process:
    def __init__(self, argv, ports, what, cwd, netns=None):
        self.dir = cwd
        # Its messages go to a file, which nothing has to keep reading.
        self.stderr_path = os.path.join(cwd, "stderr.log")
        prefix = ["ip", "netns", "exec", netns] if netns else []
        with open(self.stderr_path, "w") as stderr:
            self.proc = subprocess.Popen(prefix + argv, stdout=subprocess.DEVNULL, stderr=stderr,
                                         start_new_session=True, cwd=cwd)
        try:
            for port in ports:
                wait_port(port, self.proc, what, netns)
        except RuntimeError:
            with open(self.stderr_path) as f:
                message = f.read()
            self.stop()
            raise RuntimeError(what + " did not start: " + message)

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


class HAProxy(_Process):
    """haproxy -db with one TCP frontend per backend: `backends` maps a name
    to (ADDR, PORT, server options), e.g. "send-proxy-v2 check
    check-send-proxy inter 200ms". ports[name] is where clients connect."""

    def __init__(self, backends):
        work = tempfile.mkdtemp(prefix="chokepoint-haproxy-")
        self.socket_path = os.path.join(work, "stats.sock")
        self.ports = {}
        lines = ["global", "  stats socket %s level admin" % self.socket_path,
                 "defaults", "  mode tcp", "  timeout connect 5s", "  timeout client 30s",
                 "  timeout server 30s", "  timeout check 2s"]
        for name, (host, port, options) in backends.items():
            self.ports[name] = free_port()
            lines += ["listen %s" % name, "  bind 127.0.0.1:%d" % self.ports[name],
                      "  server chokepoint %s:%d %s" % (host, port, options)]
        path = os.path.join(work, "haproxy.cfg")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        super().__init__(["haproxy", "-db", "-f", path], self.ports.values(), "haproxy", work)

    def server_status(self, name):
        """What HAProxy's health checks say of the server behind frontend `name` (UP, DOWN, ...)."""
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(self.socket_path)
            s.sendall(b"show stat\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        header, *rows = data.decode().splitlines()
        columns = header.lstrip("# ").split(",")
        for row in rows:
            cells = row.split(",")
            if cells[:2] == [name, "chokepoint"]:
                return cells[columns.index("status")]
        return None


class NginxStream(_Process):
    """nginx's stream module with `proxy_protocol on` (v1) in front of
    `upstream` (ADDR, PORT); clients connect to .port."""

    def __init__(self, upstream):
        work = tempfile.mkdtemp(prefix="chokepoint-nginx-")
        self.port = free_port()
        config = """load_module /usr/lib/nginx/modules/ngx_stream_module.so;
daemon off;
master_process off;
pid %(work)s/nginx.pid;
error_log %(work)s/error.log warn;
events {}
stream {
    server { listen 127.0.0.1:%(port)d; proxy_pass %(host)s:%(upstream)d; proxy_protocol on; }
}
""" % {"work": work, "port": self.port, "host": upstream[0], "upstream": upstream[1]}
        path = os.path.join(work, "nginx.conf")
        with open(path, "w") as f:
            f.write(config)
        super().__init__(["nginx", "-p", work, "-c", path], [self.port], "nginx", work)


class Squid(_Process):
    """squid -N on 127.0.0.1: a parent proxy. `hosts` maps names to the
    addresses squid resolves them to (its own hosts file: no DNS); `deny`
    names destinations it refuses (403); `users` ({name: password}) turns on
    proxy_auth against an htpasswd file (basic_ncsa_auth); `netns` runs it
    in that network namespace (on `port`). Its access log is .access_log()."""

    def __init__(self, hosts, deny=(), users=None, netns=None, port=None):
        work = tempfile.mkdtemp(prefix="chokepoint-squid-")
        # squid drops to its own user (proxy) when started as root.
        os.chmod(work, 0o777)
        self.port = port or free_port()
        self.log = os.path.join(work, "access.log")
        with open(os.path.join(work, "hosts"), "w") as f:
            for name, address in hosts.items():
                f.write("%s %s\n" % (address, name))
        lines = ["http_port 127.0.0.1:%d" % self.port, "visible_hostname squid-parent",
                 "hosts_file %s/hosts" % work, "cache deny all",
                 "access_log stdio:%s squid" % self.log, "cache_log %s/cache.log" % work,
                 "pid_filename %s/squid.pid" % work, "coredump_dir %s" % work,
                 "shutdown_lifetime 0 seconds", "pinger_enable off", "strip_query_terms off"]
        if deny:
            lines += ["acl refused dstdomain %s" % " ".join(deny), "http_access deny refused"]
        if users:
            htpasswd = os.path.join(work, "htpasswd")
            with open(htpasswd, "w") as f:
                for name, password in users.items():
                    hashed = subprocess.run(["openssl", "passwd", "-apr1", password], capture_output=True,
                                            text=True, check=True).stdout.strip()
                    f.write("%s:%s\n" % (name, hashed))
            os.chmod(htpasswd, 0o644)
            lines += ["auth_param basic program /usr/lib/squid/basic_ncsa_auth %s" % htpasswd,
                      "auth_param basic realm corp", "acl authed proxy_auth REQUIRED",
                      "http_access allow authed", "http_access deny all"]
        else:
            lines += ["http_access allow all"]
        path = os.path.join(work, "squid.conf")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        super().__init__(["squid", "-N", "-f", path], [self.port], "squid", work, netns)
        self.url = "http://127.0.0.1:%d" % self.port

    def access_log(self):
        """Squid's access log lines, split into fields (squid format: the
        method is field 5, the URL field 6, the user field 7, the result
        code field 3)."""
        try:
            with open(self.log) as f:
                return [line.split() for line in f if line.strip()]
        except FileNotFoundError:
            return []
