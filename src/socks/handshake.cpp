#include <algorithm>

#include <chokepoint/socks/handshake.hpp>

namespace chokepoint::socks {
namespace {

constexpr std::uint8_t kSocks4 = 4;
constexpr std::uint8_t kSocks5 = 5;
constexpr std::uint8_t kAuthVersion = 1;
constexpr std::uint8_t kConnect = 1;
constexpr std::uint8_t kBind = 2;
constexpr std::uint8_t kUdpAssociate = 3;
constexpr std::uint8_t kAtypIpv4 = 1;
constexpr std::uint8_t kAtypDomain = 3;
constexpr std::uint8_t kAtypIpv6 = 4;
constexpr std::size_t kMaxField = 255;

std::string_view text(std::span<const std::uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

IpAddress ipv4_of(ByteReader bytes) {
  std::uint32_t value = 0;
  for (const std::uint8_t b : bytes.rest())
    value = (value << 8) | b;
  return IpAddress::v4(value);
}

enum class Field : std::uint8_t { Incomplete, Read, TooLong };

// A NUL-terminated field of at most kMaxField bytes (SOCKS4's USERID, 4a's
// domain); `out` excludes the NUL. TooLong as soon as byte 256 is not NUL.
Field read_nul_terminated(ByteReader& message, std::string_view& out) {
  const std::span<const std::uint8_t> start = message.rest();
  for (std::size_t n = 0;; ++n) {
    std::uint8_t b;
    if (!message.get_u8(b)) return Field::Incomplete;
    if (b == 0) {
      out = text(start.first(n));
      return Field::Read;
    }
    if (n == kMaxField) return Field::TooLong;
  }
}

}  // namespace

std::string_view to_string(Status status) {
  switch (status) {
    case Status::NeedMore:
      return "need_more";
    case Status::ChooseMethod:
      return "choose_method";
    case Status::CheckCredentials:
      return "check_credentials";
    case Status::Request:
      return "request";
    case Status::NotSocks:
      return "not_socks";
    case Status::Error:
      return "error";
  }
  return "error";
}

std::uint8_t select_method(std::span<const std::uint8_t> offered, bool password_required) {
  const std::uint8_t wanted = password_required ? kMethodUsernamePassword : kMethodNoAuth;
  return std::find(offered.begin(), offered.end(), wanted) != offered.end() ? wanted
                                                                            : kMethodNoAcceptable;
}

// Each message is gathered in buffer_ and walked from its first byte; a walk
// that runs out of bytes answers Incomplete and is repeated when more
// arrive. Every check is made on bytes in stream order and depends on
// nothing after them, so an error is found at the same byte however the
// stream was cut, and the bytes a step consumed are the same too: up to the
// end of the message, or up to the end of the field that made it invalid.
Step ServerHandshake::feed(std::span<const std::uint8_t> bytes) {
  if (status_ != Status::NeedMore || bytes.empty()) return {status_, 0};
  if (phase_ == Phase::First) {
    if (bytes[0] == kSocks5) {
      version_ = Version::V5;
      phase_ = Phase::Greeting;
    } else if (bytes[0] == kSocks4) {
      version_ = Version::V4;
      phase_ = Phase::V4Request;
    } else {
      error_ = {{}, "the first byte is neither 4 nor 5"};
      finish(Status::NotSocks);
      return {status_, 0};
    }
  }
  const std::size_t before = buffered_;
  const std::size_t take = std::min(bytes.size(), buffer_.size() - buffered_);
  std::copy_n(bytes.begin(), take, buffer_.begin() + static_cast<std::ptrdiff_t>(buffered_));
  buffered_ += take;

  ByteReader message(std::span<const std::uint8_t>(buffer_).first(buffered_));
  std::size_t used = take;
  if (walk(message) != Walk::Incomplete) {
    used = buffered_ - message.remaining() - before;
  } else if (buffered_ == buffer_.size()) {
    // Safe to reach only if a walker failed to decide within kMaxMessage
    // bytes (none does); without it a full buffer would ask for more forever.
    invalid({}, "message longer than the protocol allows");
  }
  consumed_ += used;
  return {status_, used};
}

ServerHandshake::Walk ServerHandshake::walk(ByteReader& message) {
  switch (phase_) {
    case Phase::Greeting:
      return walk_greeting(message);
    case Phase::Credentials:
      return walk_credentials(message);
    case Phase::V5Request:
      return walk_v5_request(message);
    case Phase::V4Request:
      return walk_v4_request(message);
    case Phase::First:
    case Phase::Finished:
      break;
  }
  return invalid({}, "handshake driven out of turn");
}

// SOCKS5 greeting (RFC 1928 3):
//
//   +----+----------+----------+
//   |VER | NMETHODS | METHODS  |
//   +----+----------+----------+
//   | 1  |    1     | 1 to 255 |
//   +----+----------+----------+
ServerHandshake::Walk ServerHandshake::walk_greeting(ByteReader& message) {
  std::uint8_t version;
  ByteReader methods;
  if (!message.get_u8(version) || !message.get_prefixed_u8(methods)) return Walk::Incomplete;
  if (methods.empty()) {
    return invalid(method_selection(kMethodNoAcceptable), "empty authentication method list");
  }
  methods_ = methods.rest();
  status_ = Status::ChooseMethod;
  return Walk::Complete;
}

// Username/password sub-negotiation (RFC 1929 2):
//
//   +----+------+----------+------+----------+
//   |VER | ULEN |  UNAME   | PLEN |  PASSWD  |
//   +----+------+----------+------+----------+
//   | 1  |  1   | 1 to 255 |  1   | 1 to 255 |
//   +----+------+----------+------+----------+
//
// VER is the sub-negotiation's own version, 1. Empty fields are refused as
// the RFC writes them (1 to 255), before any credential check sees them.
ServerHandshake::Walk ServerHandshake::walk_credentials(ByteReader& message) {
  std::uint8_t version;
  if (!message.get_u8(version)) return Walk::Incomplete;
  if (version != kAuthVersion) {
    return invalid(auth_status(false), "username/password sub-negotiation version is not 1");
  }
  ByteReader username;
  if (!message.get_prefixed_u8(username)) return Walk::Incomplete;
  if (username.empty()) return invalid(auth_status(false), "empty username");
  ByteReader password;
  if (!message.get_prefixed_u8(password)) return Walk::Incomplete;
  if (password.empty()) return invalid(auth_status(false), "empty password");

  const std::string_view name = username.rest_as_text();
  username_size_ = name.copy(username_.data(), username_.size());
  password_ = password.rest_as_text();
  status_ = Status::CheckCredentials;
  return Walk::Complete;
}

// SOCKS5 request (RFC 1928 4, addresses 5):
//
//   +----+-----+-------+------+----------+----------+
//   |VER | CMD |  RSV  | ATYP | DST.ADDR | DST.PORT |
//   +----+-----+-------+------+----------+----------+
//   | 1  |  1  | X'00' |  1   | Variable |    2     |
//   +----+-----+-------+------+----------+----------+
//
//   CMD   1 CONNECT, 2 BIND, 3 UDP ASSOCIATE
//   ATYP  1 IPv4: 4 bytes; 3 domain: 1 length byte, then the name (no NUL);
//         4 IPv6: 16 bytes. DST.PORT in network order.
//
// The command is judged before the address, so BIND with an odd address
// type is still told "command not supported".
ServerHandshake::Walk ServerHandshake::walk_v5_request(ByteReader& message) {
  std::uint8_t version;
  if (!message.get_u8(version)) return Walk::Incomplete;
  if (version != kSocks5) {
    return invalid(v5_reply(ReplyCode::GeneralFailure), "request version is not 5");
  }
  std::uint8_t command;
  if (!message.get_u8(command)) return Walk::Incomplete;
  if (command == kBind) {
    return invalid(v5_reply(ReplyCode::CommandNotSupported), "BIND is not supported");
  }
  if (command == kUdpAssociate) {
    return invalid(v5_reply(ReplyCode::CommandNotSupported), "UDP ASSOCIATE is not supported");
  }
  if (command != kConnect) {
    return invalid(v5_reply(ReplyCode::CommandNotSupported), "unknown command");
  }
  std::uint8_t reserved;
  if (!message.get_u8(reserved)) return Walk::Incomplete;
  if (reserved != 0) {
    return invalid(v5_reply(ReplyCode::GeneralFailure), "reserved byte is not zero");
  }
  std::uint8_t type;
  if (!message.get_u8(type)) return Walk::Incomplete;
  request_ = Request{};
  request_.version = Version::V5;
  if (type == kAtypIpv4) {
    ByteReader address;
    if (!message.get_bytes(4, address)) return Walk::Incomplete;
    request_.type = AddressType::Ipv4;
    request_.address = ipv4_of(address);
  } else if (type == kAtypIpv6) {
    ByteReader address;
    if (!message.get_bytes(16, address)) return Walk::Incomplete;
    std::array<std::uint8_t, 16> bytes;
    std::copy_n(address.rest().begin(), 16, bytes.begin());
    request_.type = AddressType::Ipv6;
    request_.address = IpAddress::v6(bytes);
  } else if (type == kAtypDomain) {
    ByteReader name;
    if (!message.get_prefixed_u8(name)) return Walk::Incomplete;
    if (name.empty()) return invalid(v5_reply(ReplyCode::GeneralFailure), "empty domain name");
    request_.type = AddressType::Domain;
    request_.domain = name.rest_as_text();
  } else {
    return invalid(v5_reply(ReplyCode::AddressTypeNotSupported), "unknown address type");
  }
  if (!message.get_u16(request_.port)) return Walk::Incomplete;
  finish(Status::Request);
  return Walk::Complete;
}

// SOCKS4 request ("SOCKS: A protocol for TCP proxy across firewalls", Ying-Da
// Lee), with the SOCKS4A extension:
//
//   +----+----+----+----+----+----+----+----+----+....+----+
//   | VN | CD | DSTPORT |      DSTIP        | USERID  |NULL|
//   +----+----+----+----+----+----+----+----+----+....+----+
//      1    1      2              4          variable   1
//
//   VN 4; CD 1 CONNECT, 2 BIND. SOCKS4A: DSTIP 0.0.0.x with x != 0 means
//   the domain name follows the USERID's NUL, itself NUL-terminated.
//
// Neither protocol bounds USERID or the domain; we do, at 255 bytes each
// (SOCKS5's own limit for names), so the request fits kMaxMessage.
ServerHandshake::Walk ServerHandshake::walk_v4_request(ByteReader& message) {
  const ServerMessage rejected = v4_reply(false);
  std::uint8_t version;
  std::uint8_t command;
  if (!message.get_u8(version) || !message.get_u8(command)) return Walk::Incomplete;
  if (command == kBind) return invalid(rejected, "BIND is not supported");
  if (command != kConnect) return invalid(rejected, "unknown command");
  request_ = Request{};
  request_.version = Version::V4;
  ByteReader address;
  if (!message.get_u16(request_.port) || !message.get_bytes(4, address)) return Walk::Incomplete;
  switch (read_nul_terminated(message, request_.user_id)) {
    case Field::Incomplete:
      return Walk::Incomplete;
    case Field::TooLong:
      return invalid(rejected, "user id longer than 255 bytes");
    case Field::Read:
      break;
  }
  const auto ip = address.rest();
  if (ip[0] == 0 && ip[1] == 0 && ip[2] == 0 && ip[3] != 0) {
    switch (read_nul_terminated(message, request_.domain)) {
      case Field::Incomplete:
        return Walk::Incomplete;
      case Field::TooLong:
        return invalid(rejected, "domain name longer than 255 bytes");
      case Field::Read:
        break;
    }
    if (request_.domain.empty()) return invalid(rejected, "empty domain name");
    request_.type = AddressType::Domain;
  } else {
    request_.type = AddressType::Ipv4;
    request_.address = ipv4_of(address);
  }
  finish(Status::Request);
  return Walk::Complete;
}

ServerHandshake::Walk ServerHandshake::invalid(ServerMessage reply, std::string_view reason) {
  error_ = {reply, reason};
  finish(Status::Error);
  return Walk::Invalid;
}

void ServerHandshake::next_message(Phase phase) {
  phase_ = phase;
  status_ = Status::NeedMore;
  buffered_ = 0;
  methods_ = {};
}

void ServerHandshake::finish(Status status) {
  phase_ = Phase::Finished;
  status_ = status;
}

ServerMessage ServerHandshake::method_selected(std::uint8_t method) {
  if (status_ != Status::ChooseMethod) {
    if (status_ != Status::Error && status_ != Status::NotSocks) {
      error_ = {{}, "handshake driven out of turn"};
      finish(Status::Error);
    }
    return {};
  }
  const bool offered = std::find(methods_.begin(), methods_.end(), method) != methods_.end();
  if (offered && (method == kMethodNoAuth || method == kMethodUsernamePassword)) {
    method_ = method;
    next_message(method == kMethodNoAuth ? Phase::V5Request : Phase::Credentials);
    return method_selection(method);
  }
  error_ = {{}, "no acceptable authentication method"};
  finish(Status::Error);
  return method_selection(kMethodNoAcceptable);
}

ServerMessage ServerHandshake::credentials_checked(bool accepted) {
  if (status_ != Status::CheckCredentials) {
    if (status_ != Status::Error && status_ != Status::NotSocks) {
      error_ = {{}, "handshake driven out of turn"};
      finish(Status::Error);
    }
    return {};
  }
  // The password is not needed past this point; do not keep it in memory.
  std::fill(buffer_.begin(), buffer_.end(), std::uint8_t{0});
  password_ = {};
  if (!accepted) {
    error_ = {{}, "username or password refused"};
    finish(Status::Error);
    return auth_status(false);
  }
  next_message(Phase::V5Request);
  return auth_status(true);
}

}  // namespace chokepoint::socks
