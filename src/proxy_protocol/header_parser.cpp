#include <algorithm>
#include <array>

#include <chokepoint/proxy_protocol/header.hpp>

#include "v1_line.hpp"

namespace chokepoint::proxy_protocol {
namespace {

constexpr std::array<std::uint8_t, 6> kV1Signature = {'P', 'R', 'O', 'X', 'Y', ' '};
constexpr std::array<std::uint8_t, 12> kV2Signature = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
                                                       0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};
constexpr std::size_t kV2FixedBytes = 16;
constexpr std::size_t kTlvHeaderBytes = 3;
constexpr std::uint8_t kCR = '\r';
constexpr std::uint8_t kLF = '\n';

// Address block sizes (proxy-protocol.txt 2.2): two addresses, then two
// ports for INET and INET6.
constexpr std::size_t kInetAddresses = 4 + 4 + 2 + 2;
constexpr std::size_t kInet6Addresses = 16 + 16 + 2 + 2;
constexpr std::size_t kUnixAddresses = 108 + 108;

// How far `bytes` agree with `signature`: Header when they hold all of it,
// NeedMore when they are a strict prefix of it.
Detection match(std::span<const std::uint8_t> bytes, std::span<const std::uint8_t> signature) {
  const std::size_t n = std::min(bytes.size(), signature.size());
  if (!std::equal(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n), signature.begin()))
    return Detection::NotHeader;
  return n == signature.size() ? Detection::Header : Detection::NeedMore;
}

std::uint16_t u16_at(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

}  // namespace

Detection detect(std::span<const std::uint8_t> first_bytes) {
  if (first_bytes.empty()) return Detection::NeedMore;
  // The two signatures differ in their first byte, so at most one can match.
  const Detection v1 = match(first_bytes, kV1Signature);
  return v1 != Detection::NotHeader ? v1 : match(first_bytes, kV2Signature);
}

std::string_view to_string(Status status) {
  switch (status) {
    case Status::NeedMore:
      return "need_more";
    case Status::Done:
      return "done";
    case Status::NotProxy:
      return "not_proxy_protocol";
    case Status::Malformed:
      return "malformed_proxy_header";
  }
  return "malformed_proxy_header";
}

// Each phase takes what it needs from the front of `bytes` and reports how
// much; a phase decides as soon as the byte that settles a question has
// arrived, and never looks further, so any segmentation gives the same
// answer after the same number of bytes.
Step HeaderParser::feed(std::span<const std::uint8_t> bytes) {
  std::size_t used = 0;
  while (status_ == Status::NeedMore && used < bytes.size()) {
    const auto rest = bytes.subspan(used);
    switch (phase_) {
      case Phase::Signature:
        used += take_signature(rest);
        break;
      case Phase::V1Line:
        used += take_v1(rest);
        break;
      case Phase::V2Fixed:
        used += take_v2_fixed(rest);
        break;
      case Phase::V2Addresses:
        used += take_v2_addresses(rest);
        break;
      case Phase::V2Tlvs:
        used += take_v2_tlvs(rest);
        break;
      case Phase::V2Skip:
        used += take_v2_skip(rest);
        break;
    }
  }
  consumed_ += used;
  return {status_, used};
}

// One byte at a time until a whole signature is known, so that a stream that
// is not a PROXY header is told apart at its first differing byte.
std::size_t HeaderParser::take_signature(std::span<const std::uint8_t> bytes) {
  bytes_[have_++] = bytes[0];
  const std::span<const std::uint8_t> seen(bytes_, have_);
  if (match(seen, kV1Signature) == Detection::Header) {
    header_.version = 1;
    phase_ = Phase::V1Line;
  } else if (match(seen, kV2Signature) == Detection::Header) {
    header_.version = 2;
    phase_ = Phase::V2Fixed;
  } else if (detect(seen) == Detection::NotHeader) {
    fail(Status::NotProxy, "no PROXY protocol signature");
  }
  return 1;
}

