// Diagnostics: what the control plane (config loading, validation, reload) reports.
//
// A diagnostic always names a place in a file so an operator can jump to it:
// `FILE:LINE:COLUMN: message` (DESIGN.md, "Command line"). Warnings carry the
// prefix "warning: " in their message and do not make a configuration invalid.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chokepoint {

enum class Severity { Error, Warning };

struct Diagnostic {
  std::string file;
  int line = 0;    // 1-based; 0 when the problem is not tied to a line
  int column = 0;  // 1-based
  Severity severity = Severity::Error;
  std::string message;

  // "FILE:LINE:COLUMN: message" (warnings: "FILE:LINE:COLUMN: warning: message").
  std::string to_string() const;
};

using Diagnostics = std::vector<Diagnostic>;

bool has_errors(const Diagnostics& diagnostics);

// `text` in single quotes, for messages: quote("a.com") == "'a.com'".
std::string quote(std::string_view text);

// The value of a control-plane step, or the reasons it could not be produced.
// Warnings may accompany a value; errors never do.
template <class T>
class Result {
 public:
  Result(T value, Diagnostics warnings = {})
      : value_(std::move(value)), diagnostics_(std::move(warnings)), ok_(true) {}
  static Result failure(Diagnostics diagnostics) { return Result(std::move(diagnostics)); }

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  const Diagnostics& diagnostics() const { return diagnostics_; }

 private:
  explicit Result(Diagnostics diagnostics) : diagnostics_(std::move(diagnostics)), ok_(false) {}
  std::optional<T> value_;
  Diagnostics diagnostics_;
  bool ok_ = false;
};

}  // namespace chokepoint
