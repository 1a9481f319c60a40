// The ClientHello parser on real hellos (OpenSSL built in memory; GnuTLS,
// curl, python and Chromium captured by vectors/capture.py), fed in every
// segmentation and re-framed into 1..N records; and on malformed ones.
#include <fstream>
#include <iterator>

#include <catch2/catch.hpp>

#include <chokepoint/tls/client_hello.hpp>

#include "../../support/client_hello_builder.hpp"

using namespace chokepoint;
using namespace chokepoint::tls;
using chokepoint::test::HelloOptions;
using chokepoint::test::openssl_client_hello;
using chokepoint::test::rechunk;
using chokepoint::test::record;

namespace {

std::string vector_file(const std::string& name) {
  std::ifstream in(std::string(CHOKEPOINT_SOURCE_DIR) + "/tests/unit/tls/vectors/" + name,
                   std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Feeds `bytes` split at `at`: the prefix must leave the parser wanting more
// (or already answered, when the answer comes earlier), the whole must match.
HelloStatus feed_split(ClientHelloParser& p, const std::string& bytes, std::size_t at) {
  const HelloStatus first = p.feed(std::string_view(bytes).substr(0, at));
  const HelloStatus second = p.feed(std::string_view(bytes).substr(at));
  REQUIRE((first == HelloStatus::NeedMore || first == second));
  return second;
}

// Every split point, then one byte at a time: same answer and same facts.
void grind(const std::string& bytes, const ClientHelloInfo& expected) {
  for (std::size_t at = 0; at <= bytes.size(); ++at) {
    ClientHelloParser p;
    REQUIRE(feed_split(p, bytes, at) == HelloStatus::Done);
    REQUIRE(p.info().sni == expected.sni);
    REQUIRE(p.info().alpn == expected.alpn);
  }
  ClientHelloParser p;
  for (std::size_t i = 0; i + 1 < bytes.size(); ++i)
    REQUIRE(p.feed(std::string_view(bytes).substr(i, 1)) == HelloStatus::NeedMore);
  REQUIRE(p.feed(std::string_view(bytes).substr(bytes.size() - 1)) == HelloStatus::Done);
}

ClientHelloInfo parse_all(const std::string& bytes, std::size_t bound = kDefaultHelloBound) {
  ClientHelloParser p(bound);
  INFO(p.error());
  REQUIRE(p.feed(bytes) == HelloStatus::Done);
  return p.info();
}

}  // namespace

TEST_CASE("OpenSSL hellos: SNI, ALPN, versions, in every segmentation", "[tls][hello]") {
  struct Case {
    const char* name;
    HelloOptions options;
  };
  const Case cases[] = {
      {"tls13 sni alpn", {"ds20.icrc.trendmicro.com", {"h2", "http/1.1"}, false, ""}},
      {"tls12 only", {"files.trendmicro.com", {}, true, ""}},
      {"no sni", {"", {"http/1.1"}, false, ""}},
      {"big key share (ffdhe8192)", {"iaus.activeupdate.trendmicro.com", {}, false, "ffdhe8192"}},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    const std::string hello = openssl_client_hello(c.options);
    const ClientHelloInfo info = parse_all(hello);
    CHECK(info.has_sni == !c.options.sni.empty());
    CHECK(info.sni == c.options.sni);
    CHECK(info.alpn == c.options.alpn);
    CHECK_FALSE(info.ech);
    if (c.options.tls12_only) {
      CHECK(info.versions.empty());
      CHECK(info.legacy_version == 0x0303);
    } else {
      CHECK(std::find(info.versions.begin(), info.versions.end(), 0x0304) != info.versions.end());
    }
    grind(hello, info);
    for (std::size_t records : {2, 3, 7}) {
      INFO(records << " records");
      grind(rechunk(hello, records), info);
    }
  }
}

TEST_CASE("a hello split into one-byte records still parses", "[tls][hello]") {
  const std::string hello = openssl_client_hello({"ds20.icrc.trendmicro.com", {}, false, ""});
  const std::string split = rechunk(hello, hello.size() - 5);  // one byte of handshake per record
  CHECK(parse_all(split).sni == "ds20.icrc.trendmicro.com");
  // Six bytes of stream per handshake byte: the bound counts headers too.
  ClientHelloParser tight(split.size() - 1);
  CHECK(tight.feed(split) == HelloStatus::TooLarge);
}

TEST_CASE("hellos of other stacks", "[tls][hello]") {
  for (const char* name : {"gnutls.bin", "curl.bin", "python.bin", "chromium.bin"}) {
    INFO(name);
    const std::string hello = vector_file(name);
    REQUIRE(hello.size() > 100);
    const ClientHelloInfo info = parse_all(hello);
    CHECK(info.sni == "ds20.icrc.trendmicro.com");
    grind(hello, info);
    grind(rechunk(hello, 4), info);
  }
  // Chromium's hello carries an X25519MLKEM768 key share: past one kilobyte.
  CHECK(vector_file("chromium.bin").size() > 1500);
}

TEST_CASE("not TLS is known from the first byte", "[tls][hello]") {
  for (const char* text : {"G", "GET / HTTP/1.1\r\n", "CONNECT x:443 HTTP/1.1\r\n",
                           "SSH-2.0-OpenSSH", "\x80\x2e\x01"}) {
    INFO(text);
    ClientHelloParser p;
    CHECK(p.feed(std::string_view(text)) == HelloStatus::NotTls);
  }
  ClientHelloParser p;
  CHECK(p.feed(std::string_view("\x16\x02", 2)) == HelloStatus::NotTls);  // SSL 2 style version
  ClientHelloParser empty;
  CHECK(empty.feed(std::string_view()) == HelloStatus::NeedMore);
}

namespace {

// A minimal hello body built by hand, with the pieces a test wants to break.
struct Parts {
  std::string version = std::string("\x03\x03", 2);
  std::string random = std::string(32, 'r');
  std::string session_id = std::string(1, '\0');
  std::string ciphers = std::string("\x00\x02\x13\x01", 4);
  std::string compression = std::string("\x01\x00", 2);
  std::string extensions;  // the whole block including its length; empty = none
};

std::string u16(std::size_t n) {
  return {static_cast<char>(n >> 8), static_cast<char>(n & 0xff)};
}

std::string extension(std::uint16_t type, const std::string& data) {
  return u16(type) + u16(data.size()) + data;
}

std::string sni_extension(const std::string& name) {
  const std::string entry = std::string(1, '\0') + u16(name.size()) + name;
  return extension(0, u16(entry.size()) + entry);
}

std::string hello_of(const Parts& p) {
  const std::string body =
      p.version + p.random + p.session_id + p.ciphers + p.compression + p.extensions;
  std::string message = "\x01";
  message += static_cast<char>(body.size() >> 16);
  message += static_cast<char>((body.size() >> 8) & 0xff);
  message += static_cast<char>(body.size() & 0xff);
  return record(message + body);
}

std::string block(const std::string& extensions) {
  return u16(extensions.size()) + extensions;
}

}  // namespace

TEST_CASE("hand-built hellos: minimal, no extensions, ECH", "[tls][hello]") {
  Parts p;
  CHECK_FALSE(parse_all(hello_of(p)).has_sni);
  p.extensions = block(sni_extension("a.example.com") + extension(0xfe0d, "x"));
  const ClientHelloInfo info = parse_all(hello_of(p));
  CHECK(info.sni == "a.example.com");
  CHECK(info.ech);
  // An unknown name type is skipped, not refused.
  p.extensions = block(extension(0, u16(7) + std::string(1, '\x05') + u16(4) + "abcd"));
  CHECK_FALSE(parse_all(hello_of(p)).has_sni);
}

TEST_CASE("a duplicate extension is found among hundreds of extensions", "[tls][hello]") {
  // Past the few dozen a real client sends, the parser changes how it
  // remembers types; duplicates on either side of that change are caught.
  auto many = [](std::size_t count) {
    std::string extensions;
    for (std::size_t i = 0; i < count; ++i)
      extensions += extension(static_cast<std::uint16_t>(0x1000 + i), "");
    return extensions;
  };
  Parts p;
  p.extensions = block(sni_extension("a.example.com") + many(500));
  CHECK(parse_all(hello_of(p)).sni == "a.example.com");
  for (const std::uint16_t again : {std::uint16_t{0x1000}, std::uint16_t{0x1000 + 40},
                                    std::uint16_t{0x1000 + 300}, std::uint16_t{0}}) {
    INFO(again);
    p.extensions = block(sni_extension("a.example.com") + many(500) + extension(again, ""));
    ClientHelloParser parser;
    CHECK(parser.feed(hello_of(p)) == HelloStatus::Malformed);
    CHECK(parser.error() == "an extension appears twice");
  }
}

TEST_CASE("malformed hellos are refused, and say why", "[tls][hello]") {
  auto with = [](auto change) {
    Parts p;
    change(p);
    return hello_of(p);
  };
  const std::pair<const char*, std::string> cases[] = {
      {"session id of 33",
       with([](Parts& p) { p.session_id = std::string(1, '\x21') + std::string(33, 's'); })},
      {"session id past the end", with([](Parts& p) {
         p.session_id = std::string(1, '\x20');
         p.ciphers.clear();
         p.compression.clear();
       })},
      {"odd cipher list",
       with([](Parts& p) { p.ciphers = std::string("\x00\x03\x13\x01\x13", 5); })},
      {"empty cipher list", with([](Parts& p) { p.ciphers = std::string("\x00\x00", 2); })},
      {"no compression", with([](Parts& p) { p.compression = std::string(1, '\0'); })},
      {"extensions overrun",
       with([](Parts& p) { p.extensions = u16(100) + sni_extension("a.com"); })},
      {"extensions short", with([](Parts& p) { p.extensions = u16(3) + sni_extension("a.com"); })},
      {"extension overrun", with([](Parts& p) { p.extensions = block(u16(0) + u16(50) + "abc"); })},
      {"duplicate extension", with([](Parts& p) {
         p.extensions = block(sni_extension("a.com") + sni_extension("b.com"));
       })},
      {"two host names", with([](Parts& p) {
         const std::string entry = std::string(1, '\0') + u16(5) + "a.com";
         p.extensions = block(extension(0, u16(2 * entry.size()) + entry + entry));
       })},
      {"empty host name", with([](Parts& p) { p.extensions = block(sni_extension("")); })},
      {"nul in host name",
       with([](Parts& p) { p.extensions = block(sni_extension(std::string("a\0b.com", 7))); })},
      {"empty server_name list",
       with([](Parts& p) { p.extensions = block(extension(0, u16(0))); })},
      {"server_name trailing bytes", with([](Parts& p) {
         const std::string entry = std::string(1, '\0') + u16(5) + "a.com";
         p.extensions = block(extension(0, u16(entry.size()) + entry + "x"));
       })},
      {"empty ALPN name",
       with([](Parts& p) { p.extensions = block(extension(16, u16(1) + std::string(1, '\0'))); })},
      {"odd supported_versions", with([](Parts& p) {
         p.extensions = block(extension(43, std::string("\x03\x03\x04\x03", 4)));
       })},
      {"not a ClientHello", record(std::string("\x02\x00\x00\x00", 4))},
      {"zero-length record", record("")},
      {"alert record in the middle", record(std::string("\x01\x00\x01\x00", 4)) + record("ab", 21)},
      {"later record of version 2",
       record(std::string("\x01\x00\x00\x10", 4)) + std::string("\x16\x02\x00\x00\x01", 5)},
  };
  for (const auto& [name, bytes] : cases) {
    INFO(name);
    for (std::size_t at : {std::size_t{0}, std::size_t{5}, bytes.size() / 2, bytes.size()}) {
      ClientHelloParser p;
      CHECK(feed_split(p, bytes, std::min(at, bytes.size())) == HelloStatus::Malformed);
      CHECK_FALSE(p.error().empty());
    }
  }
}

TEST_CASE("the byte bound is enforced as early as the bytes allow", "[tls][hello]") {
  const std::string big =
      openssl_client_hello({"ds20.icrc.trendmicro.com", {}, false, "ffdhe8192"});
  REQUIRE(big.size() > 1024);
  ClientHelloParser p(1024);
  // The declared handshake length is known after 9 bytes: no need to wait for the rest.
  CHECK(p.feed(std::string_view(big).substr(0, 9)) == HelloStatus::TooLarge);
  CHECK(p.feed(big) == HelloStatus::TooLarge);  // final answers stay final
  // A declared length beyond every bound.
  CHECK(ClientHelloParser(kMaxHelloBound).feed(record(std::string("\x01\xff\xff\xff", 4))) ==
        HelloStatus::TooLarge);
}