// Version 1: the line is kept until its LF (proxy-protocol.txt 2.1: decode
// nothing before the CRLF; no CRLF within 107 bytes is an error; a lone CR
// or LF never ends the line).
std::size_t HeaderParser::take_v1(std::span<const std::uint8_t> bytes) {
  std::size_t used = 0;
  while (status_ == Status::NeedMore && used < bytes.size()) {
    const std::uint8_t b = bytes[used++];
    const bool after_cr = bytes_[have_ - 1] == kCR;
    bytes_[have_++] = b;
    if (b == kLF) {
      if (!after_cr) {
        fail(Status::Malformed, "v1: LF without CR");
        break;
      }
      const std::string_view line(reinterpret_cast<const char*>(bytes_), have_ - 2);
      const std::string_view why = detail::parse_v1_line(line, header_);
      if (why.empty()) {
        done();
      } else {
        fail(Status::Malformed, why);
      }
    } else if (after_cr) {
      fail(Status::Malformed, "v1: CR without LF");
    } else if (have_ == kMaxV1Bytes) {
      fail(Status::Malformed, "v1: no CRLF within 107 bytes");
    }
  }
  return used;
}

// Version 2 (proxy-protocol.txt 2.2):
//
//   offset  size
//    0      12    signature 0D 0A 0D 0A 00 0D 0A 51 55 49 54 0A
//   12       1    version (high nibble, must be 2) | command (low: 0 LOCAL, 1 PROXY)
//   13       1    family (high: 0 UNSPEC, 1 INET, 2 INET6, 3 UNIX)
//                 | transport (low: 0 UNSPEC, 1 STREAM, 2 DGRAM)
//   14       2    length of what follows, network order
//   16     len    address block, then TLVs:
//
//   INET   (0x11 TCP, 0x12 UDP):  src addr 4, dst addr 4, src port 2, dst port 2   = 12
//   INET6  (0x21 TCP, 0x22 UDP):  src addr 16, dst addr 16, src port 2, dst port 2 = 36
//   UNIX   (0x31, 0x32):          src path 108, dst path 108                       = 216
//   UNSPEC (0x00):                no addresses the receiver may use
//
//   TLV:   type 1, length 2 (network order), value <length>; repeated to
//          the end of the block, each within it (2.2, "pp2_tlv").
//
// LOCAL means the balancer's own connection: the spec says to discard the
// whole block, family included, so it is skipped unread. So is the block of
// PROXY with an UNSPEC family, where addresses cannot be told from TLVs.
std::size_t HeaderParser::take_v2_fixed(std::span<const std::uint8_t> bytes) {
  const std::size_t n = std::min(kV2FixedBytes - have_, bytes.size());
  std::copy_n(bytes.begin(), n, bytes_ + have_);
  have_ += n;
  if (have_ < kV2FixedBytes) return n;

  const std::string_view why = read_v2_fixed();
  if (!why.empty()) {
    fail(Status::Malformed, why);
  } else if (phase_ == Phase::V2Skip && block_left_ == 0) {
    done();
  }
  return n;
}

std::string_view HeaderParser::read_v2_fixed() {
  const std::uint8_t version = bytes_[12] >> 4;
  const std::uint8_t command = bytes_[12] & 0x0f;
  const std::uint8_t family = bytes_[13] >> 4;
  const std::uint8_t transport = bytes_[13] & 0x0f;
  block_left_ = u16_at(bytes_ + 14);
  if (version != 2) return "v2: version is not 2";
  if (command > 1) return "v2: command is neither LOCAL nor PROXY";
  if (kV2FixedBytes + block_left_ > kMaxV2Bytes) return "v2: header longer than 4096 bytes";
  if (command == 0) {
    header_.command = Command::Local;
    phase_ = Phase::V2Skip;
    return {};
  }
  header_.command = Command::Proxy;
  // The seven combinations the spec lists; it tells receivers to refuse the rest.
  const bool valid = (family == 0 && transport == 0) ||
                     (family >= 1 && family <= 3 && transport >= 1 && transport <= 2);
  if (!valid) return "v2: unknown address family or transport";
  header_.family = static_cast<Family>(family);
  header_.transport = static_cast<Transport>(transport);
  switch (header_.family) {
    case Family::Unspec:
      address_size_ = 0;
      break;
    case Family::Inet:
      address_size_ = kInetAddresses;
      break;
    case Family::Inet6:
      address_size_ = kInet6Addresses;
      break;
    case Family::Unix:
      address_size_ = kUnixAddresses;
      break;
  }
  if (block_left_ < address_size_) return "v2: address block shorter than its family needs";
  phase_ = address_size_ == 0 ? Phase::V2Skip : Phase::V2Addresses;
  return {};
}

