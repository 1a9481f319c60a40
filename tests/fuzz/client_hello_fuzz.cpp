// The ClientHello parser on arbitrary bytes in arbitrary segmentation. Besides
// "no crash, no overread" (ASan), it checks that the answer does not depend
// on how the stream was cut, and that final answers stay final.
#include <cstdlib>

#include <chokepoint/tls/client_hello.hpp>

#include "fuzz_input.hpp"

using namespace chokepoint;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::FuzzInput input(data, size);
  const std::size_t bound = 64 + std::size_t{input.byte()} * 257;  // 64 B .. 64 KiB
  const std::uint32_t seed = input.byte() | (std::uint32_t{input.byte()} << 8);
  const auto stream = input.rest();

  tls::ClientHelloParser whole(bound);
  const tls::HelloStatus expected = whole.feed(stream);

  tls::ClientHelloParser pieces(bound);
  tls::HelloStatus status = tls::HelloStatus::NeedMore;
  for (const auto piece : fuzz::FuzzInput::pieces(stream, seed)) {
    const tls::HelloStatus next = pieces.feed(piece);
    if (status != tls::HelloStatus::NeedMore && next != status) std::abort();  // answers are final
    status = next;
  }
  if (status != expected) std::abort();
  if (status == tls::HelloStatus::Done) {
    const auto& a = whole.info();
    const auto& b = pieces.info();
    if (a.sni != b.sni || a.alpn != b.alpn || a.ech != b.ech || a.versions != b.versions)
      std::abort();
    if (a.has_sni && (a.sni.empty() || a.sni.size() > 255 || a.sni.find('\0') != std::string::npos))
      std::abort();
  }
  return 0;
}
