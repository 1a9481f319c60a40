// The PROXY header parser on what HAProxy and nginx really send (captured
// by vectors/capture.py), on hand-built headers for the cases they do not
// send (v1 UNKNOWN, AWS NLB's TLV, UDP, UNIX, the limits), and on malformed
// ones, each fed in every segmentation: the outcome and the bytes consumed
// must not depend on the cuts, and the client's payload must stay whole.
#include <vector>

#include <catch2/catch.hpp>

#include <chokepoint/proxy_protocol/header.hpp>

#include "../../support/test_bytes.hpp"

using namespace chokepoint;
using namespace chokepoint::proxy_protocol;
using chokepoint::test::hex;

namespace {

struct Outcome {
  Status status = Status::NeedMore;
  std::size_t consumed = 0;
  std::string error;
  int version = 0;
  Command command = Command::Proxy;
  Family family = Family::Unspec;
  Transport transport = Transport::Unspec;
  bool client_address = false;
  std::string source;  // "address port" when client_address
  std::string destination;
  std::string payload;  // what is left after the header

  friend bool operator==(const Outcome&, const Outcome&) = default;
};

// Feeds the arrivals the way a session does: unconsumed bytes are kept and
// offered again with the next arrival.
Outcome parse(const std::vector<std::string>& arrivals) {
  HeaderParser parser;
  Outcome out;
  std::string pending;
  std::size_t next = 0;
  for (;;) {
    const Step step = parser.feed(pending);
    REQUIRE(step.consumed <= pending.size());
    pending.erase(0, step.consumed);
    out.consumed += step.consumed;
    out.status = step.status;
    if (step.status == Status::NeedMore && next < arrivals.size()) {
      pending += arrivals[next++];
      continue;
    }
    break;
  }
  REQUIRE(parser.consumed() == out.consumed);
  out.error = std::string(parser.error());
  if (out.status == Status::Done) {
    const Header& h = parser.header();
    out.version = h.version;
    out.command = h.command;
    out.family = h.family;
    out.transport = h.transport;
    out.client_address = h.has_client_address();
    if (out.client_address) {
      out.source = h.source.address.to_string() + " " + std::to_string(h.source.port);
      out.destination =
          h.destination.address.to_string() + " " + std::to_string(h.destination.port);
    }
    out.payload = pending;
    while (next < arrivals.size())
      out.payload += arrivals[next++];
  }
  return out;
}

Outcome parse_whole(const std::string& input) {
  return parse({input});
}

// Every split into two arrivals, then one byte at a time.
void grind(const std::string& input, const Outcome& expected) {
  for (std::size_t at = 0; at <= input.size(); ++at) {
    INFO("split at " << at);
    REQUIRE(parse({input.substr(0, at), input.substr(at)}) == expected);
  }
  std::vector<std::string> bytes;
  for (const char c : input)
    bytes.emplace_back(1, c);
  REQUIRE(parse(bytes) == expected);
}

std::string vector_file(const std::string& name) {
  return test::source_file("tests/unit/proxy_protocol/vectors/" + name + ".bin");
}

const std::string kSignature = hex("0d0a0d0a000d0a515549540a");

std::string u16(std::size_t n) {
  return {static_cast<char>(n >> 8), static_cast<char>(n & 0xff)};
}

// A v2 header: version/command byte, family/transport byte, then the block.
std::string v2(std::uint8_t version_command, std::uint8_t family, const std::string& block) {
  return kSignature + static_cast<char>(version_command) + static_cast<char>(family) +
         u16(block.size()) + block;
}

std::string tlv(std::uint8_t type, const std::string& value) {
  return static_cast<char>(type) + u16(value.size()) + value;
}

const std::string kTcp4Addresses =
    hex("c0000201 0a000005 d431 01bb");  // 192.0.2.1:54321 -> 10.0.0.5:443

}  // namespace

