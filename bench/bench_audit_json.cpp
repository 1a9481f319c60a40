// Which JSON reader `chokepoint report` uses, decided by measurement: the
// fields a report needs from each audit record, read from 64 MiB of
// synthetic records (audit_log_synth.hpp) held in memory, by
//   - simdjson 3.0.1's On-Demand API (libsimdjson-dev),
//   - nlohmann::json 3.11 (nlohmann-json3-dev), DOM and SAX,
//   - a reader written for this flat schema (no nesting, known keys).
//
//   build/bench/bench_audit_json --benchmark_min_time=2
//
// Every reader produces the same checksum over the same fields (checked
// before the runs), so none of them skips work the others do.
#include <cstring>
#include <simdjson.h>
#include <string>
#include <string_view>
#include <vector>

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include <chokepoint/audit/record_fields.hpp>

#include "audit_log_synth.hpp"

namespace {

// What a report takes from a record.
struct Fields {
  std::string_view ts, event, client, role, host, decision, rule, service, reason, detail;
  std::uint64_t port = 0, bytes_up = 0, bytes_down = 0;
  bool enforced = true;

  // Where a field's value goes, by its name; nullptr for what a report ignores.
  std::string_view* text(std::string_view key) {
    namespace k = chokepoint::audit::key;
    return key == k::ts         ? &ts
           : key == k::event    ? &event
           : key == k::client   ? &client
           : key == k::role     ? &role
           : key == k::host     ? &host
           : key == k::decision ? &decision
           : key == k::rule     ? &rule
           : key == k::service  ? &service
           : key == k::reason   ? &reason
           : key == k::detail   ? &detail
                                : nullptr;
  }
  std::uint64_t* number(std::string_view key) {
    namespace k = chokepoint::audit::key;
    return key == k::port         ? &port
           : key == k::bytes_up   ? &bytes_up
           : key == k::bytes_down ? &bytes_down
                                  : nullptr;
  }
};

std::uint64_t checksum(const Fields& f) {
  return f.ts.size() + f.event.size() * 3 + f.client.size() * 5 + f.role.size() * 7 +
         f.host.size() * 11 + f.decision.size() * 13 + f.rule.size() * 17 + f.service.size() * 19 +
         f.reason.size() * 23 + f.detail.size() * 29 + f.port * 31 + f.bytes_up * 37 +
         f.bytes_down * 41 + (f.enforced ? 43 : 0);
}

struct Corpus {
  std::string text;  // lines, with simdjson's padding after the end
  std::vector<std::pair<std::size_t, std::size_t>> lines;
};

const Corpus& corpus() {
  static const Corpus c = [] {
    Corpus out;
    chokepoint::bench::synthesize_audit_log(64 << 20, 3,
                                            [&](std::string_view chunk) { out.text += chunk; });
    std::size_t start = 0;
    while (start < out.text.size()) {
      const auto end = out.text.find('\n', start);
      out.lines.emplace_back(start, end - start);
      start = end + 1;
    }
    out.text.append(simdjson::SIMDJSON_PADDING, ' ');
    return out;
  }();
  return c;
}

// --- simdjson On-Demand ---------------------------------------------------
// The record's fields from one parsed object (a document's, or one of
// iterate_many's).
template <class Object>
std::uint64_t fields_of(Object& object) {
  Fields f;
  for (auto field : object) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return 0;
    auto value = field.value();
    if (std::uint64_t* number = f.number(key)) {
      std::uint64_t n = 0;
      if (!value.get_uint64().get(n)) *number = n;
      continue;
    }
    if (key == chokepoint::audit::key::enforced) {
      bool b = true;
      if (!value.get_bool().get(b)) f.enforced = b;
      continue;
    }
    std::string_view* slot = f.text(key);
    if (slot == nullptr) continue;
    std::string_view s;
    if (!value.get_string().get(s)) *slot = s;
  }
  return checksum(f);
}

std::uint64_t read_simdjson(simdjson::ondemand::parser& parser, const char* data, std::size_t size,
                            std::size_t capacity) {
  simdjson::ondemand::document doc;
  if (parser.iterate(data, size, capacity).get(doc)) return 0;
  simdjson::ondemand::object object;
  if (doc.get_object().get(object)) return 0;
  return fields_of(object);
}

