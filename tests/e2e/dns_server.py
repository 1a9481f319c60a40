"""A DNS server for tests and benchmarks, over UDP and TCP on one port.

    dns_server.py ADDRESS PORT [--control] [--delay MS] [--record NAME TTL ADDR[,ADDR...]]...

Answers A and AAAA questions from a table: the fixed names under
dns-e2e.example below (what test_transparent.py expects, resolving through
glibc and the namespace's resolv.conf), plus --record names, plus whatever a
test sets through the control port. Per name: the addresses and their TTL,
the rcode (NOERROR, NXDOMAIN, SERVFAIL), an SOA record in the authority
section of negative answers (RFC 2308: its TTL and MINIMUM), a delay before
answering, silence, and truncation (the UDP answer carries the TC bit and no
records, so the client must ask again over TCP, where the full answer is).
Every question is counted, by name, type and transport.

PORT 0 takes a free port for both transports and prints "port N" first;
--control prints "control N": a TCP port taking one JSON object per line,
answered by one JSON line:
    {"op": "set", "name": N, "addresses": [...], "ttl": T, "rcode": "NOERROR",
     "soa": [TTL, MINIMUM] | null, "delay_ms": D, "silent": false, "truncate": false}
    {"op": "queries", "name": N}  ->  {"A": {"udp": n, "tcp": n}, "AAAA": {...}, "total": n}
    {"op": "stats"}               ->  {"total": n, "udp": n, "tcp": n}
Then it prints "ready". --delay MS delays every answer (the benchmarks'
resolver "one network hop away"). Only what a stub resolver sends is
understood: one question, no EDNS answer.
"""

import argparse
import asyncio
import ipaddress
import json
import socket
import struct
import sys

ZONE = "dns-e2e.example"
A, AAAA, NS, SOA, IN = 1, 28, 2, 6, 1
RCODES = {"NOERROR": 0, "SERVFAIL": 2, "NXDOMAIN": 3}
TYPES = {A: "A", AAAA: "AAAA"}

# name -> (rcode, [addresses]); a name missing here gets NXDOMAIN, and
# SILENT names get no answer at all, nor does any name under SILENT_ZONE
# (floods of names that never answer).
TABLE = {
    "public": (0, ["100.200.0.10"]),
    "mixed": (0, ["10.0.0.5", "100.200.0.10"]),
    "private": (0, ["10.0.0.5"]),
    "metadata": (0, ["169.254.169.254"]),
    "loopback": (0, ["127.0.0.1"]),
    "mapped": (0, ["::ffff:10.1.2.3"]),
    "nat64": (0, ["64:ff9b::a9fe:a9fe"]),  # 169.254.169.254 behind NAT64
    "allowed-private": (0, ["10.0.0.7"]),
    "broken": (2, []),
}
SILENT = {"silent"}
SILENT_ZONE = ".silent-zone." + ZONE


class Record:
    def __init__(self, addresses=(), ttl=5, rcode=0, soa=None, delay_ms=0, silent=False, truncate=False):
        self.addresses = list(addresses)
        self.ttl, self.rcode, self.soa = ttl, rcode, soa
        self.delay_ms, self.silent, self.truncate = delay_ms, silent, truncate


class Server:
    def __init__(self, delay_ms=0):
        self.records = {}
        for host, (rcode, addresses) in TABLE.items():
            self.records[host + "." + ZONE] = Record(addresses, rcode=rcode)
        for host in SILENT:
            self.records[host + "." + ZONE] = Record(silent=True)
        self.delay_ms = delay_ms
        self.counts = {}  # (name, type, transport) -> questions
        self.totals = {"udp": 0, "tcp": 0}

    def count(self, name, qtype, transport):
        key = (name, TYPES.get(qtype, str(qtype)), transport)
        self.counts[key] = self.counts.get(key, 0) + 1
        self.totals[transport] += 1

    def answer(self, packet, transport):
        """(reply bytes or None for silence, delay in seconds)."""
        parsed = parse_question(packet)
        if not parsed:
            return None, 0
        ident, flags, labels, qtype, end = parsed
        name = ".".join(labels)
        self.count(name, qtype, transport)
        record = self.records.get(name, Record(rcode=RCODES["NXDOMAIN"], silent=name.endswith(SILENT_ZONE)))
        delay = (record.delay_ms or self.delay_ms) / 1000
        if record.silent:
            return None, 0
        answers = b""
        count = 0
        for text in record.addresses if record.rcode == 0 else []:
            address = ipaddress.ip_address(text)
            if (qtype, address.version) not in ((A, 4), (AAAA, 6)):
                continue
            # The question's name by pointer (offset 12), class IN.
            answers += struct.pack("!HHHIH", 0xC00C, qtype, IN, record.ttl, len(address.packed)) + address.packed
            count += 1
        authority, nscount = b"", 0
        if count == 0 and record.soa and record.rcode in (0, 3):
            authority, nscount = soa_record(name, *record.soa), 1
        truncated = transport == "udp" and record.truncate
        # QR, AA, RA; the query's opcode and RD kept; TC when truncated.
        reply_flags = 0x8000 | (flags & 0x7900) | 0x0400 | 0x0080 | record.rcode | (0x0200 if truncated else 0)
        if truncated:
            count, answers, nscount, authority = 0, b"", 0, b""
        header = struct.pack("!HHHHHH", ident, reply_flags, 1, count, nscount, 0)
        return header + packet[12:end] + answers + authority, delay


