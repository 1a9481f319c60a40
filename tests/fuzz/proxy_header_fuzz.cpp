// The PROXY header parser on arbitrary bytes, in one piece and in pieces the
// input chooses: the status, the bytes consumed, the error and the header
// must not depend on the cuts; final answers stay final; a header never
// takes more than its bound; and detect() agrees with the parser about
// what is a PROXY header at all.
//
// Input: two bytes of segmentation seed, then the connection's first bytes.
#include <cstdlib>
#include <string>

#include <chokepoint/proxy_protocol/header.hpp>

#include "fuzz_input.hpp"

using namespace chokepoint;
using namespace chokepoint::proxy_protocol;

namespace {

struct Outcome {
  Status status = Status::NeedMore;
  std::size_t consumed = 0;
  std::string error;
  Header header;
  std::string source;
  std::string destination;

  bool same_as(const Outcome& o) const {
    return status == o.status && consumed == o.consumed && error == o.error &&
           header.version == o.header.version && header.command == o.header.command &&
           header.family == o.header.family && header.transport == o.header.transport &&
           source == o.source && destination == o.destination;
  }
};

template <class Arrivals>
Outcome parse(const Arrivals& arrivals) {
  HeaderParser parser;
  Outcome out;
  for (const auto arrival : arrivals) {
    const Status before = parser.status();
    const Step step = parser.feed(arrival);
    if (step.consumed > arrival.size()) std::abort();
    if (before != Status::NeedMore && (step.status != before || step.consumed != 0)) std::abort();
    // While more is needed, everything given is taken; a header is read to its end.
    if (step.status == Status::NeedMore && step.consumed != arrival.size()) std::abort();
  }
  out.status = parser.status();
  out.consumed = parser.consumed();
  out.error = std::string(parser.error());
  out.header = parser.header();
  if (out.status == Status::Done && out.header.has_client_address()) {
    out.source =
        out.header.source.address.to_string() + " " + std::to_string(out.header.source.port);
    out.destination = out.header.destination.address.to_string() + " " +
                      std::to_string(out.header.destination.port);
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::FuzzInput input(data, size);
  const std::uint32_t seed = input.byte() | (std::uint32_t{input.byte()} << 8);
  const auto stream = input.rest();

  const std::span<const std::uint8_t> one[] = {stream};
  const Outcome whole = parse(one);
  const Outcome pieces = parse(fuzz::FuzzInput::pieces(stream, seed));
  if (!whole.same_as(pieces)) std::abort();

  const Detection detection = detect(stream);
  if ((detection == Detection::NotHeader) != (whole.status == Status::NotProxy)) std::abort();
  if (detection == Detection::NeedMore && whole.status != Status::NeedMore) std::abort();
  if (whole.status == Status::Done) {
    const std::size_t bound = whole.header.version == 1 ? kMaxV1Bytes : kMaxV2Bytes;
    if (whole.consumed > bound || whole.consumed > stream.size()) std::abort();
    if (whole.header.version == 1 && fuzz::text(stream.subspan(whole.consumed - 2, 2)) != "\r\n") {
      std::abort();
    }
  }
  if ((whole.status == Status::NotProxy || whole.status == Status::Malformed) &&
      whole.error.empty()) {
    std::abort();
  }
  return 0;
}
