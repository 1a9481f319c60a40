#include <algorithm>
#include <array>

#include <chokepoint/core/byte_reader.hpp>
#include <chokepoint/tls/client_hello.hpp>

namespace chokepoint::tls {
namespace {

constexpr std::uint8_t kHandshakeRecord = 22;
constexpr std::uint8_t kClientHello = 1;
constexpr std::size_t kRecordHeader = 5;
constexpr std::size_t kMaxRecordPayload = 1 << 14;  // TLSPlaintext.length <= 2^14
constexpr std::size_t kMaxAlpn = 16;
constexpr std::size_t kMaxVersions = 32;

constexpr std::uint16_t kServerName = 0;
constexpr std::uint16_t kAlpn = 16;
constexpr std::uint16_t kSupportedVersions = 43;
constexpr std::uint16_t kEncryptedClientHello = 0xfe0d;

}  // namespace

std::string_view to_string(HelloStatus status) {
  switch (status) {
    case HelloStatus::NeedMore:
      return "need_more";
    case HelloStatus::Done:
      return "done";
    case HelloStatus::NotTls:
      return "not_tls";
    case HelloStatus::Malformed:
      return "malformed_client_hello";
    case HelloStatus::TooLarge:
      return "client_hello_too_large";
  }
  return "malformed_client_hello";
}

ClientHelloParser::ClientHelloParser(std::size_t max_bytes)
    : max_bytes_(std::min(max_bytes, kMaxHelloBound)) {}

HelloStatus ClientHelloParser::fail(HelloStatus status, std::string_view why) {
  status_ = status;
  error_ = why;
  message_.clear();
  message_.shrink_to_fit();
  return status_;
}

// Record layer (RFC 8446 5.1):
//
//   uint8  type            22 = handshake; every record until the hello ends
//   uint16 legacy_version  0x03XX
//   uint16 length          1 .. 2^14
//   opaque fragment[length]
//
// The handshake message may span records; its bytes are appended to
// message_ until the length in its own header has arrived.
HelloStatus ClientHelloParser::feed(std::span<const std::uint8_t> bytes) {
  while (status_ == HelloStatus::NeedMore && !bytes.empty()) {
    if (payload_left_ == 0) {
      // Decide NotTls on the first byte, so a plain-HTTP client is told apart at once.
      if (header_have_ == 0 && first_record_ && bytes[0] != kHandshakeRecord) {
        return fail(HelloStatus::NotTls, "the first byte is not a TLS handshake record");
      }
      const std::size_t take = std::min(kRecordHeader - header_have_, bytes.size());
      if (seen_ + take > max_bytes_)
        return fail(HelloStatus::TooLarge, "the ClientHello exceeds the byte bound");
      std::copy_n(bytes.begin(), take, header_ + header_have_);
      header_have_ += take;
      bytes = bytes.subspan(take);
      seen_ += take;
      if (header_have_ >= 2 && header_[1] != 0x03) {
        return fail(first_record_ ? HelloStatus::NotTls : HelloStatus::Malformed,
                    "record version is not 3.x");
      }
      if (header_have_ < kRecordHeader) break;
      if (header_[0] != kHandshakeRecord) {
        return fail(HelloStatus::Malformed, "a non-handshake record inside the ClientHello");
      }
      payload_left_ = (std::size_t{header_[3]} << 8) | header_[4];
      if (payload_left_ == 0 || payload_left_ > kMaxRecordPayload) {
        return fail(HelloStatus::Malformed, "record length out of range");
      }
      header_have_ = 0;
      first_record_ = false;
      continue;
    }
    // Take what the message still needs: its 4-byte header first, then the
    // length that header declares. Bytes after the hello are not ours.
    const std::size_t want =
        message_.size() < 4 ? 4 - message_.size() : message_total_ - message_.size();
    const std::size_t take = std::min({payload_left_, bytes.size(), want});
    if (seen_ + take > max_bytes_)
      return fail(HelloStatus::TooLarge, "the ClientHello exceeds the byte bound");
    message_.insert(message_.end(), bytes.begin(),
                    bytes.begin() + static_cast<std::ptrdiff_t>(take));
    bytes = bytes.subspan(take);
    payload_left_ -= take;
    seen_ += take;
    if (message_.size() == 4 && message_total_ == 0) {
      if (message_[0] != kClientHello) {
        return fail(HelloStatus::Malformed, "the first handshake message is not a ClientHello");
      }
      message_total_ =
          4 + ((std::size_t{message_[1]} << 16) | (std::size_t{message_[2]} << 8) | message_[3]);
      if (message_total_ > max_bytes_)
        return fail(HelloStatus::TooLarge, "the ClientHello exceeds the byte bound");
      message_.reserve(message_total_);  // one allocation, however many records it spans
    }
    if (message_total_ != 0 && message_.size() == message_total_) parse_message();
  }
  return status_;
}

// Handshake layer (RFC 8446 4, 4.1.2):
//
//   uint8  msg_type = 1 (client_hello)
//   uint24 length
//   uint16 legacy_version
//   opaque random[32]
//   opaque legacy_session_id<0..32>           u8 length
//   CipherSuite cipher_suites<2..2^16-2>      u16 length, even
//   opaque legacy_compression_methods<1..2^8-1>  u8 length
//   Extension extensions<0..2^16-1>           u16 length; absent in old TLS 1.2 hellos
HelloStatus ClientHelloParser::parse_message() {
  ByteReader body(std::span<const std::uint8_t>(message_).subspan(4));
  ByteReader session_id;
  ByteReader ciphers;
  ByteReader compression;
  if (!body.get_u16(info_.legacy_version) || !body.skip(32))
    return fail(HelloStatus::Malformed, "truncated random");
  if (!body.get_prefixed_u8(session_id) || session_id.remaining() > 32) {
    return fail(HelloStatus::Malformed, "bad legacy_session_id");
  }
  if (!body.get_prefixed_u16(ciphers) || ciphers.remaining() < 2 || ciphers.remaining() % 2 != 0) {
    return fail(HelloStatus::Malformed, "bad cipher_suites");
  }
  if (!body.get_prefixed_u8(compression) || compression.remaining() < 1) {
    return fail(HelloStatus::Malformed, "bad legacy_compression_methods");
  }
  if (body.empty()) {
    status_ = HelloStatus::Done;  // a TLS 1.2 hello with no extensions: no SNI
  } else {
    ByteReader extensions;
    if (!body.get_prefixed_u16(extensions) || !body.empty())
      return fail(HelloStatus::Malformed, "bad extensions block");
    if (parse_extensions(extensions.rest()) != HelloStatus::NeedMore) return status_;
    status_ = HelloStatus::Done;
  }
  message_.clear();
  message_.shrink_to_fit();
  return status_;
}

// Extensions (RFC 8446 4.2): uint16 type, opaque data<0..2^16-1>; no type twice.
//
//   server_name (RFC 6066 3):   ServerName server_name_list<1..2^16-1>
//                               { uint8 name_type = 0; opaque HostName<1..2^16-1> }
//   ALPN (RFC 7301 3.1):        ProtocolName protocol_name_list<2..2^16-1>, each <1..2^8-1>
//   supported_versions (4.2.1): ProtocolVersion versions<2..254>
//   encrypted_client_hello:     presence only (the outer hello is what we see)
HelloStatus ClientHelloParser::parse_extensions(std::span<const std::uint8_t> bytes) {
  ByteReader extensions(bytes);
  // Real hellos carry 10 to 25 extensions: remember those without touching
  // the heap. A hostile hello with thousands switches to a bitmap of every
  // type, so the duplicate check stays linear.
  constexpr std::size_t kInlineTypes = 48;
  std::array<std::uint16_t, kInlineTypes> seen_inline;
  std::size_t seen_count = 0;
  std::vector<bool> seen_all;
  const auto seen_before = [&](std::uint16_t type) {
    if (!seen_all.empty()) return static_cast<bool>(seen_all[type]);
    const auto last = seen_inline.begin() + static_cast<std::ptrdiff_t>(seen_count);
    return std::find(seen_inline.begin(), last, type) != last;
  };
  const auto remember = [&](std::uint16_t type) {
    if (seen_count < kInlineTypes) {
      seen_inline[seen_count++] = type;
      return;
    }
    if (seen_all.empty()) {
      seen_all.resize(std::size_t{1} << 16);
      for (const std::uint16_t earlier : seen_inline)
        seen_all[earlier] = true;
    }
    seen_all[type] = true;
  };
  while (!extensions.empty()) {
    std::uint16_t type;
    ByteReader data;
    if (!extensions.get_u16(type) || !extensions.get_prefixed_u16(data)) {
      return fail(HelloStatus::Malformed, "truncated extension");
    }
    if (seen_before(type)) return fail(HelloStatus::Malformed, "an extension appears twice");
    remember(type);

    if (type == kServerName) {
      ByteReader list;
      if (!data.get_prefixed_u16(list) || !data.empty() || list.empty()) {
        return fail(HelloStatus::Malformed, "bad server_name list");
      }
      while (!list.empty()) {
        std::uint8_t name_type;
        ByteReader name;
        if (!list.get_u8(name_type) || !list.get_prefixed_u16(name)) {
          return fail(HelloStatus::Malformed, "truncated server_name entry");
        }
        if (name_type != 0) continue;  // other name types are not defined; skip them
        if (info_.has_sni)
          return fail(HelloStatus::Malformed, "more than one host_name in server_name");
        const std::string_view text = name.rest_as_text();
        if (text.empty() || text.size() > 255 || text.find('\0') != std::string_view::npos) {
          return fail(HelloStatus::Malformed, "bad host_name in server_name");
        }
        info_.has_sni = true;
        info_.sni = std::string(text);
      }
    } else if (type == kAlpn) {
      ByteReader list;
      if (!data.get_prefixed_u16(list) || !data.empty() || list.empty()) {
        return fail(HelloStatus::Malformed, "bad ALPN list");
      }
      while (!list.empty()) {
        ByteReader protocol;
        if (!list.get_prefixed_u8(protocol) || protocol.empty()) {
          return fail(HelloStatus::Malformed, "bad ALPN protocol name");
        }
        if (info_.alpn.size() < kMaxAlpn) info_.alpn.emplace_back(protocol.rest_as_text());
      }
    } else if (type == kSupportedVersions) {
      ByteReader list;
      if (!data.get_prefixed_u8(list) || !data.empty() || list.remaining() < 2 ||
          list.remaining() % 2 != 0) {
        return fail(HelloStatus::Malformed, "bad supported_versions");
      }
      std::uint16_t version;
      info_.versions.reserve(std::min(list.remaining() / 2, kMaxVersions));
      while (list.get_u16(version)) {
        if (info_.versions.size() < kMaxVersions) info_.versions.push_back(version);
      }
    } else if (type == kEncryptedClientHello) {
      info_.ech = true;
    }
  }
  return status_;
}

}  // namespace chokepoint::tls