def encode_name(name):
    return b"".join(bytes([len(label)]) + label.encode("ascii") for label in name.split(".") if label) + b"\0"


def soa_record(name, ttl, minimum):
    """The SOA of the name's parent zone, for the authority section."""
    zone = name.split(".", 1)[1] if "." in name else name
    rdata = encode_name("ns." + zone) + encode_name("hostmaster." + zone) + struct.pack(
        "!IIIII", 2026120101, 7200, 900, 1209600, minimum)
    return encode_name(zone) + struct.pack("!HHIH", SOA, IN, ttl, len(rdata)) + rdata


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


class Udp(asyncio.DatagramProtocol):
    def __init__(self, server):
        self.server = server

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, packet, peer):
        reply, delay = self.server.answer(packet, "udp")
        if reply is None:
            return
        if delay:
            asyncio.get_running_loop().call_later(delay, self.transport.sendto, reply, peer)
        else:
            self.transport.sendto(reply, peer)


async def serve_tcp(server, reader, writer):
    try:
        while True:
            length = struct.unpack("!H", await reader.readexactly(2))[0]
            reply, delay = server.answer(await reader.readexactly(length), "tcp")
            if reply is None:
                continue
            if delay:
                await asyncio.sleep(delay)
            writer.write(struct.pack("!H", len(reply)) + reply)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def serve_control(server, reader, writer):
    while True:
        line = await reader.readline()
        if not line:
            break
        request = json.loads(line)
        op = request.get("op")
        if op == "set":
            rcode = request.get("rcode", "NOERROR")
            server.records[request["name"].lower().rstrip(".")] = Record(
                request.get("addresses", []), request.get("ttl", 5), RCODES[rcode], request.get("soa"),
                request.get("delay_ms", 0), request.get("silent", False), request.get("truncate", False))
            reply = {"ok": True}
        elif op == "queries":
            name = request["name"].lower().rstrip(".")
            reply = {"total": 0}
            for qtype in ("A", "AAAA"):
                reply[qtype] = {t: server.counts.get((name, qtype, t), 0) for t in ("udp", "tcp")}
                reply["total"] += sum(reply[qtype].values())
        elif op == "stats":
            reply = dict(server.totals, total=sum(server.totals.values()))
        else:
            reply = {"error": "unknown op"}
        writer.write((json.dumps(reply) + "\n").encode())
        await writer.drain()
    writer.close()


def bind_both(address, port):
    """A UDP and a TCP socket on one port (a free one when port is 0)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    for _ in range(100):
        udp = socket.socket(family, socket.SOCK_DGRAM)
        udp.bind((address, port))
        tcp = socket.socket(family, socket.SOCK_STREAM)
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            tcp.bind((address, udp.getsockname()[1]))
        except OSError:
            udp.close()
            tcp.close()
            if port:
                raise
            continue
        tcp.listen(128)
        return udp, tcp
    raise RuntimeError("no port free for both UDP and TCP")


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("address")
    parser.add_argument("port", type=int)
    parser.add_argument("--control", action="store_true")
    parser.add_argument("--delay", type=float, default=0, help="milliseconds before every answer")
    parser.add_argument("--record", nargs=3, action="append", default=[], metavar=("NAME", "TTL", "ADDRS"))
    options = parser.parse_args()
    server = Server(options.delay)
    for name, ttl, addresses in options.record:
        server.records[name.lower()] = Record(addresses.split(","), int(ttl))
    udp, tcp = bind_both(options.address, options.port)
    loop = asyncio.get_running_loop()
    await loop.create_datagram_endpoint(lambda: Udp(server), sock=udp)
    await asyncio.start_server(lambda r, w: serve_tcp(server, r, w), sock=tcp)
    if options.port == 0:
        print("port %d" % udp.getsockname()[1], flush=True)
    if options.control:
        control = await asyncio.start_server(lambda r, w: serve_control(server, r, w), options.address, 0)
        print("control %d" % control.sockets[0].getsockname()[1], flush=True)
    print("ready", flush=True)
    await asyncio.Event().wait()


class DnsServer:
    """dns_server.py as a child process on ADDRESS, a free port, with its control port."""

    def __init__(self, address="127.0.0.1", prefix=(), extra=()):
        import os
        import subprocess
        here = os.path.dirname(os.path.abspath(__file__))
        self.proc = subprocess.Popen([*prefix, sys.executable, os.path.join(here, "dns_server.py"), address, "0",
                                      "--control", *extra], stdout=subprocess.PIPE, text=True)
        self.address = address
        self.port = int(self.proc.stdout.readline().split()[1])
        self.control_port = int(self.proc.stdout.readline().split()[1])
        assert self.proc.stdout.readline().strip() == "ready"
        self.control = socket.create_connection((address, self.control_port), timeout=10)
        self.lines = self.control.makefile("r")

    def ask(self, **request):
        self.control.sendall((json.dumps(request) + "\n").encode())
        return json.loads(self.lines.readline())

    def set(self, name, addresses=(), ttl=5, **more):
        return self.ask(op="set", name=name, addresses=list(addresses), ttl=ttl, **more)

    def queries(self, name):
        return self.ask(op="queries", name=name)

    def stats(self):
        return self.ask(op="stats")

    def endpoint(self):
        return ("[%s]:%d" if ":" in self.address else "%s:%d") % (self.address, self.port)

    def stop(self):
        self.control.close()
        self.proc.kill()
        self.proc.wait()


if __name__ == "__main__":
    asyncio.run(main())
