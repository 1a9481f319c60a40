// Reading `--name value` and `--name=value` options in order.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chokepoint::app {

class Args {
 public:
  Args(int argc, char** argv, int first);

  bool done() const { return next_ >= args_.size(); }
  // The next argument, consumed.
  std::string take() { return args_[next_++]; }
  const std::string& peek() const { return args_[next_]; }
  // Every argument not yet consumed, consumed.
  std::vector<std::string> rest();
  // When the next argument is option `name`, consumes it and returns its
  // value (from "--name=value" or the following argument); sets `error` when
  // the value is missing.
  std::optional<std::string> option(std::string_view name, std::string& error);
  bool flag(std::string_view name);

 private:
  std::vector<std::string> args_;
  std::size_t next_ = 0;
};

}  // namespace chokepoint::app
