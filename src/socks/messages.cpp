#include <chokepoint/socks/messages.hpp>

namespace chokepoint::socks {
namespace {

constexpr std::uint8_t kSocks5 = 5;
constexpr std::uint8_t kAuthVersion = 1;  // RFC 1929 2
constexpr std::uint8_t kV4ReplyVersion = 0;
constexpr std::uint8_t kAtypIpv4 = 1;
constexpr std::uint8_t kAtypIpv6 = 4;

class Writer {
 public:
  Writer& u8(std::uint8_t b) {
    message_.data[message_.size++] = b;
    return *this;
  }
  Writer& u16(std::uint16_t v) { return u8(static_cast<std::uint8_t>(v >> 8)).u8(v & 0xff); }
  Writer& raw(std::span<const std::uint8_t> bytes) {
    for (const std::uint8_t b : bytes)
      u8(b);
    return *this;
  }
  ServerMessage done() const { return message_; }

 private:
  ServerMessage message_;
};

}  // namespace

ServerMessage method_selection(std::uint8_t method) {
  return Writer().u8(kSocks5).u8(method).done();
}

ServerMessage auth_status(bool success) {
  return Writer().u8(kAuthVersion).u8(success ? 0x00 : 0x01).done();
}

//   +----+-----+-------+------+----------+----------+
//   |VER | REP |  RSV  | ATYP | BND.ADDR | BND.PORT |   RFC 1928 6
//   +----+-----+-------+------+----------+----------+
//   | 1  |  1  | X'00' |  1   | Variable |    2     |
//   +----+-----+-------+------+----------+----------+
ServerMessage v5_reply(ReplyCode code, const IpAddress& bound, std::uint16_t port) {
  Writer w;
  w.u8(kSocks5).u8(static_cast<std::uint8_t>(code)).u8(0x00);
  if (bound.is_v4()) {
    w.u8(kAtypIpv4).raw(std::span(bound.bytes()).first(4));
  } else {
    w.u8(kAtypIpv6).raw(bound.bytes());
  }
  return w.u16(port).done();
}

//   +----+----+----+----+----+----+----+----+
//   | VN | CD | DSTPORT |      DSTIP        |   SOCKS4, "Reply"
//   +----+----+----+----+----+----+----+----+
//      1    1      2              4
ServerMessage v4_reply(bool granted, const IpAddress& bound, std::uint16_t port) {
  const IpAddress v4 = bound.unmapped();
  Writer w;
  w.u8(kV4ReplyVersion).u8(granted ? kV4Granted : kV4Rejected).u16(port);
  if (v4.is_v4()) {
    w.raw(std::span(v4.bytes()).first(4));
  } else {
    w.u8(0).u8(0).u8(0).u8(0);
  }
  return w.done();
}

ServerMessage request_reply(Version version, ReplyCode code, const IpAddress& bound,
                            std::uint16_t port) {
  if (version == Version::V4) return v4_reply(code == ReplyCode::Succeeded, bound, port);
  return v5_reply(code, bound, port);
}

}  // namespace chokepoint::socks
