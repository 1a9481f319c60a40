// The server side of a SOCKS handshake, for a port that speaks SOCKS4, SOCKS4a
// and SOCKS5 (RFC 1928) with username/password authentication (RFC 1929),
// told apart by the first byte (4 or 5; anything else is not SOCKS).
//
// A pure state machine: it reads the client's bytes as they arrive, in any
// segmentation, and stops at each point where the session must decide
// something: which authentication method to use, whether the credentials
// are good, and what to do with the request. It never does I/O, never
// allocates, never reads past what it is given, and never takes a byte past
// the message it is reading: bytes after the request are the client's early
// data for the tunnel (clients send optimistically: greeting, request and a
// TLS ClientHello may share one segment) and stay with the caller. Every
// message is bounded by the protocol's own limits (255 methods, 255-byte
// names, user and password fields; SOCKS4's user id and 4a's domain at most
// 255 bytes before their NUL), so the handshake holds one buffer of
// kMaxMessage bytes. Malformed input ends it with an Error that carries the
// reply to send and a short reason for the audit record.
//
// Only CONNECT is served: BIND and UDP ASSOCIATE are answered with their
// refusals (SOCKS5 0x07, SOCKS4 0x5B). The SOCKS4 user id is recorded, never
// trusted as an identity. A domain is handed out as the raw bytes the client
// sent; the session normalises it with normalize_host (core/host.hpp) and
// refuses what is not a host name.
//
// Written here on purpose: Debian's C and C++ SOCKS libraries are client side
// (Dante's libsocksd socksifies programs) and its SOCKS servers are whole
// daemons (dante-server), not parsers to embed; none reads a handshake
// incrementally without allocating. The handshake is small enough to own
// and fuzz.
//
// How a session drives it (`pending`: bytes read from the client and not
// consumed yet; `send`: write to the client):
//
//   ServerHandshake hs;
//   for (;;) {
//     const Step step = hs.feed(pending);
//     pending.erase(0, step.consumed);
//     if (step.status == Status::NeedMore) {
//       read more into pending;
//     } else if (step.status == Status::ChooseMethod) {
//       send(hs.method_selected(select_method(hs.offered_methods(), have_users_file)));
//     } else if (step.status == Status::CheckCredentials) {
//       send(hs.credentials_checked(users.check(hs.username(), hs.password())));
//     } else if (step.status == Status::Request) {
//       decide on hs.request(), dial, then
//       send(request_reply(hs.version(), code, bound_address, bound_port));
//       on success relay, writing `pending` (early data) upstream first;
//       break;
//     } else {  // NotSocks, Error
//       send(hs.error().reply) unless empty; close; audit hs.error().reason;
//       break;
//     }
//   }
//
// After method_selected() and credentials_checked() the loop feeds again
// (even with nothing pending): a refusal shows up there as Error with an
// empty reply, so every ending goes through the same branch.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include <chokepoint/core/byte_reader.hpp>
#include <chokepoint/core/ip.hpp>
#include <chokepoint/socks/messages.hpp>

namespace chokepoint::socks {

enum class Status : std::uint8_t {
  NeedMore,          // feed more bytes
  ChooseMethod,      // SOCKS5 greeting read: answer with method_selected()
  CheckCredentials,  // RFC 1929 username/password read: answer with credentials_checked()
  Request,           // the request is read; the handshake is over
  NotSocks,          // the first byte is neither 4 nor 5: close without a reply
  Error,             // malformed or refused: error() says what to send and why
};
std::string_view to_string(Status status);

// The result of one feed(): the status after it, and how many of the bytes
// given it took. Bytes past `consumed` were not looked at by this step: feed
// them again after acting on the status (they may be the next message, or
// after Request, early data).
struct Step {
  Status status = Status::NeedMore;
  std::size_t consumed = 0;
};

enum class AddressType : std::uint8_t { Ipv4, Ipv6, Domain };

// A CONNECT request (the only command that reaches Request). The views point
// into the handshake and stay valid as long as it lives.
struct Request {
  Version version = Version::Unknown;
  AddressType type = AddressType::Ipv4;
  IpAddress address;         // Ipv4 or Ipv6
  std::string_view domain;   // Domain: 1..255 raw bytes as sent, not normalised
  std::uint16_t port = 0;    // as sent; 0 is possible and left to the session to refuse
  std::string_view user_id;  // SOCKS4 and 4a: 0..255 bytes, recorded, never an identity

