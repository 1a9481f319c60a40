#include <chokepoint/app/args.hpp>

namespace chokepoint::app {

Args::Args(int argc, char** argv, int first) {
  for (int i = first; i < argc; ++i)
    args_.emplace_back(argv[i]);
}

std::optional<std::string> Args::option(std::string_view name, std::string& error) {
  if (done()) return std::nullopt;
  const std::string& arg = args_[next_];
  if (arg == name) {
    if (next_ + 1 >= args_.size()) {
      error = std::string(name) + " needs a value";
      next_ = args_.size();
      return std::nullopt;
    }
    next_ += 2;
    return args_[next_ - 1];
  }
  if (arg.size() > name.size() && arg.compare(0, name.size(), name) == 0 &&
      arg[name.size()] == '=') {
    ++next_;
    return arg.substr(name.size() + 1);
  }
  return std::nullopt;
}

std::vector<std::string> Args::rest() {
  std::vector<std::string> out(args_.begin() + static_cast<std::ptrdiff_t>(next_), args_.end());
  next_ = args_.size();
  return out;
}

bool Args::flag(std::string_view name) {
  if (done() || args_[next_] != name) return false;
  ++next_;
  return true;
}

}  // namespace chokepoint::app
