// A few audit records as the proxy writes them (README.md, "Audit record"):
// an agent's tunnel, open and close, and a refusal; for report and learn.
#pragma once

namespace chokepoint::test {

inline constexpr const char* kAuditLines =
    R"({"ts":"2026-11-25T21:04:12.103377Z","event":"open","id":"a-0-1","client":"10.0.8.23:51514","user":null,"role":"agent","mode":"connect","host":"ds20.icrc.trendmicro.com","port":443,"sni":null,"http_host":"ds20.icrc.trendmicro.com:443","orig_dst":null,"upstream":"203.0.113.40:443","decision":"allow","rule":"spn-smart-scan","reason":"rule_allows","enforced":true,"bytes_up":0,"bytes_down":0,"duration_ms":31,"version":"20.0"})"
    "\n"
    R"({"ts":"2026-11-25T21:04:12.987011Z","event":"close","id":"a-0-1","client":"10.0.8.23:51514","user":null,"role":"agent","mode":"connect","host":"ds20.icrc.trendmicro.com","port":443,"sni":null,"http_host":"ds20.icrc.trendmicro.com:443","orig_dst":null,"upstream":"203.0.113.40:443","decision":"allow","rule":"spn-smart-scan","reason":"rule_allows","enforced":true,"bytes_up":2291,"bytes_down":6140,"duration_ms":915,"version":"20.0"})"
    "\n"
    R"({"ts":"2026-11-25T21:05:00.000000Z","event":"deny","id":"a-0-2","client":"10.0.8.24:40000","user":null,"role":"agent","mode":"connect","host":"evil.example.com","port":443,"sni":null,"http_host":"evil.example.com:443","orig_dst":null,"upstream":null,"decision":"deny","rule":null,"reason":"no_matching_rule","enforced":true,"bytes_up":0,"bytes_down":0,"duration_ms":0})"
    "\n";

}  // namespace chokepoint::test
