#include <algorithm>
#include <optional>

#include <chokepoint/core/diagnostic.hpp>
#include <chokepoint/policy/interpolation.hpp>

namespace chokepoint::policy {
namespace {

constexpr std::size_t kMaxLabel = 63;

bool is_digits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "/24" or "/24/more": what follows `${net}` would make it a CIDR block.
bool starts_with_prefix_length(std::string_view rest) {
  if (rest.empty() || rest.front() != '/') return false;
  const auto end = rest.find('/', 1);
  return is_digits(rest.substr(1, end == std::string_view::npos ? end : end - 1));
}

// Why `value` cannot stand for one label of a host name; nullopt when it can.
// The same characters as core/host.hpp allows in a label, and lowercase only,
// as the pattern parser asks of every name.
std::optional<std::string> label_problem(std::string_view value) {
  if (value.empty()) return std::string("an empty value is not a label");
  std::string lowered(value);
  for (char& c : lowered) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (lowered != value) return quote(value) + " is not normalised; write " + quote(lowered);
  for (const char c : value) {
    if (c == '.') return quote(value) + " is more than one label";
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
      return quote(value) + " is not a DNS label (use a-z, 0-9, '-' and '_')";
  }
  if (value.size() > kMaxLabel) return quote(value) + " is longer than 63 characters";
  return std::nullopt;
}

// One label of the host part: literal text, or exactly one variable.
struct Label {
  std::string text;  // the literal, or the variable's name
  bool variable = false;
};

class Expander {
 public:
  Expander(std::string_view written, const SourcePos& at, const Variables& variables)
      : written_(written), at_(at), variables_(variables) {}

  Expansion run() {
    if (written_.find("${") == std::string_view::npos) {
      out_.texts.push_back(ExpandedText{std::string(written_), at_});
      return std::move(out_);
    }
    if (written_.substr(0, 3) == "re:") {
      return fail("a variable cannot be used inside a re: pattern: " + quote(written_) +
                  " (write the names, or a variable standing for a label of one)");
    }
    const auto slash = written_.find('/');
    const std::string_view host = written_.substr(0, slash);
    const std::string_view rest =
        slash == std::string_view::npos ? std::string_view{} : written_.substr(slash);
    if (rest.find("${") != std::string_view::npos)
      return fail("a variable cannot be used in a path: " + quote(written_));
    if (const auto name = whole_variable(host)) return whole(*name, rest);
    return inside_name(host, rest);
  }

 private:
  Expansion fail(std::string message) {
    out_.errors.push_back(ExpansionError{at_, std::move(message)});
    out_.texts.clear();
    return std::move(out_);
  }

  Expansion refuse_address() {
    return fail("a variable cannot be used inside an address or CIDR block: " + quote(written_) +
                " (give the addresses or blocks themselves as a variable's values, and use the "
                "variable for the whole destination)");
  }

  // "${name}" and nothing else: the name; otherwise nullopt.
  static std::optional<std::string_view> whole_variable(std::string_view host) {
    if (host.size() < 3 || host.substr(0, 2) != "${" || host.back() != '}') return std::nullopt;
    const auto name = host.substr(2, host.size() - 3);
    if (name.find_first_of("${}") != std::string_view::npos) return std::nullopt;
    return name;
  }

  const std::vector<VariableValue>* lookup(std::string_view name) {
    const auto it = variables_.find(std::string(name));
    if (it == variables_.end()) {
      out_.errors.push_back(ExpansionError{at_, "undefined variable " + quote(name)});
      return nullptr;
    }
    if (it->second.empty()) out_.unset.emplace_back(name);
    return &it->second;
  }

  // `${name}` or `${name}/path`: each value is a whole destination.
  Expansion whole(std::string_view name, std::string_view rest) {
    if (starts_with_prefix_length(rest)) {
      return fail("a variable cannot be used inside a CIDR block: " + quote(written_) +
                  " (give the blocks themselves as the variable's values)");
    }
    const auto* values = lookup(name);
    if (!values) return std::move(out_);
    std::vector<std::string_view> seen;
    for (const auto& value : *values) {
      if (std::find(seen.begin(), seen.end(), value.text) != seen.end()) continue;
      seen.push_back(value.text);
      if (value.text.find('/') != std::string::npos && !rest.empty() && !Cidr::parse(value.text)) {
        out_.errors.push_back(ExpansionError{
            value.pos, "variable " + quote(name) + " is used with a path, so its value " +
                           quote(value.text) + " cannot carry one"});
        continue;
      }
      out_.texts.push_back(ExpandedText{value.text + std::string(rest), value.pos});
    }
    return std::move(out_);
  }

