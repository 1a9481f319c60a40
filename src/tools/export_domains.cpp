#include <set>

#include "export_selection.hpp"

namespace chokepoint::tools::detail {

ExportOutput export_domains(const Selection& s) {
  std::set<std::string> names;
  for (const auto& selected : s.rules) {
    for (const auto* d : selected.destinations) {
      const auto kind = d->pattern.kind;
      if (kind == policy::PatternKind::Exact || kind == policy::PatternKind::Glob)
        names.insert(d->pattern.text);
    }
  }
  ExportOutput out;
  out.text = comment_block(
      "#", export_header(s, ExportFormat::Domains),
      {note_ports(s),
       note_list("re: rules", s.regexes, "left out: a list of names holds no patterns"),
       note_list("CIDR destinations", s.cidrs, "left out: a list of names holds no addresses"),
       note_paths(s, "the name is listed; the path is not"), note_versions(s), note_roles(s),
       note_deny(s)});
  out.text +=
      "# As the policy writes them: a name matches itself; '*.example.com' the names below\n"
      "# example.com but not example.com itself; '.example.com' example.com and every name\n"
      "# below it; a '*' in another position exactly one label. A consumer that reads these\n"
      "# forms differently (many read '*.example.com' as including the apex) widens them.\n";
  for (const auto& name : names) {
    out.text += name;
    out.text += '\n';
  }
  return out;
}

}  // namespace chokepoint::tools::detail
