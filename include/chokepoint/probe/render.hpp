// `chokepoint probe`'s output (DESIGN.md, "Probing the path"). Pure.
//
//   json_line()    one JSON object per destination and port: host, port,
//                  service, rule, outcome, addresses, the milliseconds of each
//                  step (null for a step that did not run), and for a
//                  certificate that did not verify, what was presented.
//   render_text()  for an operator at a terminal: grouped by what breaks
//                  (the service, and the agent versions a destination is
//                  for), failures first. When the failures would not fit one
//                  screen (a DNS view that resolves nothing fails every name
//                  alike), it sums them up instead: counts per outcome with an
//                  example of each, then per service.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include <chokepoint/probe/result.hpp>

namespace chokepoint::probe {

// Longer text than this many lines is summed up.
inline constexpr std::size_t kScreenLines = 40;

std::string json_line(const Result& result);

struct RunFacts {
  std::string who;  // "role relay", "role agent version 20.0"
  std::chrono::milliseconds elapsed{0};
  std::chrono::milliseconds time_limit{0};
  bool out_of_time = false;  // the time limit ended the run early
};

std::string render_text(const std::vector<Result>& results, const RunFacts& facts);

}  // namespace chokepoint::probe