// The same, comparing raw keys in place (no unescaping) and reading values
// only for the keys a report wants.
std::uint64_t read_simdjson_raw_keys(simdjson::ondemand::parser& parser, const char* data,
                                     std::size_t size, std::size_t capacity) {
  simdjson::ondemand::document doc;
  if (parser.iterate(data, size, capacity).get(doc)) return 0;
  simdjson::ondemand::object object;
  if (doc.get_object().get(object)) return 0;
  Fields f;
  for (auto field : object) {
    if (field.error()) return 0;
    const char* raw = field.key().raw();
    const char* quote = static_cast<const char*>(std::memchr(raw, '"', 32));
    if (quote == nullptr) continue;
    const std::string_view key(raw, static_cast<std::size_t>(quote - raw));
    if (std::uint64_t* number = f.number(key)) {
      std::uint64_t n = 0;
      if (!field.value().get_uint64().get(n)) *number = n;
      continue;
    }
    if (key == chokepoint::audit::key::enforced) {
      bool b = true;
      if (!field.value().get_bool().get(b)) f.enforced = b;
      continue;
    }
    std::string_view* slot = f.text(key);
    if (slot == nullptr) continue;
    simdjson::ondemand::json_type type;
    if (field.value().type().get(type) || type != simdjson::ondemand::json_type::string) continue;
    std::string_view s;
    if (!field.value().get_string().get(s)) *slot = s;
  }
  return checksum(f);
}

std::uint64_t all_simdjson_raw_keys() {
  static simdjson::ondemand::parser parser;
  const auto& c = corpus();
  std::uint64_t sum = 0;
  for (const auto& [start, size] : c.lines)
    sum += read_simdjson_raw_keys(parser, c.text.data() + start, size, c.text.size() - start);
  return sum;
}

// --- simdjson DOM (runtime-dispatched kernels in libsimdjson) ------------------
std::uint64_t read_simdjson_dom(simdjson::dom::parser& parser, const char* data, std::size_t size) {
  simdjson::dom::element doc;
  if (parser.parse(data, size, false).get(doc)) return 0;
  simdjson::dom::object object;
  if (doc.get_object().get(object)) return 0;
  Fields f;
  for (const auto field : object) {
    const std::string_view key = field.key;
    const auto& value = field.value;
    if (std::uint64_t* number = f.number(key)) {
      std::uint64_t n = 0;
      if (!value.get_uint64().get(n)) *number = n;
      continue;
    }
    if (key == chokepoint::audit::key::enforced) {
      bool b = true;
      if (!value.get_bool().get(b)) f.enforced = b;
      continue;
    }
    std::string_view* slot = f.text(key);
    if (slot == nullptr) continue;
    std::string_view s;
    if (!value.get_string().get(s)) *slot = s;
  }
  return checksum(f);
}

std::uint64_t all_simdjson_dom() {
  static simdjson::dom::parser parser;
  const auto& c = corpus();
  std::uint64_t sum = 0;
  for (const auto& [start, size] : c.lines)
    sum += read_simdjson_dom(parser, c.text.data() + start, size);
  return sum;
}

void BM_simdjson_dom(benchmark::State& state);

// --- nlohmann::json, DOM ----------------------------------------------------
std::uint64_t read_nlohmann(std::string_view line) {
  const auto j = nlohmann::json::parse(line.begin(), line.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return 0;
  Fields f;
  namespace k = chokepoint::audit::key;
  const auto find = [&](std::string_view key) { return j.find(std::string(key)); };
  const auto str = [&](std::string_view key) -> std::string_view {
    const auto it = find(key);
    return it != j.end() && it->is_string() ? std::string_view(it->get_ref<const std::string&>())
                                            : std::string_view();
  };
  const auto num = [&](std::string_view key) -> std::uint64_t {
    const auto it = find(key);
    return it != j.end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : 0;
  };
  f.ts = str(k::ts);
  f.event = str(k::event);
  f.client = str(k::client);
  f.role = str(k::role);
  f.host = str(k::host);
  f.decision = str(k::decision);
  f.rule = str(k::rule);
  f.service = str(k::service);
  f.reason = str(k::reason);
  f.detail = str(k::detail);
  f.port = num(k::port);
  f.bytes_up = num(k::bytes_up);
  f.bytes_down = num(k::bytes_down);
  const auto it = find(k::enforced);
  f.enforced = it == j.end() || !it->is_boolean() || it->get<bool>();
  return checksum(f);
}

// --- nlohmann::json, SAX ------------------------------------------------------
struct Sax : nlohmann::json_sax<nlohmann::json> {
  Fields f;
  std::string key_;
  std::string strings[10];
  int depth = 0;
  bool null() override { return true; }
  bool boolean(bool b) override {
    if (key_ == chokepoint::audit::key::enforced) f.enforced = b;
    return true;
  }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t n) override {
    if (std::uint64_t* number = f.number(key_)) *number = n;
    return true;
  }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t& s) override {
    if (auto* slot_ptr = f.text(key_)) {
      const auto index = static_cast<std::size_t>(slot_ptr - &f.ts);
      strings[index] = std::move(s);
      *slot_ptr = strings[index];
    }
    return true;
  }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return ++depth == 1; }
  bool key(string_t& k) override {
    key_ = std::move(k);
    return true;
  }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return false; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }
};

