// Audit records as SIEMs want them: RFC 5424 syslog messages carrying the
// JSON record, or ArcSight CEF lines (the format Deep Security's own events
// use). Pure functions, tested against golden strings.
#pragma once

#include <string>
#include <string_view>

#include <chokepoint/audit/record.hpp>
#include <chokepoint/core/syslog_target.hpp>

namespace chokepoint::audit {

using chokepoint::SiemFormat;

// CEF:0|Trend Micro|chokepoint|VERSION|SIGNATURE|NAME|SEVERITY|EXTENSION
// Signature is the event (open, close, deny, error); severity 3 for allowed
// traffic, 5 for errors, 7 for denies. Extension keys: rt src spt dst dpt
// dhost suser act reason outcome in out cs1 (rule) cs2 (role) cs3 (sni)
// cs4 (mode) cs5 (id) cs6 (orig_dst), each csN with its csNLabel.
std::string format_cef(const Record& record, std::string_view product_version);

// <PRI>1 TIMESTAMP HOSTNAME chokepoint PROCID EVENT - MESSAGE (RFC 5424 6).
// Facility local0; severity info for open and close, warning for deny,
// error for error. MESSAGE is the JSON record or the CEF line, without the
// trailing newline.
std::string format_rfc5424(const Record& record, SiemFormat format, std::string_view hostname,
                           int pid, std::string_view product_version);

// RFC 6587 3.4.1 octet counting: "LENGTH SP MESSAGE", for syslog over TCP and TLS.
std::string octet_counted(std::string_view message);

}  // namespace chokepoint::audit
