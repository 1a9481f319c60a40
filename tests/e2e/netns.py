"""A small network made of namespaces for transparent-mode tests:

    client (10.77.1.2/24, fd77:1::2/64)
       |  veth
    proxy  (10.77.1.1 | 100.200.0.1, fd77:1::1 | 2a10:7700:2::1): a router running
       |  veth             the shipped nftables rules and chokepoint --transparent
    server (100.200.0.10 "good", 100.200.0.11 "evil"; 2a10:7700:2::10, ::11)

The server side uses addresses outside every special range (100.200/16 is
not CGNAT; 2a10:7700::/32 is global unicast, unlike the ULA fd77::/16 of the
client side), so address vetting treats them as public; nothing is routed
out of the namespaces, and each namespace's /etc/hosts comes from
/etc/netns/NAME/hosts, which `ip netns exec` mounts over /etc/hosts."""

import os
import shutil
import subprocess
import uuid

SOURCE = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
GOOD, EVIL = "100.200.0.10", "100.200.0.11"
GOOD6, EVIL6 = "2a10:7700:2::10", "2a10:7700:2::11"
PROXY_PORT = 3129
GOOD_NAMES = ["ds20.icrc.trendmicro.com", "iaus.activeupdate.trendmicro.com", "files.trendmicro.com",
              "ds2000-en-census.trendmicro.com"]
HOSTS = {GOOD: GOOD_NAMES, GOOD6: GOOD_NAMES, EVIL: ["evil.example.com"], EVIL6: ["evil.example.com"]}


def sh(*cmd, check=True, **kw):
    return subprocess.run(list(cmd), check=check, capture_output=True, text=True, **kw)


class Topology:
    def __init__(self):
        tag = uuid.uuid4().hex[:6]
        self.client, self.proxy, self.server = ("cpc" + tag, "cpp" + tag, "cps" + tag)
        self.namespaces = [self.client, self.proxy, self.server]
        for ns in self.namespaces:
            sh("ip", "netns", "add", ns)
            self.run(ns, "ip", "link", "set", "lo", "up")
            self.write_etc(ns)
        sh("ip", "link", "add", "c0" + tag, "netns", self.client, "type", "veth", "peer", "p0" + tag,
           "netns", self.proxy)
        sh("ip", "link", "add", "s0" + tag, "netns", self.server, "type", "veth", "peer", "p1" + tag,
           "netns", self.proxy)
        c0, p0, s0, p1 = "c0" + tag, "p0" + tag, "s0" + tag, "p1" + tag
        for ns, dev, addresses in ((self.client, c0, ["10.77.1.2/24", "fd77:1::2/64"]),
                                   (self.proxy, p0, ["10.77.1.1/24", "fd77:1::1/64"]),
                                   (self.proxy, p1, ["100.200.0.1/24", "2a10:7700:2::1/64"]),
                                   (self.server, s0, ["100.200.0.10/24", "100.200.0.11/24", GOOD6 + "/64",
                                                      EVIL6 + "/64"])):
            for address in addresses:
                self.run(ns, "ip", "addr", "add", address, "dev", dev, "nodad")
            self.run(ns, "ip", "link", "set", dev, "up")
        self.run(self.client, "ip", "route", "add", "default", "via", "10.77.1.1")
        self.run(self.client, "ip", "-6", "route", "add", "default", "via", "fd77:1::1")
        self.run(self.server, "ip", "route", "add", "default", "via", "100.200.0.1")
        self.run(self.server, "ip", "-6", "route", "add", "default", "via", "2a10:7700:2::1")
        self.run(self.proxy, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        self.run(self.proxy, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1")
        self.load_rules()

    def write_etc(self, ns):
        directory = os.path.join("/etc/netns", ns)
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, "hosts"), "w") as f:
            f.write("127.0.0.1 localhost\n")
            for address, names in HOSTS.items():
                f.write("%s %s\n" % (address, " ".join(names)))
        # The namespace's own loopback: nobody answers there (names not in
        # hosts fail at once) unless a test starts dns_server.py; no query
        # ever leaves the namespace.
        with open(os.path.join(directory, "resolv.conf"), "w") as f:
            f.write("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")

    def load_rules(self, proxy_port=PROXY_PORT):
        self.run(self.proxy, "nft", "-D", "CLIENT_NETS4={ 10.77.1.0/24 }", "-D", "CLIENT_NETS6={ fd77:1::/64 }",
                 "-D", "REDIRECT_PORTS={ 80, 443, 4119, 4120, 4122 }", "-D", "PROXY_PORT=%d" % proxy_port,
                 "-D", "PASS_UDP={ 53, 123 }", "-f",
                 os.path.join(SOURCE, "deploy", "nftables", "chokepoint-transparent.nft"))

    def run(self, ns, *cmd, check=True, **kw):
        return sh("ip", "netns", "exec", ns, *cmd, check=check, **kw)

    def popen(self, ns, *cmd, **kw):
        return subprocess.Popen(["ip", "netns", "exec", ns, *cmd], **kw)

    def close(self):
        for ns in self.namespaces:
            sh("ip", "netns", "del", ns, check=False)
            shutil.rmtree(os.path.join("/etc/netns", ns), ignore_errors=True)


def available():
    """None when namespaces with nftables can be made here, else why not."""
    if os.geteuid() != 0:
        return "needs root (ip netns, nftables)"
    if not shutil.which("ip") or not shutil.which("nft"):
        return "needs iproute2 and nftables"
    probe = "cpprobe" + uuid.uuid4().hex[:6]
    try:
        sh("ip", "netns", "add", probe)
        sh("ip", "netns", "exec", probe, "nft", "add", "table", "ip", "probe")
        sh("ip", "netns", "exec", probe, "nft", "add", "chain", "ip", "probe", "pre",
           "{ type nat hook prerouting priority dstnat; }")
    except subprocess.CalledProcessError as e:
        return "cannot create a network namespace with nftables NAT: " + (e.stderr or str(e)).strip()
    finally:
        sh("ip", "netns", "del", probe, check=False)
    return None