std::uint64_t read_nlohmann_sax(std::string_view line) {
  Sax sax;
  if (!nlohmann::json::sax_parse(line.begin(), line.end(), &sax,
                                 nlohmann::json::input_format_t::json, false))
    return 0;
  return checksum(sax.f);
}

// --- a reader for this schema ---------------------------------------------------
// Flat objects of strings, unsigned numbers, booleans and nulls; strings
// without escapes (the common case) are views into the line.
struct Flat {
  const char* p;
  const char* end;
  std::string scratch[10];

  void ws() {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
      ++p;
  }
  bool string(std::string_view& out, std::string* unescaped) {
    if (p >= end || *p != '"') return false;
    const char* start = ++p;
    const void* quote = std::memchr(p, '"', static_cast<std::size_t>(end - p));
    if (!quote) return false;
    const char* q = static_cast<const char*>(quote);
    if (std::memchr(start, '\\', static_cast<std::size_t>(q - start)) == nullptr) {
      out = std::string_view(start, static_cast<std::size_t>(q - start));
      p = q + 1;
      return true;
    }
    if (!unescaped) return false;
    unescaped->clear();
    while (p < end && *p != '"') {
      if (*p != '\\') {
        *unescaped += *p++;
        continue;
      }
      if (++p >= end) return false;
      const char c = *p++;
      switch (c) {
        case 'n':
          *unescaped += '\n';
          break;
        case 't':
          *unescaped += '\t';
          break;
        case 'r':
          *unescaped += '\r';
          break;
        case 'b':
          *unescaped += '\b';
          break;
        case 'f':
          *unescaped += '\f';
          break;
        case 'u': {
          if (end - p < 4) return false;
          unsigned v = 0;
          for (int i = 0; i < 4; ++i) {
            const char h = *p++;
            v = v * 16 + static_cast<unsigned>(h <= '9' ? h - '0' : (h | 32) - 'a' + 10);
          }
          if (v < 0x80) {
            *unescaped += static_cast<char>(v);
          } else if (v < 0x800) {
            *unescaped += static_cast<char>(0xc0 | (v >> 6));
            *unescaped += static_cast<char>(0x80 | (v & 63));
          } else {
            *unescaped += static_cast<char>(0xe0 | (v >> 12));
            *unescaped += static_cast<char>(0x80 | ((v >> 6) & 63));
            *unescaped += static_cast<char>(0x80 | (v & 63));
          }
          break;
        }
        default:
          *unescaped += c;
      }
    }
    if (p >= end) return false;
    ++p;
    out = *unescaped;
    return true;
  }
};

std::uint64_t read_flat(std::string_view line, Flat& r) {
  r.p = line.data();
  r.end = line.data() + line.size();
  Fields f;
  r.ws();
  if (r.p >= r.end || *r.p++ != '{') return 0;
  int slot_index = 0;
  while (true) {
    r.ws();
    std::string_view key;
    if (!r.string(key, nullptr)) return 0;
    r.ws();
    if (r.p >= r.end || *r.p++ != ':') return 0;
    r.ws();
    if (r.p >= r.end) return 0;
    const char c = *r.p;
    if (c == '"') {
      std::string_view* slot = f.text(key);
      std::string_view value;
      if (!r.string(value, &r.scratch[slot_index % 10])) return 0;
      ++slot_index;
      if (slot) *slot = value;
    } else if (c >= '0' && c <= '9') {
      std::uint64_t n = 0;
      while (r.p < r.end && *r.p >= '0' && *r.p <= '9')
        n = n * 10 + static_cast<std::uint64_t>(*r.p++ - '0');
      if (std::uint64_t* number = f.number(key)) *number = n;
    } else if (c == 't' && r.end - r.p >= 4 && std::memcmp(r.p, "true", 4) == 0) {
      r.p += 4;
      if (key == chokepoint::audit::key::enforced) f.enforced = true;
    } else if (c == 'f' && r.end - r.p >= 5 && std::memcmp(r.p, "false", 5) == 0) {
      r.p += 5;
      if (key == chokepoint::audit::key::enforced) f.enforced = false;
    } else if (c == 'n' && r.end - r.p >= 4 && std::memcmp(r.p, "null", 4) == 0) {
      r.p += 4;
    } else if (c == '-') {
      ++r.p;
      while (r.p < r.end && *r.p >= '0' && *r.p <= '9')
        ++r.p;
    } else {
      return 0;
    }
    r.ws();
    if (r.p >= r.end) return 0;
    if (*r.p == ',') {
      ++r.p;
      continue;
    }
    if (*r.p++ != '}') return 0;
    return checksum(f);
  }
}

