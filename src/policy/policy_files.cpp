#include "policy_files.hpp"

#include <algorithm>
#include <filesystem>

#include <openssl/evp.h>

#include <chokepoint/core/trusted_file.hpp>
#include <chokepoint/policy/loader.hpp>

namespace chokepoint::policy::detail {
namespace {

constexpr int kMaxIncludeDepth = 16;

std::string hex(const unsigned char* bytes, std::size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 0xf];
  }
  return out;
}

}  // namespace

// OpenSSL's SHA-256, fed as the files are read.
struct PolicyFiles::Hash {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context{EVP_MD_CTX_new(),
                                                                  &EVP_MD_CTX_free};
  Hash() { EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr); }
};

PolicyFiles::PolicyFiles(LoadState& state) : state_(state), hash_(std::make_unique<Hash>()) {}

PolicyFiles::~PolicyFiles() = default;

std::string PolicyFiles::canonical(const std::string& path) {
  std::error_code ec;
  const auto c = std::filesystem::weakly_canonical(path, ec);
  return ec ? path : c.string();
}

std::string PolicyFiles::digest() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(hash_->context.get(), digest, &length);
  return hex(digest, length);
}

bool PolicyFiles::read_root(const std::string& path, std::string& text) {
  return read_file(path, text, SourcePos{});
}

void PolicyFiles::read(std::string_view text, const std::string& name, const std::string& id) {
  read_document(text, name, id, SourcePos{}, 0);
}

void PolicyFiles::file_error(const std::string& file, const SourcePos& at, std::string message) {
  if (at.file >= 0) {
    state_.reader.error(at, file + ": " + message);
  } else {
    state_.diagnostics.push_back(Diagnostic{file, 0, 0, Severity::Error, std::move(message)});
  }
}

bool PolicyFiles::read_file(const std::string& path, std::string& text,
                            const SourcePos& included_at) {
  // Whoever may write the policy decides what leaves the network.
  auto read = read_trusted_file(path);
  if (!read) {
    file_error(path, included_at, read.diagnostics().front().message);
    return false;
  }
  text = std::move(read).value();
  return true;
}

void PolicyFiles::read_document(std::string_view text, const std::string& name,
                                const std::string& id, const SourcePos& included_at, int depth) {
  YamlReader& reader = state_.reader;
  if (std::find(include_stack_.begin(), include_stack_.end(), id) != include_stack_.end()) {
    reader.error(included_at, "include cycle: " + quote(name) + " includes itself");
    return;
  }
  if (!loaded_.insert(id).second) return;  // a diamond: the file is already in

  const int file = static_cast<int>(state_.policy.files.size());
  state_.policy.files.push_back(name);
  EVP_DigestUpdate(hash_->context.get(), text.data(), text.size());
  reader.set_file(file);

  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    reader.error(SourcePos{file, e.mark.line + 1, e.mark.column + 1}, e.msg);
    return;
  }
  if (!root.IsMap()) {
    reader.error(SourcePos{file, 1, 1}, "a configuration file must be a map with 'version: 1'");
    return;
  }
  if (!root["version"]) {
    reader.error(SourcePos{file, 1, 1}, "missing 'version: 1'");
  } else if (const auto v = reader.scalar(root["version"], "version"); v && *v != "1") {
    reader.error(root["version"],
                 "unsupported version " + quote(*v) + "; this build reads version 1");
  }
  if (const YAML::Node includes = root["include"]) {
    include_stack_.push_back(id);
    read_includes(includes, name, file, depth);
    include_stack_.pop_back();
  }
  documents_.push_back(Document{file, root});
}

void PolicyFiles::read_includes(const YAML::Node& includes, const std::string& name, int file,
                                int depth) {
  YamlReader& reader = state_.reader;
  const auto base = std::filesystem::path(name).parent_path();
  for (const auto& [entry, node] : reader.scalar_list(includes, "include")) {
    const SourcePos at = reader.pos(node);
    if (depth + 1 > kMaxIncludeDepth) {
      reader.error(at, "includes nested deeper than " + std::to_string(kMaxIncludeDepth));
      continue;
    }
    if (names_builtin(entry)) {
      // Never read from disk, so no file of that name can stand in for one.
      if (const BuiltinCatalog* catalog = find_builtin_catalog(entry)) {
        read_document(catalog->text, entry, entry, at, depth + 1);
      } else {
        reader.error(
            at, "no built-in catalog " + quote(entry) + "; there are " + builtin_catalog_names());
      }
    } else {
      const auto path =
          std::filesystem::path(entry).is_absolute() ? std::filesystem::path(entry) : base / entry;
      std::string included;
      if (read_file(path.string(), included, at)) {
        read_document(included, path.string(), canonical(path.string()), at, depth + 1);
      }
    }
    reader.set_file(file);
  }
}

}  // namespace chokepoint::policy::detail