  // Variables standing for labels: `agents.${region}.example.com/path`.
  Expansion inside_name(std::string_view host, std::string_view rest) {
    out_.inside_name = true;
    // An address is never spelled from pieces: a value could turn one block
    // into another, or a name into an address that vetting would then trust.
    if (host.find(':') != std::string_view::npos) return refuse_address();
    std::vector<Label> labels;
    if (!split_labels(host, labels)) return std::move(out_);
    bool numeric = true;
    bool any_literal = false;
    for (const auto& label : labels) {
      if (label.variable || label.text.empty()) continue;
      any_literal = true;
      numeric = numeric && is_digits(label.text);
    }
    if (any_literal && numeric) return refuse_address();

    // The distinct variables, in order of first use, with their usable values.
    std::vector<std::string> names;
    std::vector<std::vector<std::string>> values;
    for (const auto& label : labels) {
      if (!label.variable) continue;
      if (std::find(names.begin(), names.end(), label.text) != names.end()) continue;
      const auto* defined = lookup(label.text);
      if (!defined) continue;
      names.push_back(label.text);
      values.emplace_back();
      for (const auto& value : *defined) {
        if (const auto problem = label_problem(value.text)) {
          out_.errors.push_back(ExpansionError{
              value.pos, "variable " + quote(label.text) +
                             " stands for one label of a host name, so each value must be one "
                             "DNS label: " +
                             *problem});
          continue;
        }
        auto& list = values.back();
        if (std::find(list.begin(), list.end(), value.text) == list.end())
          list.push_back(value.text);
      }
    }
    if (!out_.errors.empty()) return std::move(out_);

    std::size_t total = 1;
    for (const auto& list : values) {
      if (list.empty()) return std::move(out_);  // unset: no destination
      if (total > kMaxExpansions / list.size()) {
        return fail(quote(written_) + " would expand to more than " +
                    std::to_string(kMaxExpansions) + " destinations");
      }
      total *= list.size();
    }
    // Every combination, the first variable varying slowest.
    std::vector<std::size_t> pick(names.size(), 0);
    for (std::size_t n = 0; n < total; ++n) {
      std::string text;
      for (std::size_t i = 0; i < labels.size(); ++i) {
        if (i > 0) text += '.';
        if (!labels[i].variable) {
          text += labels[i].text;
          continue;
        }
        const auto which = static_cast<std::size_t>(
            std::find(names.begin(), names.end(), labels[i].text) - names.begin());
        text += values[which][pick[which]];
      }
      if (text.find_first_not_of("0123456789.") == std::string::npos) {
        return fail(quote(written_) + " would spell the address " + quote(text) +
                    " from pieces; a variable inside a name stands for a label of a name");
      }
      out_.texts.push_back(ExpandedText{text + std::string(rest), at_});
      for (std::size_t k = names.size(); k-- > 0;) {
        if (++pick[k] < values[k].size()) break;
        pick[k] = 0;
      }
    }
    return std::move(out_);
  }

  // Splits at dots; each label holding "${" must be exactly one variable.
  bool split_labels(std::string_view host, std::vector<Label>& labels) {
    std::size_t start = 0;
    while (true) {
      const auto dot = host.find('.', start);
      const auto label = host.substr(start, dot == std::string_view::npos ? dot : dot - start);
      if (label.find("${") == std::string_view::npos && label.find('}') == std::string_view::npos) {
        labels.push_back(Label{std::string(label), false});
      } else if (const auto name = whole_variable(label)) {
        labels.push_back(Label{std::string(*name), true});
      } else if (label.find('}') == std::string_view::npos) {
        out_.errors.push_back(ExpansionError{at_, "unterminated variable in " + quote(written_)});
        return false;
      } else {
        out_.errors.push_back(
            ExpansionError{at_, quote(written_) +
                                    ": a variable may only start a destination or stand for a "
                                    "whole label of a name, between dots (" +
                                    quote(label) + " is part variable)"});
        return false;
      }
      if (dot == std::string_view::npos) return true;
      start = dot + 1;
    }
  }

  std::string_view written_;
  SourcePos at_;
  const Variables& variables_;
  Expansion out_;
};

std::vector<std::string_view> labels_of(std::string_view name) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    const auto dot = name.find('.', start);
    out.push_back(name.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) return out;
    start = dot + 1;
  }
}

}  // namespace

std::optional<std::vector<std::pair<std::string, std::string>>> bind_template(
    std::string_view host_template, std::string_view host) {
  if (host_template.empty() || host_template.front() == '.' || host_template.substr(0, 2) == "*.") {
    return std::nullopt;
  }
  const auto pattern = labels_of(host_template);
  const auto labels = labels_of(host);
  if (pattern.size() != labels.size()) return std::nullopt;
  std::vector<std::pair<std::string, std::string>> bound;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const std::string_view p = pattern[i];
    if (p.size() > 3 && p.substr(0, 2) == "${" && p.back() == '}') {
      const std::string name(p.substr(2, p.size() - 3));
      const auto same = [&name](const auto& b) { return b.first == name; };
      const auto it = std::find_if(bound.begin(), bound.end(), same);
      if (it == bound.end()) {
        if (label_problem(labels[i])) return std::nullopt;
        bound.emplace_back(name, std::string(labels[i]));
      } else if (it->second != labels[i]) {
        return std::nullopt;
      }
    } else if (p != "*" && p != labels[i]) {
      return std::nullopt;
    }
  }
  if (bound.empty()) return std::nullopt;
  return bound;
}

Expansion expand_destination(std::string_view written, const SourcePos& at,
                             const Variables& variables) {
  return Expander(written, at, variables).run();
}

}  // namespace chokepoint::policy