TEST_CASE("headers from HAProxy and nginx", "[proxy_protocol]") {
  const std::string client = "hello from the client\n";
  const std::string check = "check\n";
  struct Case {
    const char* file;
    int version;
    Command command;
    Family family;
    const char* source;
    const char* destination;
    std::size_t header_bytes;
    const std::string& payload;
  };
  const Case cases[] = {
      {"haproxy_v1_tcp4", 1, Command::Proxy, Family::Inet, "127.0.0.1 45348", "127.0.0.1 58651", 44,
       client},
      {"haproxy_v1_tcp6", 1, Command::Proxy, Family::Inet6, "::1 40842", "::1 36153", 32, client},
      {"haproxy_v1_check", 1, Command::Proxy, Family::Inet, "127.0.0.1 50534", "127.0.0.1 39937",
       44, check},
      {"nginx_v1_tcp4", 1, Command::Proxy, Family::Inet, "127.0.0.1 57148", "127.0.0.1 57661", 44,
       client},
      {"nginx_v1_tcp6", 1, Command::Proxy, Family::Inet6, "::1 50664", "::1 45453", 32, client},
      {"haproxy_v2_tcp4", 2, Command::Proxy, Family::Inet, "127.0.0.1 40742", "127.0.0.1 49877",
       16 + 12, client},
      {"haproxy_v2_tcp6", 2, Command::Proxy, Family::Inet6, "::1 44920", "::1 43867", 16 + 36,
       client},
      // proxy-v2-options crc32c,unique-id: a CRC32C TLV and a 44-byte unique id.
      {"haproxy_v2_tlvs", 2, Command::Proxy, Family::Inet, "127.0.0.1 48256", "127.0.0.1 41577",
       16 + 12 + 7 + 47, client},
      // A health check with check-send-proxy: LOCAL, no addresses.
      {"haproxy_v2_local_check", 2, Command::Local, Family::Unspec, "", "", 16, check},
  };
  for (const Case& c : cases) {
    INFO(c.file);
    const std::string input = vector_file(c.file);
    const Outcome out = parse_whole(input);
    CHECK(out.status == Status::Done);
    CHECK(out.version == c.version);
    CHECK(out.command == c.command);
    CHECK(out.family == c.family);
    CHECK(out.client_address == (c.command == Command::Proxy));
    CHECK(out.source == c.source);
    CHECK(out.destination == c.destination);
    CHECK(out.consumed == c.header_bytes);
    CHECK(out.payload == c.payload);
    CHECK(out.consumed + c.payload.size() == input.size());
    CHECK(detect(input) == Detection::Header);
    grind(input, out);
  }
}

