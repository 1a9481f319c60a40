// What a SOCKS server sends: the method selection and the request reply of
// SOCKS5 (RFC 1928 3, 6), the status of username/password authentication
// (RFC 1929 2), and the reply of SOCKS4 and 4a.
//
// Pure encoders into a small fixed buffer: no allocation, no I/O. The
// handshake (handshake.hpp) hands out some of these itself; the session
// builds the final reply to a request with request_reply() once it knows how
// the dial went.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include <chokepoint/core/ip.hpp>

namespace chokepoint::socks {

enum class Version : std::uint8_t { Unknown = 0, V4 = 4, V5 = 5 };  // 4a is V4 with a domain

// SOCKS5 authentication methods (RFC 1928 3) that chokepoint speaks.
inline constexpr std::uint8_t kMethodNoAuth = 0x00;
inline constexpr std::uint8_t kMethodUsernamePassword = 0x02;  // RFC 1929
inline constexpr std::uint8_t kMethodNoAcceptable = 0xff;

// SOCKS5 reply codes (RFC 1928 6). The session answers every request in
// these terms; request_reply() folds them into SOCKS4's granted/rejected.
enum class ReplyCode : std::uint8_t {
  Succeeded = 0x00,
  GeneralFailure = 0x01,
  NotAllowed = 0x02,  // "connection not allowed by ruleset": a policy deny
  NetworkUnreachable = 0x03,
  HostUnreachable = 0x04,  // includes a name that does not resolve
  ConnectionRefused = 0x05,
  TtlExpired = 0x06,  // used for a dial timeout
  CommandNotSupported = 0x07,
  AddressTypeNotSupported = 0x08,
};

// SOCKS4 reply codes.
inline constexpr std::uint8_t kV4Granted = 0x5a;
inline constexpr std::uint8_t kV4Rejected = 0x5b;

// The longest server message: a SOCKS5 reply with an IPv6 bound address
// (4 + 16 + 2 bytes).
inline constexpr std::size_t kMaxServerMessage = 22;

// Bytes to write to the client, held by value. Empty means "send nothing".
struct ServerMessage {
  std::array<std::uint8_t, kMaxServerMessage> data{};
  std::size_t size = 0;

  std::span<const std::uint8_t> bytes() const { return std::span(data).first(size); }
  bool empty() const { return size == 0; }
};

// SOCKS5 method selection: VER=5, METHOD.
ServerMessage method_selection(std::uint8_t method);

// RFC 1929 status: VER=1, STATUS (0 success; 1 failure, after which the
// server must close the connection).
ServerMessage auth_status(bool success);

// SOCKS5 reply: VER=5, REP, RSV=0, ATYP, BND.ADDR, BND.PORT. `bound` is the
// address the proxy dialled from (IPv4 gives ATYP 1, IPv6 ATYP 4; pass an
// IPv4-mapped address through IpAddress::unmapped() first if IPv4 is meant).
// Failures carry 0.0.0.0:0, the default.
ServerMessage v5_reply(ReplyCode code, const IpAddress& bound = {}, std::uint16_t port = 0);

// SOCKS4 reply: VN=0, CD (0x5A granted, 0x5B rejected), DSTPORT, DSTIP. An
// IPv6 `bound` does not fit and is sent as 0.0.0.0 (clients ignore these
// fields after CONNECT).
ServerMessage v4_reply(bool granted, const IpAddress& bound = {}, std::uint16_t port = 0);

// The reply to a request in the client's version: SOCKS5 gets `code` as it
// is; SOCKS4 gets 0x5A for Succeeded and 0x5B for every other code.
ServerMessage request_reply(Version version, ReplyCode code, const IpAddress& bound = {},
                            std::uint16_t port = 0);

}  // namespace chokepoint::socks