// The addresses of INET and INET6 are kept (they follow the fixed part in
// bytes_); UNIX paths are counted past, never stored.
std::size_t HeaderParser::take_v2_addresses(std::span<const std::uint8_t> bytes) {
  const std::size_t n = std::min(address_size_, bytes.size());
  if (header_.family != Family::Unix) {
    std::copy_n(bytes.begin(), n, bytes_ + have_);
    have_ += n;
  }
  address_size_ -= n;
  block_left_ -= n;
  if (address_size_ != 0) return n;

  if (header_.has_client_address()) {
    const std::uint8_t* a = bytes_ + kV2FixedBytes;
    if (header_.family == Family::Inet) {
      header_.source.address =
          IpAddress::v4((std::uint32_t{a[0]} << 24) | (a[1] << 16) | (a[2] << 8) | a[3]);
      header_.destination.address =
          IpAddress::v4((std::uint32_t{a[4]} << 24) | (a[5] << 16) | (a[6] << 8) | a[7]);
      header_.source.port = u16_at(a + 8);
      header_.destination.port = u16_at(a + 10);
    } else {
      std::array<std::uint8_t, 16> source;
      std::array<std::uint8_t, 16> destination;
      std::copy_n(a, 16, source.begin());
      std::copy_n(a + 16, 16, destination.begin());
      header_.source.address = IpAddress::v6(source);
      header_.destination.address = IpAddress::v6(destination);
      header_.source.port = u16_at(a + 32);
      header_.destination.port = u16_at(a + 34);
    }
  }
  phase_ = Phase::V2Tlvs;
  tlv_have_ = 0;
  at_tlv_boundary();
  return n;
}

// TLVs are walked only to prove they tile the block: each header must fit
// in what is left, and each value within it. Their content is skipped.
std::size_t HeaderParser::take_v2_tlvs(std::span<const std::uint8_t> bytes) {
  std::size_t used = 0;
  while (status_ == Status::NeedMore && used < bytes.size()) {
    if (tlv_have_ < kTlvHeaderBytes) {
      const std::size_t n = std::min(kTlvHeaderBytes - tlv_have_, bytes.size() - used);
      std::copy_n(bytes.begin() + static_cast<std::ptrdiff_t>(used), n, tlv_header_ + tlv_have_);
      tlv_have_ += n;
      used += n;
      block_left_ -= n;
      if (tlv_have_ < kTlvHeaderBytes) break;
      tlv_value_left_ = u16_at(tlv_header_ + 1);
      if (tlv_value_left_ > block_left_) {
        fail(Status::Malformed, "v2: a TLV runs past the end of the header");
        break;
      }
    }
    const std::size_t n = std::min(tlv_value_left_, bytes.size() - used);
    used += n;
    block_left_ -= n;
    tlv_value_left_ -= n;
    if (tlv_value_left_ == 0) {
      tlv_have_ = 0;
      at_tlv_boundary();
    }
  }
  return used;
}

// Between TLVs: the header ends here, or a whole TLV header must fit.
void HeaderParser::at_tlv_boundary() {
  if (block_left_ == 0) {
    done();
  } else if (block_left_ < kTlvHeaderBytes) {
    fail(Status::Malformed, "v2: a TLV header runs past the end of the header");
  }
}

std::size_t HeaderParser::take_v2_skip(std::span<const std::uint8_t> bytes) {
  const std::size_t n = std::min(block_left_, bytes.size());
  block_left_ -= n;
  if (block_left_ == 0) done();
  return n;
}

void HeaderParser::fail(Status status, std::string_view why) {
  status_ = status;
  error_ = why;
}

void HeaderParser::done() {
  status_ = Status::Done;
}

}  // namespace chokepoint::proxy_protocol