TEST_CASE("headers the captured balancers do not send", "[proxy_protocol]") {
  const std::string ffff = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
  struct Case {
    const char* name;
    std::string header;
    int version;
    Command command;
    Family family;
    Transport transport;
    const char* source;  // empty: no client address
    const char* destination;
  };
  const Case cases[] = {
      {"v1 UNKNOWN, short form", "PROXY UNKNOWN\r\n", 1, Command::Proxy, Family::Unspec,
       Transport::Unspec, "", ""},
      {"v1 UNKNOWN, the spec's 107-byte worst case",
       "PROXY UNKNOWN " + ffff + " " + ffff + " 65535 65535\r\n", 1, Command::Proxy, Family::Unspec,
       Transport::Unspec, "", ""},
      {"v1 TCP6 at its longest", "PROXY TCP6 " + ffff + " " + ffff + " 65535 65535\r\n", 1,
       Command::Proxy, Family::Inet6, Transport::Stream,
       "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535",
       "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535"},
      {"v1 TCP4, port 0", "PROXY TCP4 0.0.0.0 255.255.255.255 0 65535\r\n", 1, Command::Proxy,
       Family::Inet, Transport::Stream, "0.0.0.0 0", "255.255.255.255 65535"},
      {"v1 TCP6 with a v4-mapped client", "PROXY TCP6 ::ffff:192.0.2.1 2001:db8::5 5000 443\r\n", 1,
       Command::Proxy, Family::Inet6, Transport::Stream, "::ffff:192.0.2.1 5000",
       "2001:db8::5 443"},
      // AWS NLB: PP2_TYPE_AWS (0xEA), subtype PP2_SUBTYPE_AWS_VPCE_ID (0x01), the endpoint id.
      {"v2 AWS NLB with a VPC endpoint id",
       v2(0x21, 0x11, kTcp4Addresses + tlv(0xea, "\x01vpce-08d2bf15fac5001c9")), 2, Command::Proxy,
       Family::Inet, Transport::Stream, "192.0.2.1 54321", "10.0.0.5 443"},
      {"v2 AWS NLB over IPv6",
       v2(0x21, 0x21,
          hex("20010db8000000000000000000000001 20010db80000000000000000000000ff 1f90 0050") +
              tlv(0xea, "\x01vpce-0123456789abcdef0")),
       2, Command::Proxy, Family::Inet6, Transport::Stream, "2001:db8::1 8080", "2001:db8::ff 80"},
      {"v2 with empty TLVs and NOOP padding",
       v2(0x21, 0x11,
          kTcp4Addresses + tlv(0x04, "") + tlv(0x04, std::string(9, '\0')) + tlv(0xf0, "")),
       2, Command::Proxy, Family::Inet, Transport::Stream, "192.0.2.1 54321", "10.0.0.5 443"},
      {"v2 TLVs filling the 4096-byte bound",
       v2(0x21, 0x11, kTcp4Addresses + tlv(0x04, std::string(kMaxV2Bytes - 16 - 12 - 3, 'n'))), 2,
       Command::Proxy, Family::Inet, Transport::Stream, "192.0.2.1 54321", "10.0.0.5 443"},
      {"v2 PROXY with UNSPEC: no address", v2(0x21, 0x00, ""), 2, Command::Proxy, Family::Unspec,
       Transport::Unspec, "", ""},
      {"v2 PROXY with UNSPEC and a block, skipped", v2(0x21, 0x00, "anything at all"), 2,
       Command::Proxy, Family::Unspec, Transport::Unspec, "", ""},
      {"v2 UDP over IPv4: no address", v2(0x21, 0x12, kTcp4Addresses), 2, Command::Proxy,
       Family::Inet, Transport::Dgram, "", ""},
      {"v2 UNIX stream: no address", v2(0x21, 0x31, std::string(216, '/') + tlv(0x04, "x")), 2,
       Command::Proxy, Family::Unix, Transport::Stream, "", ""},
      {"v2 LOCAL with a block: discarded unread", v2(0x20, 0x11, kTcp4Addresses + "\x01"), 2,
       Command::Local, Family::Unspec, Transport::Unspec, "", ""},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    const std::string input = c.header + "payload";
    const Outcome out = parse_whole(input);
    CHECK(out.error == "");
    CHECK(out.status == Status::Done);
    CHECK(out.version == c.version);
    CHECK(out.command == c.command);
    CHECK(out.family == c.family);
    CHECK(out.transport == c.transport);
    CHECK(out.client_address == (std::string_view(c.source) != ""));
    CHECK(out.source == c.source);
    CHECK(out.destination == c.destination);
    CHECK(out.consumed == c.header.size());
    CHECK(out.payload == "payload");
    grind(input, out);
  }
  CHECK(("PROXY UNKNOWN " + ffff + " " + ffff + " 65535 65535\r\n").size() == kMaxV1Bytes);
}

