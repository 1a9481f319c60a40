// /etc/hosts, read the way glibc's "files" source reads it for getaddrinfo
// with AF_UNSPEC: every line naming the host (as its canonical name or an
// alias, compared case-insensitively), addresses of both families, in file
// order. '#' starts a comment; a line whose address does not parse (a zone
// id, say) is skipped, as glibc skips it.
//
// c-ares 1.18 has no call that answers from the hosts file without opening
// and parsing it on every lookup (ares_gethostbyname_file), and the raw
// queries the resolver sends (for TTLs and SOA records) skip it altogether;
// so the table is read here, once, and re-read when the file changes. It is
// a local file root owns, not network input.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <chokepoint/core/ip.hpp>

namespace chokepoint::net {

class HostsTable {
 public:
  static HostsTable parse(std::string_view text);

  // The addresses of `name` (lower case, no trailing dot), in file order;
  // empty when the file does not name it.
  std::span<const IpAddress> find(std::string_view name) const;
  std::size_t size() const { return names_.size(); }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::vector<IpAddress>, Hash, std::equal_to<>> names_;
};

// A hosts file kept current: its table, re-read when the file's identity
// (inode, size, modification time) has changed, looked at no more than once
// a second. Not thread-safe: each resolver (one per I/O thread) has its own.
class HostsFile {
 public:
  explicit HostsFile(std::string path) : path_(std::move(path)) {}

  // The addresses `name` has in the file now (see HostsTable::find). A file
  // that cannot be read counts as empty, as glibc counts it.
  std::span<const IpAddress> find(std::string_view name, std::chrono::steady_clock::time_point now);

 private:
  void refresh();

  std::string path_;
  HostsTable table_;
  std::chrono::steady_clock::time_point checked_{};
  bool ever_checked_ = false;
  struct Identity {
    std::uint64_t device = 0, inode = 0, size = 0;
    std::int64_t mtime_ns = -1;
    friend bool operator==(const Identity&, const Identity&) = default;
  } identity_;
};

}  // namespace chokepoint::net
