#include <algorithm>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

#include <chokepoint/net/hosts_file.hpp>

namespace chokepoint::net {
namespace {

constexpr std::chrono::seconds kRecheck{1};

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

}  // namespace

HostsTable HostsTable::parse(std::string_view text) {
  HostsTable table;
  while (!text.empty()) {
    const auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    line = line.substr(0, line.find('#'));
    std::vector<std::string_view> fields;
    std::size_t at = 0;
    while (at < line.size()) {
      while (at < line.size() && is_space(line[at]))
        ++at;
      const std::size_t start = at;
      while (at < line.size() && !is_space(line[at]))
        ++at;
      if (at > start) fields.push_back(line.substr(start, at - start));
    }
    if (fields.size() < 2) continue;
    const auto address = IpAddress::parse(fields[0]);
    if (!address) continue;
    for (std::size_t i = 1; i < fields.size(); ++i) {
      auto& addresses = table.names_[lowercase(fields[i])];
      // A name listed twice with one address (localhost, often) is one address.
      if (std::find(addresses.begin(), addresses.end(), *address) == addresses.end())
        addresses.push_back(*address);
    }
  }
  return table;
}

std::span<const IpAddress> HostsTable::find(std::string_view name) const {
  const auto it = names_.find(name);
  if (it == names_.end()) return {};
  return it->second;
}

std::span<const IpAddress> HostsFile::find(std::string_view name,
                                           std::chrono::steady_clock::time_point now) {
  if (!ever_checked_ || now - checked_ >= kRecheck) {
    ever_checked_ = true;
    checked_ = now;
    refresh();
  }
  return table_.find(name);
}

void HostsFile::refresh() {
  struct stat info {};
  Identity now_identity;
  if (::stat(path_.c_str(), &info) == 0) {
    now_identity = Identity{
        static_cast<std::uint64_t>(info.st_dev), static_cast<std::uint64_t>(info.st_ino),
        static_cast<std::uint64_t>(info.st_size),
        static_cast<std::int64_t>(info.st_mtim.tv_sec) * 1'000'000'000 + info.st_mtim.tv_nsec};
  }
  if (now_identity == identity_ && identity_.mtime_ns >= 0) return;
  identity_ = now_identity;
  std::ifstream file(path_);
  std::ostringstream text;
  if (file) text << file.rdbuf();
  table_ = HostsTable::parse(text.str());
}

}  // namespace chokepoint::net
