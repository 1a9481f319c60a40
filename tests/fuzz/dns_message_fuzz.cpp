// The negative-TTL walker on arbitrary DNS messages: no crash, no read past
// the input (ASan), and a result only where an SOA was found whole.
#include <cstdlib>

#include <chokepoint/net/dns_message.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto ttl = chokepoint::net::negative_ttl({data, size});
  // An SOA record needs at least a header, a root name, its fixed fields and 22 bytes of rdata.
  if (ttl && size < 12 + 11 + 22) std::abort();
  if (ttl && *ttl > 0x7FFFFFFFu) std::abort();
  return 0;
}
