"""A DNS server for tests: answers A and AAAA queries over UDP from a fixed
table, so the proxy's own resolver (glibc, through /etc/resolv.conf) meets
NXDOMAIN, SERVFAIL, silence, and names that resolve to addresses the proxy
must refuse. Runs inside a test namespace; prints "ready" once bound.

    dns_server.py ADDRESS PORT

Only what a stub resolver sends is understood: one question, no EDNS answer.
"""

import ipaddress
import socket
import struct
import sys

ZONE = "dns-e2e.example"
A, AAAA, IN = 1, 28, 1
NOERROR, SERVFAIL, NXDOMAIN = 0, 2, 3

# name -> (rcode, [addresses]); a name missing here gets NXDOMAIN, and
# SILENT names get no answer at all.
TABLE = {
    "public": (NOERROR, ["100.200.0.10"]),
    "mixed": (NOERROR, ["10.0.0.5", "100.200.0.10"]),
    "private": (NOERROR, ["10.0.0.5"]),
    "metadata": (NOERROR, ["169.254.169.254"]),
    "loopback": (NOERROR, ["127.0.0.1"]),
    "mapped": (NOERROR, ["::ffff:10.1.2.3"]),
    "nat64": (NOERROR, ["64:ff9b::a9fe:a9fe"]),  # 169.254.169.254 behind NAT64
    "allowed-private": (NOERROR, ["10.0.0.7"]),
    "broken": (SERVFAIL, []),
}
SILENT = {"silent"}


def parse_question(packet):
    """(id, flags, labels, qtype, end of question) of a query, or None."""
    if len(packet) < 12:
        return None
    ident, flags, qdcount = struct.unpack("!HHH", packet[:6])
    if qdcount != 1:
        return None
    labels, at = [], 12
    while True:
        if at >= len(packet):
            return None
        length = packet[at]
        at += 1
        if length == 0:
            break
        if length > 63 or at + length > len(packet):
            return None
        labels.append(packet[at:at + length].decode("ascii", "replace").lower())
        at += length
    if at + 4 > len(packet):
        return None
    qtype, _ = struct.unpack("!HH", packet[at:at + 4])
    return ident, flags, labels, qtype, at + 4


def answer(packet):
    parsed = parse_question(packet)
    if not parsed:
        return None
    ident, flags, labels, qtype, end = parsed
    name = ".".join(labels)
    if not name.endswith("." + ZONE):
        rcode, addresses = NXDOMAIN, []
    else:
        host = name[:-len(ZONE) - 1]
        if host in SILENT:
            return None
        rcode, addresses = TABLE.get(host, (NXDOMAIN, []))
    records = b""
    count = 0
    for text in addresses:
        address = ipaddress.ip_address(text)
        if (qtype, address.version) not in ((A, 4), (AAAA, 6)):
            continue
        # The question's name by pointer (offset 12), class IN, TTL 5 s.
        records += struct.pack("!HHHIH", 0xC00C, qtype, IN, 5, len(address.packed)) + address.packed
        count += 1
    # QR, AA, RA; the query's opcode and RD kept.
    reply_flags = 0x8000 | (flags & 0x7900) | 0x0400 | 0x0080 | rcode
    header = struct.pack("!HHHHHH", ident, reply_flags, 1, count, 0, 0)
    return header + packet[12:end] + records


def main():
    address, port = sys.argv[1], int(sys.argv[2])
    server = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_DGRAM)
    server.bind((address, port))
    print("ready", flush=True)
    while True:
        packet, peer = server.recvfrom(4096)
        reply = answer(packet)
        if reply:
            server.sendto(reply, peer)


if __name__ == "__main__":
    main()
