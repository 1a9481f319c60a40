// Reading the TLS ClientHello a client sends first, without terminating TLS:
// the server name (SNI), ALPN, offered versions, and whether an ECH
// extension is present (RFC 8446 4.1.2, RFC 6066 3, RFC 7301).
//
// Incremental and bounded: feed() takes the stream in any segmentation and
// reassembles the handshake message across TLS records (post-quantum key
// shares make 1.5 to 2 KiB hellos common, and a client may split them into
// several records). It never reads past what it was given, every length is
// checked against its parent before use, and it never holds more than the
// byte bound it was built with.
//
// Written here rather than taken from OpenSSL: OpenSSL 3.0 can only see a
// hello by running a handshake on an SSL object (costly per connection, and
// not a function a fuzzer can drive); tests use OpenSSL as the oracle.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chokepoint::tls {

enum class HelloStatus : std::uint8_t {
  NeedMore,   // a prefix of a ClientHello so far: feed more
  Done,       // a complete ClientHello; info() is filled in
  NotTls,     // the stream does not start with a TLS handshake record
  Malformed,  // TLS, but not a well-formed ClientHello (error() says why)
  TooLarge,   // the hello would exceed the byte bound
};
std::string_view to_string(HelloStatus status);

struct ClientHelloInfo {
  bool has_sni = false;
  std::string sni;                // as sent (the caller normalises it)
  std::vector<std::string> alpn;  // at most kMaxAlpn entries kept
  std::uint16_t legacy_version = 0;
  std::vector<std::uint16_t> versions;  // supported_versions, when offered
  bool ech = false;                     // encrypted_client_hello present: `sni` is the outer name
};

inline constexpr std::size_t kDefaultHelloBound = 16 * 1024;
inline constexpr std::size_t kMaxHelloBound = 64 * 1024;

class ClientHelloParser {
 public:
  // `max_bytes`: the most stream bytes (record headers included) this parser
  // will take before answering TooLarge.
  explicit ClientHelloParser(std::size_t max_bytes = kDefaultHelloBound);

  // Takes the next bytes of the stream. Returns NeedMore until the answer is
  // known; after that, the same final status for every call.
  HelloStatus feed(std::span<const std::uint8_t> bytes);
  HelloStatus feed(std::string_view bytes) {
    return feed(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                              bytes.size()));
  }

  HelloStatus status() const { return status_; }
  const ClientHelloInfo& info() const { return info_; }
  // Moves the info out once Done (the parser is finished with it).
  ClientHelloInfo take_info() { return std::move(info_); }
  std::string_view error() const { return error_; }

 private:
  HelloStatus fail(HelloStatus status, std::string_view why);
  HelloStatus parse_message();
  HelloStatus parse_extensions(std::span<const std::uint8_t> extensions);

  std::size_t max_bytes_;
  std::size_t seen_ = 0;
  HelloStatus status_ = HelloStatus::NeedMore;
  std::string_view error_;
  // Record layer: the 5-byte header being read, then the payload left.
  std::uint8_t header_[5] = {};
  std::size_t header_have_ = 0;
  std::size_t payload_left_ = 0;
  bool first_record_ = true;
  // Handshake layer: the reassembled message.
  std::vector<std::uint8_t> message_;
  std::size_t message_total_ = 0;  // header + declared length, once known
  ClientHelloInfo info_;
};

}  // namespace chokepoint::tls
