// Valid UTF-8 for what chokepoint writes. Names and paths come from the
// network (SNI, Host, SOCKS domains, request targets) and may be any bytes;
// every sink that promises UTF-8 (the JSON record, CEF) writes each byte
// that does not begin a valid sequence as U+FFFD, one for one, so the sinks
// agree on what a hostile name looked like.
#pragma once

#include <cstddef>
#include <string_view>

namespace chokepoint {

// U+FFFD REPLACEMENT CHARACTER, encoded.
inline constexpr std::string_view kUtf8Replacement = "\xEF\xBF\xBD";

// Length of the valid UTF-8 sequence that `text` starts with (1 for ASCII),
// or 0 when its first byte does not begin one (RFC 3629: no overlong forms,
// no surrogates, nothing above U+10FFFF, no truncated sequence). `text`
// must not be empty.
std::size_t utf8_sequence_length(std::string_view text);

}  // namespace chokepoint