TEST_CASE("malformed headers are refused, and say why", "[proxy_protocol]") {
  struct Case {
    const char* name;
    std::string input;
    Status status;
    const char* error;
    std::size_t consumed;  // up to the byte that decided
  };
  // A v1 line is judged once its LF has arrived: all of it is consumed.
  constexpr std::size_t kWholeInput = 0;
  const std::string line_107 = "PROXY UNKNOWN " + std::string(93, 'a');
  const Case cases[] = {
      {"HTTP", "GET / HTTP/1.1\r\n", Status::NotProxy, "no PROXY protocol signature", 1},
      {"TLS", hex("16 03 01 02 00 01"), Status::NotProxy, "no PROXY protocol signature", 1},
      {"SOCKS5", hex("05 01 00"), Status::NotProxy, "no PROXY protocol signature", 1},
      {"PROXY without its space", "PROXY\r\n", Status::NotProxy, "no PROXY protocol signature", 6},
      {"v2 signature broken at byte 8", kSignature.substr(0, 7) + "X" + kSignature.substr(8),
       Status::NotProxy, "no PROXY protocol signature", 8},
      {"v1 too long", line_107 + "b\r\n", Status::Malformed, "v1: no CRLF within 107 bytes", 107},
      {"v1 LF alone", "PROXY TCP4 192.0.2.1 10.0.0.5 1 2\n", Status::Malformed, "v1: LF without CR",
       kWholeInput},
      {"v1 CR alone", "PROXY TCP4 192.0.2.1 10.0.0.5 1 2\rX\n", Status::Malformed,
       "v1: CR without LF", 35},
      {"v1 port with a leading zero", "PROXY TCP4 192.0.2.1 10.0.0.5 01 2\r\n", Status::Malformed,
       "v1: bad source port", kWholeInput},
      {"v1 port 65536", "PROXY TCP4 192.0.2.1 10.0.0.5 1 65536\r\n", Status::Malformed,
       "v1: bad destination port", kWholeInput},
      {"v1 port with a sign", "PROXY TCP4 192.0.2.1 10.0.0.5 +1 2\r\n", Status::Malformed,
       "v1: bad source port", kWholeInput},
      {"v1 port in hex", "PROXY TCP4 192.0.2.1 10.0.0.5 1 0x50\r\n", Status::Malformed,
       "v1: bad destination port", kWholeInput},
      {"v1 double space", "PROXY TCP4 192.0.2.1  10.0.0.5 1 2\r\n", Status::Malformed,
       "v1: fields must be separated by single spaces", kWholeInput},
      {"v1 trailing space", "PROXY TCP4 192.0.2.1 10.0.0.5 1 2 \r\n", Status::Malformed,
       "v1: fields must be separated by single spaces", kWholeInput},
      {"v1 missing port", "PROXY TCP4 192.0.2.1 10.0.0.5 1\r\n", Status::Malformed,
       "v1: too few fields", kWholeInput},
      {"v1 extra field", "PROXY TCP4 192.0.2.1 10.0.0.5 1 2 3\r\n", Status::Malformed,
       "v1: too many fields", kWholeInput},
      {"v1 lowercase protocol", "PROXY tcp4 192.0.2.1 10.0.0.5 1 2\r\n", Status::Malformed,
       "v1: protocol is not TCP4, TCP6 or UNKNOWN", kWholeInput},
      {"v1 UNKNOWN run on", "PROXY UNKNOWNX\r\n", Status::Malformed,
       "v1: protocol is not TCP4, TCP6 or UNKNOWN", kWholeInput},
      {"v1 TCP4 with an IPv6 address", "PROXY TCP4 2001:db8::1 10.0.0.5 1 2\r\n", Status::Malformed,
       "v1: bad source address", kWholeInput},
      {"v1 TCP6 with an IPv4 address", "PROXY TCP6 2001:db8::1 10.0.0.5 1 2\r\n", Status::Malformed,
       "v1: bad destination address", kWholeInput},
      {"v1 IPv4 with a leading zero", "PROXY TCP4 192.0.2.01 10.0.0.5 1 2\r\n", Status::Malformed,
       "v1: bad source address", kWholeInput},
      {"v1 IPv4 octet past 255", "PROXY TCP4 192.0.2.1 10.0.0.256 1 2\r\n", Status::Malformed,
       "v1: bad destination address", kWholeInput},
      {"v1 address with a NUL", std::string("PROXY TCP4 192.0.2.1\0x 10.0.0.5 1 2\r\n", 37),
       Status::Malformed, "v1: bad source address", kWholeInput},
      {"v1 IPv6 with a NUL", std::string("PROXY TCP6 ::1 ::2\0 1 2\r\n", 25), Status::Malformed,
       "v1: bad destination address", kWholeInput},
      {"v1 IPv6 with a zone", "PROXY TCP6 fe80::1%eth0 fe80::2 1 2\r\n", Status::Malformed,
       "v1: bad source address", kWholeInput},
      {"v2 version 1", v2(0x11, 0x11, kTcp4Addresses), Status::Malformed, "v2: version is not 2",
       16},
      {"v2 version 3", v2(0x31, 0x11, kTcp4Addresses), Status::Malformed, "v2: version is not 2",
       16},
      {"v2 command 2", v2(0x22, 0x11, kTcp4Addresses), Status::Malformed,
       "v2: command is neither LOCAL nor PROXY", 16},
      {"v2 family 4", v2(0x21, 0x41, kTcp4Addresses), Status::Malformed,
       "v2: unknown address family or transport", 16},
      {"v2 transport 3", v2(0x21, 0x13, kTcp4Addresses), Status::Malformed,
       "v2: unknown address family or transport", 16},
      {"v2 INET with UNSPEC transport", v2(0x21, 0x10, kTcp4Addresses), Status::Malformed,
       "v2: unknown address family or transport", 16},
      {"v2 length beyond the bound",
       v2(0x21, 0x11, kTcp4Addresses + tlv(0x04, std::string(kMaxV2Bytes - 16 - 12 - 2, 'n'))),
       Status::Malformed, "v2: header longer than 4096 bytes", 16},
      {"v2 length 0xffff", kSignature + hex("21 11 ffff") + kTcp4Addresses, Status::Malformed,
       "v2: header longer than 4096 bytes", 16},
      {"v2 TCP4 block too short", v2(0x21, 0x11, kTcp4Addresses.substr(0, 11)), Status::Malformed,
       "v2: address block shorter than its family needs", 16},
      {"v2 TCP6 with an IPv4-sized block", v2(0x21, 0x21, kTcp4Addresses), Status::Malformed,
       "v2: address block shorter than its family needs", 16},
      {"v2 UNIX block too short", v2(0x21, 0x31, std::string(215, '/')), Status::Malformed,
       "v2: address block shorter than its family needs", 16},
      {"v2 TLV overrunning the block", v2(0x21, 0x11, kTcp4Addresses + hex("04 0005 aabb")),
       Status::Malformed, "v2: a TLV runs past the end of the header", 16 + 12 + 3},
      {"v2 TLV overrunning after a good one",
       v2(0x21, 0x11, kTcp4Addresses + tlv(0x04, "ok") + hex("ea 0100")), Status::Malformed,
       "v2: a TLV runs past the end of the header", 16 + 12 + 5 + 3},
      {"v2 TLV header cut by the block's end", v2(0x21, 0x11, kTcp4Addresses + hex("04 00")),
       Status::Malformed, "v2: a TLV header runs past the end of the header", 16 + 12},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    const std::string input = c.input + "payload";
    const Outcome out = parse_whole(input);
    CHECK(out.status == c.status);
    CHECK(out.error == c.error);
    CHECK(out.consumed == (c.consumed == kWholeInput ? c.input.size() : c.consumed));
    CHECK((detect(input) == Detection::NotHeader) == (c.status == Status::NotProxy));
    grind(input, out);
  }
}

