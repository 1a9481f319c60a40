// Private to the command line: how `report` and `learn` read the audit logs
// they are given.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <chokepoint/tools/audit_reader.hpp>

namespace chokepoint::app {

// Opens each of `inputs` (a path, or - for standard input; gzip or not) in
// turn and hands it to `read`. What could not be opened or read to its end is
// said on stderr as "chokepoint COMMAND: NAME: ERROR", and the other inputs
// are still read. False when any input failed.
bool read_audit_inputs(std::string_view command, const std::vector<std::string>& inputs,
                       const std::function<void(tools::AuditFile&)>& read);

}  // namespace chokepoint::app
