"""Destinations to ask about, read from the shipped catalog with Python's own
YAML parser (not chokepoint's loader): for every destination of every rule,
the names and addresses it should let out and the ones just beside it (the
apex of a wildcard, one label too many, an address outside the block, a port
the rule does not list, another path)."""

import ipaddress
import os

import yaml

SOURCE = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CATALOG = os.path.join(SOURCE, "policy", "deep-security.yaml")

# A site file that fills in every placeholder of the catalog (names, an
# address, IPv4 and IPv6 blocks) and adds rules of the kinds the catalog has
# none of: a re: pattern, a ".domain", a deny.
SITE_VARIABLES = {
    "manager": ["dsm.corp.example", "10.0.0.5"],
    "relays": ["10.0.1.0/24", "2001:db8:1::/48"],
    "smart_protection_servers": ["sps.corp.example"],
    "databases": ["10.0.2.10"],
    "manager_integrations": ["apex.corp.example"],
}
SITE_RULES = [
    {"id": "site-cdn", "roles": ["agent"], "destinations": ["re:^cdn[0-9]+\\.example\\.net$"]},
    {"id": "site-domain", "roles": ["manager"], "ports": [443, "8000-8001"],
     "destinations": [".example.org"]},
    {"id": "site-deny", "action": "deny", "destinations": ["blocked.example.org"]},
]


def site_yaml(mode="enforce", pac=None, extra=None):
    doc = {"version": 1, "include": "builtin:deep-security.yaml", "mode": mode,
           "default_role": "agent", "variables": SITE_VARIABLES, "rules": SITE_RULES,
           "clients": [{"cidr": "10.0.8.0/21", "role": "agent", "version": "20.0"},
                       {"cidr": "10.0.1.0/24", "role": "relay"},
                       {"cidr": "10.0.0.5/32", "role": "manager"}]}
    if pac:
        doc["pac"] = pac
    if extra:
        doc.update(extra)
    return yaml.safe_dump(doc, sort_keys=False)


def write_site(directory, **kwargs):
    path = os.path.join(directory, "site.yaml")
    with open(path, "w") as f:
        f.write(site_yaml(**kwargs))
    os.chmod(path, 0o644)
    return path


def _ports(rule):
    ports = rule.get("ports", [80, 443])
    if not isinstance(ports, list):
        ports = [ports]
    out = []
    for p in ports:
        if isinstance(p, str) and "-" in p:
            first, last = (int(x) for x in p.split("-"))
            out.append((first, last))
        else:
            out.append((int(p), int(p)))
    return out


def _outside(ranges):
    for candidate in (8443, 8080, 81, 1):
        if not any(first <= candidate <= last for first, last in ranges):
            return candidate
    raise AssertionError("no port outside %r" % ranges)


def _split(text):
    """host, path, as the policy reads a destination."""
    if text.startswith("re:"):
        return text, ""
    if "/" not in text:
        return text, ""
    head, rest = text.split("/", 1)
    try:
        ipaddress.ip_address(head)
        bits, _, path = rest.partition("/")
        if bits.isdigit():
            return head + "/" + bits, ("/" + path) if path else ""
    except ValueError:
        pass
    return head, "/" + rest


def _hosts(host):
    """Names (or addresses) to try for one destination pattern."""
    if host.startswith("re:"):
        return ["cdn7.example.net", "cdnx.example.net"] if "cdn" in host else []
    try:
        network = ipaddress.ip_network(host, strict=True)
        inside = network.network_address + (1 if network.num_addresses > 1 else 0)
        outside = network.broadcast_address + 1 if network.version == 4 else \
            network.network_address + (1 << (128 - network.prefixlen)) + 5
        return [str(inside), str(outside)]
    except ValueError:
        pass
    labels = host.split(".")
    if host.startswith("*."):
        rest = host[2:]
        return ["a." + rest, rest, "a.b." + rest]
    if host.startswith("."):
        rest = host[1:]
        return [rest, "a." + rest, "a" + rest]
    if "*" in labels:
        i = labels.index("*")
        return [".".join(labels[:i] + ["us-east-1"] + labels[i + 1:]),
                ".".join(labels[:i] + labels[i + 1:]),
                ".".join(labels[:i] + ["a", "b"] + labels[i + 1:])]
    return [host]


def catalog_rules():
    with open(CATALOG) as f:
        catalog = yaml.safe_load(f)
    return catalog["rules"] + SITE_RULES


def probes():
    """(host, port, path or None) to ask about; path set for plain HTTP only."""
    out = set()
    for rule in catalog_rules():
        ranges = _ports(rule)
        ports = sorted({p for first, last in ranges for p in (first, last)} | {_outside(ranges)})
        destinations = rule["destinations"]
        if isinstance(destinations, dict):
            destinations = [d for group in destinations.values() for d in group]
        for written in destinations:
            values = [written]
            if written.startswith("${"):
                name, rest = written[2:].split("}", 1)
                values = [v + rest for v in SITE_VARIABLES[name]]
            for value in values:
                host, path = _split(value)
                for h in _hosts(host):
                    for port in ports:
                        out.add((h, port, None))
                        out.add((h, port, "/"))
                        if path:
                            out.add((h, port, path))
                            out.add((h, port, "/other" + path))
    # Names and addresses no rule names.
    for host in ("evil.example.com", "trendmicro.com", "files.trendmicro.com.evil.example",
                 "blocked.example.org", "192.0.2.1", "2001:db8:99::1"):
        for port in (80, 443, 4119):
            out.add((host, port, None))
    return sorted(out, key=lambda p: (p[0], p[1], p[2] or ""))


def url_of(host, port, path):
    """The URL a PAC engine would be asked about: plain http:// when there is a
    path (the policy checks paths of plain HTTP only), else https:// (a tunnel)."""
    literal = "[%s]" % host if ":" in host else host
    if path is not None:
        return "http://%s%s%s" % (literal, "" if port == 80 else ":%d" % port, path)
    return "https://%s%s/" % (literal, "" if port == 443 else ":%d" % port)
