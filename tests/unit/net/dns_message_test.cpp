#include <cstring>

#include <catch2/catch.hpp>

#include <chokepoint/net/dns_message.hpp>

using namespace chokepoint;
using namespace chokepoint::net;

namespace {

using Bytes = std::vector<std::uint8_t>;

void u16(Bytes& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}
void u32(Bytes& b, std::uint32_t v) {
  u16(b, static_cast<std::uint16_t>(v >> 16));
  u16(b, static_cast<std::uint16_t>(v));
}
void name(Bytes& b, std::initializer_list<const char*> labels) {
  for (const char* label : labels) {
    b.push_back(static_cast<std::uint8_t>(std::strlen(label)));
    b.insert(b.end(), label, label + std::strlen(label));
  }
  b.push_back(0);
}

// An NXDOMAIN for gone.example, AAAA, as a server writes it: the question,
// then `answers` CNAME records, then the zone's SOA in the authority section
// (its owner and names compressed against the question where `compressed`).
Bytes negative(std::uint32_t soa_ttl, std::uint32_t minimum, bool compressed = true,
               int answers = 0, bool with_soa = true) {
  Bytes b;
  u16(b, 0x1234);
  u16(b, 0x8183);  // QR RD RA, NXDOMAIN
  u16(b, 1);
  u16(b, static_cast<std::uint16_t>(answers));
  u16(b, with_soa ? 2 : 0);
  u16(b, 0);
  name(b, {"gone", "example"});  // at offset 12; "example" at 17
  u16(b, 28);
  u16(b, 1);
  for (int i = 0; i < answers; ++i) {
    u16(b, 0xC00C);
    u16(b, 5);  // CNAME
    u16(b, 1);
    u32(b, 300);
    u16(b, 2);
    u16(b, 0xC011);
  }
  if (!with_soa) return b;
  // An NS record first: the walker must skip what is not an SOA.
  u16(b, 0xC011);
  u16(b, 2);
  u16(b, 1);
  u32(b, 86400);
  u16(b, 5);
  b.push_back(2);
  b.push_back('n');
  b.push_back('s');
  u16(b, 0xC011);
  if (compressed) {
    u16(b, 0xC011);
  } else {
    name(b, {"example"});
  }
  u16(b, 6);
  u16(b, 1);
  u32(b, soa_ttl);
  Bytes rdata;
  if (compressed) {
    rdata.push_back(2);
    rdata.push_back('n');
    rdata.push_back('s');
    u16(rdata, 0xC011);
    rdata.push_back(4);
    rdata.insert(rdata.end(), {'h', 'o', 's', 't'});
    u16(rdata, 0xC011);
  } else {
    name(rdata, {"ns", "example"});
    name(rdata, {"host", "example"});
  }
  for (std::uint32_t v : {2026u, 7200u, 900u, 1209600u})
    u32(rdata, v);
  u32(rdata, minimum);
  u16(b, static_cast<std::uint16_t>(rdata.size()));
  b.insert(b.end(), rdata.begin(), rdata.end());
  return b;
}

}  // namespace

TEST_CASE("the negative TTL is the smaller of the SOA's TTL and MINIMUM", "[net][dns_message]") {
  CHECK(negative_ttl(negative(3600, 60)) == 60u);
  CHECK(negative_ttl(negative(30, 600)) == 30u);
  CHECK(negative_ttl(negative(3600, 60, false)) == 60u);
  CHECK(negative_ttl(negative(3600, 45, true, 2)) == 45u);  // NODATA behind a CNAME chain
  CHECK(negative_ttl(negative(0x80000000u, 60)) == 0u);     // RFC 2181: top bit set reads as 0
}

TEST_CASE("no SOA, or a malformed message, gives no negative TTL", "[net][dns_message]") {
  CHECK_FALSE(negative_ttl(negative(60, 60, true, 0, false)));
  CHECK_FALSE(negative_ttl(Bytes{}));
  Bytes bad = negative(60, 60);
  bad[4] = 0x40;  // qdcount far beyond the message
  CHECK_FALSE(negative_ttl(bad));
  Bytes label = negative(60, 60);
  label[12] = 0x80;  // an extended label type
  CHECK_FALSE(negative_ttl(label));
}

TEST_CASE("every cut of a message is read without reading past it", "[net][dns_message]") {
  for (const Bytes& full : {negative(3600, 60), negative(3600, 60, false, 3)}) {
    for (std::size_t n = 0; n < full.size(); ++n) {
      // The bytes end at n exactly: anything past them is out of bounds for ASan.
      const Bytes prefix(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
      CHECK_FALSE(negative_ttl(prefix));
    }
    CHECK(negative_ttl(full) == 60u);
  }
}
