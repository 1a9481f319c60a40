#include "audit_inputs.hpp"

#include <iostream>

namespace chokepoint::app {

bool read_audit_inputs(std::string_view command, const std::vector<std::string>& inputs,
                       const std::function<void(tools::AuditFile&)>& read) {
  bool ok = true;
  for (const auto& input : inputs) {
    std::string error;
    auto file = tools::AuditFile::open(input, error);
    if (!file) {
      std::cerr << "chokepoint " << command << ": " << input << ": " << error << '\n';
      ok = false;
      continue;
    }
    read(*file);
    if (!file->error().empty()) {
      std::cerr << "chokepoint " << command << ": " << file->name() << ": " << file->error()
                << '\n';
      ok = false;
    }
  }
  return ok;
}

}  // namespace chokepoint::app
