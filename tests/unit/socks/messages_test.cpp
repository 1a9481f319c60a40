// The server messages, byte for byte (RFC 1928 3 and 6, RFC 1929 2, SOCKS4).
#include <catch2/catch.hpp>

#include <chokepoint/socks/messages.hpp>

#include "../../support/test_bytes.hpp"

using namespace chokepoint;
using namespace chokepoint::socks;
using chokepoint::test::hex;
using chokepoint::test::text_of;

namespace {

std::string wire(const ServerMessage& m) {
  return text_of(m.bytes());
}

IpAddress ip(const char* text) {
  return *IpAddress::parse(text);
}

}  // namespace

TEST_CASE("method selection and authentication status", "[socks]") {
  CHECK(wire(method_selection(kMethodNoAuth)) == hex("05 00"));
  CHECK(wire(method_selection(kMethodUsernamePassword)) == hex("05 02"));
  CHECK(wire(method_selection(kMethodNoAcceptable)) == hex("05 ff"));
  CHECK(wire(auth_status(true)) == hex("01 00"));
  CHECK(wire(auth_status(false)) == hex("01 01"));
}

TEST_CASE("SOCKS5 replies carry the bound IPv4 or IPv6 address", "[socks]") {
  CHECK(wire(v5_reply(ReplyCode::Succeeded, ip("10.0.0.7"), 40000)) ==
        hex("05 00 00 01 0a000007 9c40"));
  CHECK(wire(v5_reply(ReplyCode::Succeeded, ip("2001:db8::1"), 443)) ==
        hex("05 00 00 04 20010db8000000000000000000000001 01bb"));
  CHECK(v5_reply(ReplyCode::Succeeded, ip("2001:db8::1"), 443).size == kMaxServerMessage);
  // Failures: 0.0.0.0:0.
  const std::pair<ReplyCode, const char*> codes[] = {
      {ReplyCode::GeneralFailure, "01"},      {ReplyCode::NotAllowed, "02"},
      {ReplyCode::NetworkUnreachable, "03"},  {ReplyCode::HostUnreachable, "04"},
      {ReplyCode::ConnectionRefused, "05"},   {ReplyCode::TtlExpired, "06"},
      {ReplyCode::CommandNotSupported, "07"}, {ReplyCode::AddressTypeNotSupported, "08"},
  };
  for (const auto& [code, byte] : codes) {
    INFO(byte);
    CHECK(wire(v5_reply(code)) == hex(std::string("05") + byte + "00 01 00000000 0000"));
  }
}

TEST_CASE("SOCKS4 replies: granted or rejected, IPv4 only", "[socks]") {
  CHECK(wire(v4_reply(true, ip("192.0.2.1"), 1080)) == hex("00 5a 0438 c0000201"));
  CHECK(wire(v4_reply(false)) == hex("00 5b 0000 00000000"));
  CHECK(wire(v4_reply(true, ip("2001:db8::1"), 80)) == hex("00 5a 0050 00000000"));
  CHECK(wire(v4_reply(true, ip("::ffff:192.0.2.1"), 80)) == hex("00 5a 0050 c0000201"));
}

TEST_CASE("the reply to a request speaks the client's version", "[socks]") {
  CHECK(wire(request_reply(Version::V5, ReplyCode::NotAllowed)) ==
        hex("05 02 00 01 00000000 0000"));
  CHECK(wire(request_reply(Version::V4, ReplyCode::Succeeded, ip("10.0.0.1"), 5000)) ==
        hex("00 5a 1388 0a000001"));
  for (const ReplyCode code :
       {ReplyCode::GeneralFailure, ReplyCode::NotAllowed, ReplyCode::HostUnreachable,
        ReplyCode::ConnectionRefused, ReplyCode::TtlExpired}) {
    CHECK(wire(request_reply(Version::V4, code)) == hex("00 5b 0000 00000000"));
  }
}
