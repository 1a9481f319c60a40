#include <algorithm>

#include <chokepoint/core/byte_reader.hpp>
#include <chokepoint/net/dns_message.hpp>

namespace chokepoint::net {
namespace {

// RFC 1035 section 4.1:
//
//   header     id u16, flags u16, qdcount u16, ancount u16, nscount u16, arcount u16
//   question   name, qtype u16, qclass u16                      (qdcount times)
//   answer     name, type u16, class u16, ttl u32, rdlength u16, rdata   (ancount times)
//   authority  the same                                         (nscount times)
//
//   name       labels: u8 length 1..63 then the bytes, ended by a zero length
//              or by a pointer (two bytes, top bits 11) to an earlier name
//   SOA rdata  mname name, rname name, serial u32, refresh u32, retry u32,
//              expire u32, minimum u32
constexpr std::uint16_t kTypeSoa = 6;
constexpr std::uint16_t kClassIn = 1;
constexpr int kMaxLabels = 128;  // a name is at most 255 bytes: 127 one-byte labels and the root

bool skip_name(ByteReader& reader) {
  for (int labels = 0; labels <= kMaxLabels; ++labels) {
    std::uint8_t length;
    if (!reader.get_u8(length)) return false;
    if (length == 0) return true;
    if ((length & 0xC0) == 0xC0) return reader.skip(1);  // a pointer ends the name
    if ((length & 0xC0) != 0) return false;              // extended label types: obsolete
    if (!reader.skip(length)) return false;
  }
  return false;
}

struct ResourceRecord {
  std::uint16_t type = 0;
  std::uint16_t rr_class = 0;
  std::uint32_t ttl = 0;
  ByteReader data;
};

bool read_record(ByteReader& reader, ResourceRecord& rr) {
  return skip_name(reader) && reader.get_u16(rr.type) && reader.get_u16(rr.rr_class) &&
         reader.get_u32(rr.ttl) && reader.get_prefixed_u16(rr.data);
}

// RFC 2181 section 8: a TTL with its top bit set is read as zero.
std::uint32_t sane_ttl(std::uint32_t ttl) {
  return (ttl & 0x80000000u) ? 0 : ttl;
}

}  // namespace

std::optional<std::uint32_t> negative_ttl(std::span<const std::uint8_t> message) {
  ByteReader reader(message);
  std::uint16_t id, flags, qdcount, ancount, nscount, arcount;
  if (!reader.get_u16(id) || !reader.get_u16(flags) || !reader.get_u16(qdcount) ||
      !reader.get_u16(ancount) || !reader.get_u16(nscount) || !reader.get_u16(arcount)) {
    return std::nullopt;
  }
  for (std::uint16_t i = 0; i < qdcount; ++i) {
    if (!skip_name(reader) || !reader.skip(4)) return std::nullopt;
  }
  ResourceRecord rr;
  for (std::uint16_t i = 0; i < ancount; ++i) {
    if (!read_record(reader, rr)) return std::nullopt;
  }
  for (std::uint16_t i = 0; i < nscount; ++i) {
    if (!read_record(reader, rr)) return std::nullopt;
    if (rr.type != kTypeSoa || rr.rr_class != kClassIn) continue;
    std::uint32_t serial, refresh, retry, expire, minimum;
    if (!skip_name(rr.data) || !skip_name(rr.data) || !rr.data.get_u32(serial) ||
        !rr.data.get_u32(refresh) || !rr.data.get_u32(retry) || !rr.data.get_u32(expire) ||
        !rr.data.get_u32(minimum)) {
      return std::nullopt;
    }
    return std::min(sane_ttl(rr.ttl), sane_ttl(minimum));
  }
  return std::nullopt;
}

}  // namespace chokepoint::net
