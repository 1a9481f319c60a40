// The PROXY protocol header (HAProxy's doc/proxy-protocol.txt, versions 1
// and 2) that a load balancer puts in front of a connection to name the real
// client: HAProxy's send-proxy and send-proxy-v2, nginx's proxy_protocol on,
// AWS NLB (v2, with its own TLVs).
//
// Two pieces. detect() looks at a connection's first bytes and says whether
// they begin a PROXY header; the session uses it both ways: a connection
// from a trusted balancer must begin with one, and a connection from anyone
// else that begins with one is refused (nobody chooses their own address).
// HeaderParser reads the header as it arrives, in any segmentation, and
// stops at its last byte: what follows is the client's payload and stays
// with the caller.
//
// Written here on purpose: Debian packages no C or C++ library for the
// PROXY protocol (Go and Haskell ones only); every C/C++ receiver, HAProxy,
// nginx and Envoy included, carries its own parser.
//
// Pure and bounded: no I/O, no allocation, never reads past what it is
// given, never holds more than one v1 line (107 bytes) or the fixed part
// and addresses of a v2 header (52 bytes). v1 is read to the letter (single
// spaces, canonical addresses through core/ip.hpp, decimal ports without
// leading zeros, CRLF within 107 bytes). v2 must be version 2 with command
// LOCAL or PROXY, a length of at most kMaxV2Bytes in all, and an address
// block at least as long as its family needs; the TLVs after it are walked,
// each one's length checked against the block, and skipped: nothing in them
// is trusted or used (PP2_TYPE_CRC32C is not verified, which the spec allows
// a receiver that does not implement it).
//
// What the session does with each kind of header:
//   - PROXY over TCP on IPv4 or IPv6 (v1 TCP4/TCP6, v2 0x11/0x21):
//     has_client_address() is true; `source` is the client to identify,
//     `destination` the address it reached on the balancer. The
//     connection's own peer is the balancer (the audit record's `via`).
//   - v2 LOCAL: the balancer's own connection (a health check). No client
//     address: the peer is the client, as the spec requires.
//   - v1 UNKNOWN, v2 PROXY with UNSPEC, UDP or UNIX: no client address
//     either. The spec asks the receiver to use the real connection's
//     addresses (UNKNOWN) or lets it refuse (UNSPEC); a datagram or UNIX
//     source names nothing the policy can judge. has_client_address() is
//     false and the session treats the connection as the balancer's own,
//     or refuses it: the parser only reports.
// Addresses are reported as sent: an IPv4 client behind an IPv6 listener
// comes as ::ffff:a.b.c.d (HAProxy does this); IpAddress::unmapped()
// turns it back.
//
// How a session drives it (`pending`: the bytes read so far):
//
//   if (detect(pending) == Detection::NeedMore) read more first;
//   HeaderParser parser;
//   for (;;) {
//     const Step step = parser.feed(pending);
//     pending.erase(0, step.consumed);
//     if (step.status == Status::NeedMore) { read more into pending; continue; }
//     if (step.status == Status::Done) break;  // parser.header(); `pending` is payload
//     close; audit parser.error();          // NotProxy or Malformed
//   }
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include <chokepoint/core/endpoint.hpp>