void report(benchmark::State& state, std::uint64_t sum) {
  benchmark::DoNotOptimize(sum);
  state.SetBytesProcessed(
      static_cast<std::int64_t>(state.iterations()) *
      static_cast<std::int64_t>(corpus().text.size() - simdjson::SIMDJSON_PADDING));
  state.counters["records/s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * corpus().lines.size()), benchmark::Counter::kIsRate);
}

std::uint64_t all_simdjson() {
  static simdjson::ondemand::parser parser;
  const auto& c = corpus();
  std::uint64_t sum = 0;
  for (const auto& [start, size] : c.lines)
    sum += read_simdjson(parser, c.text.data() + start, size, c.text.size() - start);
  return sum;
}

template <class Read>
std::uint64_t all(Read read) {
  const auto& c = corpus();
  std::uint64_t sum = 0;
  for (const auto& [start, size] : c.lines)
    sum += read(std::string_view(c.text.data() + start, size));
  return sum;
}

std::uint64_t all_flat() {
  Flat r;
  return all([&](std::string_view line) { return read_flat(line, r); });
}

std::uint64_t all_simdjson_many() {
  static simdjson::ondemand::parser parser;
  const auto& c = corpus();
  std::uint64_t sum = 0;
  simdjson::ondemand::document_stream stream;
  const std::size_t size = c.text.size() - simdjson::SIMDJSON_PADDING;
  if (parser.iterate_many(c.text.data(), size, 1 << 20).get(stream)) return 0;
  for (auto doc : stream) {
    simdjson::ondemand::object object;
    if (doc.get_object().get(object)) continue;
    sum += fields_of(object);
  }
  return sum;
}

void BM_simdjson_iterate_many(benchmark::State& state) {
  std::uint64_t sum = 0;
  for (auto _ : state)
    sum += all_simdjson_many();
  report(state, sum);
}
BENCHMARK(BM_simdjson_iterate_many)->Unit(benchmark::kMillisecond);

void BM_simdjson_ondemand(benchmark::State& state) {
  std::uint64_t sum = 0;
  for (auto _ : state)
    sum += all_simdjson();
  report(state, sum);
}
void BM_nlohmann_dom(benchmark::State& state) {
  std::uint64_t sum = 0;
  for (auto _ : state)
    sum += all(read_nlohmann);
  report(state, sum);
}
void BM_nlohmann_sax(benchmark::State& state) {
  std::uint64_t sum = 0;
  for (auto _ : state)
    sum += all(read_nlohmann_sax);
  report(state, sum);
}
void BM_flat_reader(benchmark::State& state) {
  std::uint64_t sum = 0;
  for (auto _ : state)
    sum += all_flat();
  report(state, sum);
}

BENCHMARK(BM_simdjson_ondemand)->Unit(benchmark::kMillisecond);
void BM_simdjson_dom(benchmark::State& state) {
  std::uint64_t sum = 0;
  for (auto _ : state)
    sum += all_simdjson_dom();
  report(state, sum);
}
BENCHMARK(BM_simdjson_dom)->Unit(benchmark::kMillisecond);
void BM_simdjson_ondemand_raw_keys(benchmark::State& state) {
  std::uint64_t sum = 0;
  for (auto _ : state)
    sum += all_simdjson_raw_keys();
  report(state, sum);
}
BENCHMARK(BM_simdjson_ondemand_raw_keys)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_nlohmann_dom)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_nlohmann_sax)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_flat_reader)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  std::fprintf(stderr, "simdjson: On-Demand compiled for %s; the library's DOM parser runs %s\n",
               simdjson::builtin_implementation()->name().c_str(),
               simdjson::get_active_implementation()->name().c_str());
  const std::uint64_t expected = all_simdjson();
  const std::uint64_t sums[] = {all(read_nlohmann), all(read_nlohmann_sax),
                                all_flat(),         all_simdjson_many(),
                                all_simdjson_dom(), all_simdjson_raw_keys()};
  for (const auto sum : sums) {
    if (sum != expected) {
      std::fprintf(stderr, "readers disagree: %llu != %llu\n", static_cast<unsigned long long>(sum),
                   static_cast<unsigned long long>(expected));
      return 1;
    }
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