TEST_CASE("truncated headers wait for more", "[proxy_protocol]") {
  for (const char* file : {"haproxy_v1_tcp6", "haproxy_v2_tlvs", "haproxy_v2_local_check"}) {
    INFO(file);
    const std::string input = vector_file(file);
    const std::size_t header = parse_whole(input).consumed;
    for (std::size_t n = 0; n < header; ++n) {
      INFO("first " << n << " bytes");
      const Outcome part = parse_whole(input.substr(0, n));
      CHECK(part.status == Status::NeedMore);
      CHECK(part.consumed == n);
    }
  }
}

TEST_CASE("detection from the first bytes", "[proxy_protocol]") {
  CHECK(detect(std::string_view()) == Detection::NeedMore);
  for (const std::string& header : {std::string("PROXY "), kSignature}) {
    for (std::size_t n = 1; n < header.size(); ++n) {
      INFO(n);
      CHECK(detect(header.substr(0, n)) == Detection::NeedMore);
    }
    CHECK(detect(header) == Detection::Header);
    CHECK(detect(header + "more") == Detection::Header);
  }
  for (const char* text : {"G", "CONNECT a:443 HTTP/1.1", "\x16\x03\x01", "\x05\x01\x00",
                           "\x04\x01", "PROXZ", "PROXY\t", "\r\n\r\n\n"}) {
    INFO(text);
    CHECK(detect(std::string_view(text)) == Detection::NotHeader);
  }
}

TEST_CASE("final answers stay final and take nothing more", "[proxy_protocol]") {
  HeaderParser done;
  CHECK(done.feed(std::string_view("PROXY UNKNOWN\r\nrest")).consumed == 15);
  CHECK(done.feed(std::string_view("rest")).consumed == 0);
  CHECK(done.status() == Status::Done);
  HeaderParser refused;
  CHECK(refused.feed(std::string_view("GET")).status == Status::NotProxy);
  CHECK(refused.feed(std::string_view("PROXY UNKNOWN\r\n")).status == Status::NotProxy);
  CHECK(refused.consumed() == 1);
  CHECK(to_string(Status::Malformed) == "malformed_proxy_header");
}