namespace chokepoint::proxy_protocol {

// v1: "PROXY UNKNOWN ffff:...:ffff ffff:...:ffff 65535 65535\r\n", the
// spec's worst case, CRLF included.
inline constexpr std::size_t kMaxV1Bytes = 107;
// v2: the 16-byte fixed part and the block its length announces. The spec
// allows 16 + 65535; receivers bound it by what they can buffer: nginx at
// 4096 bytes (NGX_PROXY_PROTOCOL_MAX_HEADER), HAProxy at its buffer size
// (tune.bufsize, 16 KiB). We take nginx's, so any balancer nginx accepts we
// accept: real headers are far smaller (AWS NLB's with its VPC endpoint TLV
// is under 100 bytes, HAProxy's with every optional TLV a few hundred).
inline constexpr std::size_t kMaxV2Bytes = 4096;

enum class Detection : std::uint8_t {
  NeedMore,   // the bytes so far are a strict prefix of a signature: read more
  Header,     // they begin with "PROXY " (v1) or the 12-byte v2 signature
  NotHeader,  // they cannot begin a PROXY header
};

// Looks only at `first_bytes` (the start of the connection). Needs at most 12
// bytes to answer, and answers NotHeader on the first byte for anything but
// 'P' and '\r' (TLS, HTTP, SOCKS all decide at once). Empty input: NeedMore.
Detection detect(std::span<const std::uint8_t> first_bytes);
inline Detection detect(std::string_view first_bytes) {
  return detect(std::span<const std::uint8_t>(
      reinterpret_cast<const std::uint8_t*>(first_bytes.data()), first_bytes.size()));
}

enum class Status : std::uint8_t {
  NeedMore,   // a prefix of a header so far: feed more
  Done,       // a complete, valid header; header() is filled in
  NotProxy,   // the stream does not begin with a PROXY signature
  Malformed,  // a PROXY signature, then something the spec does not allow (error() says what)
};
std::string_view to_string(Status status);

// The v2 wire values.
enum class Command : std::uint8_t { Local = 0, Proxy = 1 };  // v1 is always Proxy
enum class Family : std::uint8_t { Unspec = 0, Inet = 1, Inet6 = 2, Unix = 3 };
enum class Transport : std::uint8_t { Unspec = 0, Stream = 1, Dgram = 2 };

struct Header {
  int version = 0;  // 1 or 2
  Command command = Command::Proxy;
  // v1 TCP4: Inet/Stream, TCP6: Inet6/Stream, UNKNOWN: Unspec/Unspec. v2 as
  // sent for PROXY; Unspec/Unspec for LOCAL, whose family the spec says to ignore.
  Family family = Family::Unspec;
  Transport transport = Transport::Unspec;
  Endpoint source;       // meaningful when has_client_address()
  Endpoint destination;  // meaningful when has_client_address()

  bool has_client_address() const {
    return command == Command::Proxy && transport == Transport::Stream &&
           (family == Family::Inet || family == Family::Inet6);
  }
};

// One feed(): the status after it, and how many of the given bytes it took
// (never a byte past the header's end).
struct Step {
  Status status = Status::NeedMore;
  std::size_t consumed = 0;
};

class HeaderParser {
 public:
  // Takes the next bytes of the connection. Returns NeedMore until the
  // header is complete or refused; after that the same final status, taking
  // nothing. On Done, the bytes past `consumed` are the client's payload.
  Step feed(std::span<const std::uint8_t> bytes);
  Step feed(std::string_view bytes) {
    return feed(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                              bytes.size()));
  }

  Status status() const { return status_; }
  const Header& header() const { return header_; }
  // Bytes taken over all calls: on Done, the header's exact length.
  std::size_t consumed() const { return consumed_; }
  // NotProxy and Malformed: a short lowercase reason for the audit record.
  std::string_view error() const { return error_; }

 private:
  enum class Phase : std::uint8_t { Signature, V1Line, V2Fixed, V2Addresses, V2Tlvs, V2Skip };

  std::size_t take_signature(std::span<const std::uint8_t> bytes);
  std::size_t take_v1(std::span<const std::uint8_t> bytes);
  std::size_t take_v2_fixed(std::span<const std::uint8_t> bytes);
  std::size_t take_v2_addresses(std::span<const std::uint8_t> bytes);
  std::size_t take_v2_tlvs(std::span<const std::uint8_t> bytes);
  std::size_t take_v2_skip(std::span<const std::uint8_t> bytes);
  std::string_view read_v2_fixed();
  void at_tlv_boundary();
  void fail(Status status, std::string_view why);
  void done();

  Phase phase_ = Phase::Signature;
  Status status_ = Status::NeedMore;
  std::size_t consumed_ = 0;
  std::string_view error_;
  Header header_;
  // The signature, then a v1 line or the v2 fixed part and addresses.
  std::uint8_t bytes_[kMaxV1Bytes] = {};
  std::size_t have_ = 0;
  // v2: what is left of the block the length announced, the address bytes
  // still to read, and the TLV being walked (header bytes seen, value left).
  std::size_t block_left_ = 0;
  std::size_t address_size_ = 0;
  std::uint8_t tlv_header_[3] = {};
  std::size_t tlv_have_ = 0;
  std::size_t tlv_value_left_ = 0;
};

}  // namespace chokepoint::proxy_protocol
