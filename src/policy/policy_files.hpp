// Private to the loader: the files of a configuration. Reads each file once
// (a diamond of includes reads the shared file once), refuses files others
// could have written (core/trusted_file.hpp), resolves `include:` relative
// to the including file or to the built-in catalog, stops cycles and
// runaway nesting, and hashes the bytes it read for the policy's digest.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "load_state.hpp"

namespace chokepoint::policy::detail {

class PolicyFiles {
 public:
  explicit PolicyFiles(LoadState& state);
  ~PolicyFiles();

  // Reads the root file from disk into `text`; false after reporting why not.
  bool read_root(const std::string& path, std::string& text);
  // Parses `text` (named `name`, identified by `id` for cycles and diamonds)
  // and, first, every file it includes. Each file's Document follows those
  // of the files it includes.
  void read(std::string_view text, const std::string& name, const std::string& id);

  const std::vector<Document>& documents() const { return documents_; }
  // Hex SHA-256 of every text read, in the order of Policy::files.
  std::string digest();

  // The path a file is known by for cycles and diamonds.
  static std::string canonical(const std::string& path);

 private:
  void read_document(std::string_view text, const std::string& name, const std::string& id,
                     const SourcePos& included_at, int depth);
  void read_includes(const YAML::Node& includes, const std::string& name, int file, int depth);
  bool read_file(const std::string& path, std::string& text, const SourcePos& included_at);
  void file_error(const std::string& file, const SourcePos& at, std::string message);

  struct Hash;
  LoadState& state_;
  std::unique_ptr<Hash> hash_;
  std::vector<Document> documents_;
  std::vector<std::string> include_stack_;
  std::set<std::string> loaded_;
};

}  // namespace chokepoint::policy::detail
