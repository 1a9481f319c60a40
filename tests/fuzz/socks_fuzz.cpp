// The SOCKS handshake on arbitrary bytes, driven as a session drives it
// (handshake.hpp), once with the stream in one piece and once in pieces the
// input chooses. Besides "no crash, no overread" (ASan), the outcome, every
// byte the server would send, the bytes consumed and the request must not
// depend on the cuts; what is left after the request must be the stream's
// own tail; and the request must stay within the protocol's bounds.
//
// Input: one byte of policy (bit 0: a users file; bit 1: the credentials
// are accepted), two bytes of segmentation seed, then the client's stream.
#include <cstdlib>
#include <string>
#include <vector>

#include <chokepoint/socks/handshake.hpp>

#include "fuzz_input.hpp"

using namespace chokepoint;
using namespace chokepoint::socks;

namespace {

struct Outcome {
  Status status = Status::NeedMore;
  std::size_t consumed = 0;
  std::string sent;
  std::string reason;
  Version version = Version::Unknown;
  AddressType type = AddressType::Ipv4;
  std::string host;
  std::uint16_t port = 0;
  std::string user_id;
  std::string username;

  bool operator==(const Outcome&) const = default;
};

void append(std::string& out, const ServerMessage& m) {
  out += fuzz::text(m.bytes());
}

Outcome drive(const std::vector<std::span<const std::uint8_t>>& arrivals, std::uint8_t policy) {
  ServerHandshake hs;
  Outcome out;
  std::string pending;
  std::size_t next = 0;
  for (;;) {
    const Step step = hs.feed(pending);
    if (step.consumed > pending.size()) std::abort();
    pending.erase(0, step.consumed);
    out.consumed += step.consumed;
    out.status = step.status;
    if (step.status == Status::NeedMore) {
      if (next == arrivals.size()) break;
      pending += fuzz::text(arrivals[next++]);
    } else if (step.status == Status::ChooseMethod) {
      const auto methods = hs.offered_methods();
      if (methods.empty() || methods.size() > 255) std::abort();
      append(out.sent, hs.method_selected(select_method(methods, policy & 1)));
    } else if (step.status == Status::CheckCredentials) {
      if (hs.username().empty() || hs.username().size() > 255) std::abort();
      if (hs.password().empty() || hs.password().size() > 255) std::abort();
      out.username = std::string(hs.username());
      append(out.sent, hs.credentials_checked(policy & 2));
      if (!hs.password().empty()) std::abort();
    } else if (step.status == Status::Request) {
      const Request& r = hs.request();
      out.type = r.type;
      out.port = r.port;
      out.user_id = std::string(r.user_id);
      if (r.type == AddressType::Domain) {
        out.host = std::string(r.domain);
        if (out.host.empty() || out.host.size() > 255) std::abort();
      } else {
        out.host = r.address.to_string();
        if (r.address.is_v4() != (r.type == AddressType::Ipv4)) std::abort();
      }
      if (r.user_id.size() > 255 || (r.version == Version::V5 && !r.user_id.empty())) std::abort();
      if (r.version == Version::V4 && (out.host.find('\0') != std::string::npos ||
                                       out.user_id.find('\0') != std::string::npos)) {
        std::abort();
      }
      // Final: nothing more is taken.
      if (hs.feed(pending).consumed != 0 || hs.status() != Status::Request) std::abort();
      break;
    } else {
      append(out.sent, hs.error().reply);
      out.reason = std::string(hs.error().reason);
      if (out.reason.empty()) std::abort();
      if (hs.feed(pending).consumed != 0 || hs.status() != step.status) std::abort();
      break;
    }
  }
  if (hs.consumed() != out.consumed) std::abort();
  out.version = hs.version();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::FuzzInput input(data, size);
  const std::uint8_t policy = input.byte();
  const std::uint32_t seed = input.byte() | (std::uint32_t{input.byte()} << 8);
  const auto stream = input.rest();

  const Outcome whole = drive({stream}, policy);
  const Outcome pieces = drive(fuzz::FuzzInput::pieces(stream, seed), policy);
  if (!(whole == pieces)) std::abort();
  if (whole.consumed > stream.size()) std::abort();
  // A handshake never needs more than its messages: greeting, credentials, request.
  if (whole.consumed > 257 + 513 + 262) std::abort();
  return 0;
}
