// A parent proxy's answer to CONNECT (http/connect_response.hpp) on
// arbitrary bytes: the first byte chooses where they are split into two
// arrivals, the second the bound; the outcome, status and end of the head
// must not depend on the split, and a head never ends past the input.
#include <cstdlib>

#include <chokepoint/http/connect_response.hpp>

#include "fuzz_input.hpp"

using namespace chokepoint;

namespace {

struct Outcome {
  http::ConnectAnswer answer;
  int status;
  std::size_t head;
};

Outcome read(std::string_view bytes, std::size_t split, std::size_t limit) {
  http::ConnectResponseReader reader(limit);
  http::ConnectAnswer answer = reader.feed(bytes.substr(0, split));
  if (answer == http::ConnectAnswer::NeedMore) answer = reader.feed(bytes);
  return {answer, reader.status(), reader.head_bytes()};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::string_view bytes = fuzz::text({data + 2, size - 2});
  const std::size_t split = data[0] % (bytes.size() + 1);
  const std::size_t limit = 16 + std::size_t{data[1]} * 64;
  const Outcome whole = read(bytes, bytes.size(), limit);
  const Outcome pieces = read(bytes, split, limit);
  if (whole.answer != pieces.answer || whole.status != pieces.status) std::abort();
  if (whole.answer == http::ConnectAnswer::Established &&
      (whole.head != pieces.head || whole.head > bytes.size() || whole.head > limit))
    std::abort();
  if ((whole.answer == http::ConnectAnswer::Established) != (whole.status / 100 == 2)) std::abort();
  return 0;
}
