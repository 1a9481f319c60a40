// Text for HTML pages whose strings a client or a record chose (a Host
// header, an SNI, a SOCKS domain): the admin status page and the report.
#pragma once

#include <string>
#include <string_view>

namespace chokepoint {

// `text` with &, <, >, " and ' as character references, and control
// characters as U+FFFD: safe in element content and in quoted attributes.
std::string html_escape(std::string_view text);

}  // namespace chokepoint