  bool socks4a() const { return version == Version::V4 && type == AddressType::Domain; }
};

// Why the handshake ended, and the reply that says so to the client: a
// SOCKS5 reply with its code (0x07 for BIND/UDP ASSOCIATE, 0x08 for an
// unknown address type, 0x01 otherwise), SOCKS4's 0x5B, a 0xFF method
// selection for an empty method list, an RFC 1929 failure status for a bad
// sub-negotiation. Empty when nothing is to be sent: not SOCKS, or a refusal
// already returned by method_selected() / credentials_checked().
struct Error {
  ServerMessage reply;
  std::string_view reason;  // short lowercase phrase for the audit record
};

// The largest client message: a SOCKS4a request with a 255-byte user id and
// a 255-byte domain (8 + 256 + 256 bytes). RFC 1929's is 513, SOCKS5's
// request 262, its greeting 257.
inline constexpr std::size_t kMaxMessage = 520;

class ServerHandshake {
 public:
  ServerHandshake() = default;
  // The views it hands out point into itself: it stays where it was made.
  ServerHandshake(const ServerHandshake&) = delete;
  ServerHandshake& operator=(const ServerHandshake&) = delete;

  // Takes the next bytes from the client. Stops at the end of each message
  // (see Step). Once the status is anything but NeedMore, further calls take
  // nothing and return it again until the session answers (ChooseMethod,
  // CheckCredentials); Request, NotSocks and Error are final.
  Step feed(std::span<const std::uint8_t> bytes);
  Step feed(std::string_view bytes) {
    return feed(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                              bytes.size()));
  }

  Status status() const { return status_; }
  // Unknown until the first byte, then V4 or V5.
  Version version() const { return version_; }
  // Every byte taken so far, over all calls.
  std::size_t consumed() const { return consumed_; }

  // ChooseMethod: the methods the client offered (1..255 bytes, as sent).
  // Valid until method_selected().
  std::span<const std::uint8_t> offered_methods() const { return methods_; }

  // ChooseMethod: records the session's choice and returns the method
  // selection to send. kMethodNoAuth or kMethodUsernamePassword (when the
  // client offered it) continue the handshake (status NeedMore); anything
  // else (kMethodNoAcceptable, or a method not offered) returns the 0xFF
  // selection and ends it with Error (its reply is empty: the selection
  // returned here is the refusal). Called out of turn: Error, nothing to send.
  ServerMessage method_selected(std::uint8_t method);
  // The method chosen, kMethodNoAcceptable until then (for the audit record).
  std::uint8_t method() const { return method_; }

  // CheckCredentials: the RFC 1929 username (1..255 bytes, valid as long as
  // the handshake lives) and password (1..255 bytes, valid until
  // credentials_checked(), which wipes it).
  std::string_view username() const { return {username_.data(), username_size_}; }
  std::string_view password() const { return password_; }

  // CheckCredentials: returns the RFC 1929 status to send. Accepted: the
  // handshake goes on (NeedMore, the request comes next). Refused: it ends
  // with Error (reply empty: the failure status returned here is the
  // refusal; close after sending it).
  ServerMessage credentials_checked(bool accepted);

  // Request: what the client asks for.
  const Request& request() const { return request_; }

  // NotSocks and Error: what to send (may be empty) and why.
  const Error& error() const { return error_; }

 private:
  enum class Phase : std::uint8_t { First, Greeting, Credentials, V5Request, V4Request, Finished };
  enum class Walk : std::uint8_t { Incomplete, Complete, Invalid };

  Walk walk(ByteReader& message);
  Walk walk_greeting(ByteReader& message);
  Walk walk_credentials(ByteReader& message);
  Walk walk_v5_request(ByteReader& message);
  Walk walk_v4_request(ByteReader& message);
  Walk invalid(ServerMessage reply, std::string_view reason);
  void next_message(Phase phase);
  void finish(Status status);

  Phase phase_ = Phase::First;
  Status status_ = Status::NeedMore;
  Version version_ = Version::Unknown;
  std::uint8_t method_ = kMethodNoAcceptable;
  std::size_t consumed_ = 0;
  // The message being read, from its first byte. A walk over it that runs
  // out of bytes means "need more"; the walk is repeated on each arrival
  // (at most kMaxMessage bytes, so at worst a few hundred thousand byte
  // reads for a client that sends one byte per segment).
  std::array<std::uint8_t, kMaxMessage> buffer_{};
  std::size_t buffered_ = 0;
  std::span<const std::uint8_t> methods_;
  std::array<char, 255> username_{};
  std::size_t username_size_ = 0;
  std::string_view password_;
  Request request_;
  Error error_;
};

// The method policy: with a users file the proxy requires username/password
// (a client offering only "no authentication" gets 0xFF); without one it
// takes "no authentication" when offered, else 0xFF.
std::uint8_t select_method(std::span<const std::uint8_t> offered, bool password_required);

}  // namespace chokepoint::socks
