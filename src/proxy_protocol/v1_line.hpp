// The text of a version 1 PROXY line, read once its CRLF has arrived.
#pragma once

#include <string_view>

#include <chokepoint/proxy_protocol/header.hpp>

namespace chokepoint::proxy_protocol::detail {

// `line`: from "PROXY " up to, not including, the CRLF (at most 105 bytes).
// Fills `out` and returns an empty reason, or returns why the line is refused.
std::string_view parse_v1_line(std::string_view line, Header& out);

}  // namespace chokepoint::proxy_protocol::detail
