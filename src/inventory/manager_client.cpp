#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chokepoint/core/deadline.hpp>
#include <chokepoint/core/host.hpp>
#include <chokepoint/inventory/manager_client.hpp>

namespace chokepoint::inventory {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;

using PageBody = bhttp::basic_dynamic_body<beast::flat_buffer>;

// The expansions identity needs: addresses from the interfaces and the
// cloud summaries; the relay flag from the settings (a large expansion,
// asked for only when the operator named no relays).
constexpr std::string_view kAddressExpansions =
    "expand=interfaces&expand=ec2VirtualMachineSummary&expand=azureARMVirtualMachineSummary"
    "&expand=azureVMVirtualMachineSummary&expand=gcpVirtualMachineSummary";

struct Target {
  std::string host;  // normalised: lowercase, an IPv6 address without brackets
  std::string port = "443";
  std::string path;         // the API base's path, e.g. "/api"
  std::string host_header;  // host:port, an IPv6 address in brackets
};

// The policy loader has checked the URL (https://, an authority
// parse_authority takes, a path); what it refuses never gets here.
Target target_of(const std::string& url) {
  Target t;
  std::string_view rest = std::string_view(url).substr(std::string_view("https://").size());
  const auto slash = rest.find('/');
  t.path = std::string(rest.substr(slash));
  Host host;
  std::uint16_t port = 443;
  if (parse_authority(rest.substr(0, slash), host, port, 443) == HostError::None) {
    t.host_header = format_authority(host, port);
    t.host = std::move(host.name);
    t.port = std::to_string(port);
  }
  return t;
}

FetchResult failed(FetchError error, std::string detail, int status = 0) {
  FetchResult r;
  r.error = error;
  r.detail = std::move(detail);
  r.status = status;
  return r;
}

std::string search_body(std::size_t page_size, std::uint64_t after) {
  return "{\"maxItems\": " + std::to_string(page_size) +
         ", \"searchCriteria\": [{\"idTest\": \"greater-than\", \"idValue\": " +
         std::to_string(after) + "}], \"sortByObjectID\": true}";
}

// Retry-After in seconds (the HTTP-date form is not worth a parser here:
// then the refresher backs off on its own).
std::chrono::milliseconds retry_after(const bhttp::response_header<>& response) {
  const auto it = response.find(bhttp::field::retry_after);
  if (it == response.end()) return std::chrono::milliseconds(0);
  std::uint32_t seconds = 0;
  const std::string_view text(it->value().data(), it->value().size());
  for (char c : text) {
    if (c < '0' || c > '9' || seconds > 86400) return std::chrono::milliseconds(0);
    seconds = seconds * 10 + static_cast<std::uint32_t>(c - '0');
  }
  return std::chrono::seconds(seconds);
}

}  // namespace

std::string_view to_string(FetchError error) {
  switch (error) {
    case FetchError::None:
      return "ok";
    case FetchError::Connect:
      return "connect";
    case FetchError::Refused:
      return "refused";
    case FetchError::RateLimited:
      return "rate_limited";
    case FetchError::Status:
      return "status";
    case FetchError::Malformed:
      return "malformed";
    case FetchError::TooLarge:
      return "too_large";
  }
  return "status";
}

Result<std::string> read_api_key(const std::string& path) {
  const auto refuse = [&](std::string message) {
    return Result<std::string>::failure(
        {Diagnostic{path, 0, 0, Severity::Error, std::move(message)}});
  };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return refuse(std::string("cannot read the API key: ") + std::strerror(errno));
  struct stat status {};
  std::string key;
  const bool is_file = ::fstat(fd, &status) == 0 && S_ISREG(status.st_mode);
  if (is_file && (status.st_mode & S_IROTH) == 0 && status.st_size <= 4096) {
    char buffer[4096];
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n > 0) key.assign(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (!is_file) return refuse("the API key is not a regular file");
  if (status.st_mode & S_IROTH)
    return refuse("the API key is readable by every user; chmod o-r " + path);
  while (!key.empty() && (key.back() == '\n' || key.back() == '\r' || key.back() == ' '))
    key.pop_back();
  if (key.empty() || key.find_first_of("\r\n") != std::string::npos)
    return refuse("the API key file must hold the key on one line");
  return Result<std::string>(std::move(key));
}

namespace {

using Stream = ssl::stream<asio::ip::tcp::socket>;

// Beast reads at most 64 KiB at a time; the TLS layer hands over one record
// (16 KiB) per read.
constexpr std::size_t kTransferBuffer = 64 * 1024;

// An error that says only that a kept connection was closed under the
// request: the manager's idle timeout, not a failure.
bool closed_under_us(const error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == ssl::error::stream_truncated;
}

}  // namespace

struct ManagerClient::State {
  policy::InventorySource source;
  Target target;
  std::string query;
  std::optional<ssl::context> tls;  // loaded again for each new connection
  // Over each step: connect and handshake; a request and its answer.
  std::optional<Deadline> deadline;
  std::shared_ptr<Stream> stream;  // the kept connection, when there is one
  std::size_t served = 0;          // answers on `stream`
  // One parser and one body buffer for every page of every refresh: pages
  // are megabytes, and fresh ones each time cost page faults.
  PageReader reader;
  beast::flat_buffer page_buffer;
  // What Beast reads from the TLS stream before the parser takes it. Its
  // capacity is what each read asks for: at Beast's floor of 512 bytes, one
  // 16 KiB TLS record took some thirty reads and handlers.
  beast::flat_buffer transfer;

  void drop() {
    if (!stream) return;
    error_code ignored;
    stream->lowest_layer().close(ignored);
    stream.reset();
  }
  asio::awaitable<std::optional<FetchResult>> connect(const FetchLimits& limits);
  asio::awaitable<std::optional<FetchResult>> ask(const std::string& key, std::uint64_t after,
                                                  const FetchLimits& limits,
                                                  bhttp::response_parser<PageBody>& parser);
};

ManagerClient::ManagerClient(policy::InventorySource source) : state_(std::make_unique<State>()) {
  State& s = *state_;
  s.source = std::move(source);
  s.target = target_of(s.source.url);
  s.query = s.target.path + "/computers/search?" + std::string(kAddressExpansions) +
            (s.source.relay_host_names.empty() ? "&expand=computerSettings" : "");
}

ManagerClient::~ManagerClient() = default;

// A verified TLS connection to the manager, or why not.
asio::awaitable<std::optional<FetchResult>> ManagerClient::State::connect(
    const FetchLimits& limits) {
  const auto executor = co_await asio::this_coro::executor;
  error_code ec;
  // The CA file as it is now: a new connection is where a renewed manager
  // certificate meets a renewed CA file.
  ssl::context context(ssl::context::tls_client);
  context.set_options(ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  context.set_verify_mode(ssl::verify_peer);
  if (source.ca_file.empty()) {
    context.set_default_verify_paths(ec);
  } else {
    context.load_verify_file(source.ca_file, ec);
  }
  if (ec) co_return failed(FetchError::Connect, "cannot load the CA: " + ec.message());
  tls.emplace(std::move(context));
  if (!deadline) deadline.emplace(executor);

  asio::ip::tcp::resolver resolver(executor);
  const auto endpoints = co_await resolver.async_resolve(target.host, target.port, await_into(ec));
  if (ec) co_return failed(FetchError::Connect, target.host + ": " + ec.message());

  stream = std::make_shared<Stream>(executor, *tls);
  served = 0;
  // The certificate must name the host (an address must be in its SANs);
  // SNI only for a name.
  SSL_set1_host(stream->native_handle(), target.host.c_str());
  if (!IpAddress::parse(target.host))
    SSL_set_tlsext_host_name(stream->native_handle(), target.host.c_str());
  deadline->arm(limits.timeout, stream->next_layer(), stream);
  co_await asio::async_connect(stream->lowest_layer(), endpoints, await_into(ec));
  if (!ec) co_await stream->async_handshake(ssl::stream_base::client, await_into(ec));
  deadline->disarm();
  if (!ec) co_return std::nullopt;
  const std::string why = deadline->expired() ? "no answer within the timeout" : ec.message();
  drop();
  co_return failed(FetchError::Connect, target.host + ":" + target.port + ": " + why);
}

// One page's request and its answer read into `parser`: nothing (the
// answer is in the parser), or why not. The connection is dropped on any
// error; `served` counts the answers it gave.
asio::awaitable<std::optional<FetchResult>> ManagerClient::State::ask(
    const std::string& key, std::uint64_t after, const FetchLimits& limits,
    bhttp::response_parser<PageBody>& parser) {
  bhttp::request<bhttp::string_body> request(bhttp::verb::post, query, 11);
  request.set(bhttp::field::host, target.host_header);
  request.set(bhttp::field::content_type, "application/json");
  request.set(bhttp::field::accept, "application/json");
  request.set("api-version", "v1");
  if (source.auth == policy::InventorySource::Auth::ApiKey) {
    request.set(bhttp::field::authorization, "ApiKey " + key);
  } else {
    request.set("api-secret-key", key);
  }
  request.body() = search_body(limits.page_size, after);
  request.prepare_payload();

  // The body in a flat buffer: one copy from the TLS record into it, none
  // to zero it first (a string body resizes before it copies).
  page_buffer.clear();
  parser.get().body() = std::move(page_buffer);
  parser.body_limit(limits.max_body_bytes);
  parser.header_limit(64 * 1024);
  transfer.clear();
  transfer.reserve(kTransferBuffer);
  error_code ec;
  deadline->arm(limits.timeout, stream->next_layer(), stream);
  co_await bhttp::async_write(*stream, request, await_into(ec));
  if (!ec) co_await bhttp::async_read_header(*stream, transfer, parser, await_into(ec));
  // Room for simdjson's padding from the start: the body is not copied
  // again to make it (a page is megabytes).
  if (!ec && parser.content_length() && *parser.content_length() <= limits.max_body_bytes)
    parser.get().body().reserve(*parser.content_length() + kPagePadding);
  if (!ec) co_await bhttp::async_read(*stream, transfer, parser, await_into(ec));
  deadline->disarm();
  if (!ec) {
    ++served;
    if (!parser.keep_alive()) drop();
    co_return std::nullopt;
  }
  const bool expired = deadline->expired();
  drop();
  if (ec == bhttp::error::body_limit)
    co_return failed(FetchError::TooLarge,
                     "a page of more than " + std::to_string(limits.max_body_bytes) + " bytes");
  if (expired) co_return failed(FetchError::Connect, "no answer within the timeout");
  if (closed_under_us(ec) && !parser.got_some())
    co_return failed(FetchError::Connect, "the manager closed the connection: " + ec.message());
  co_return failed(FetchError::Malformed, "the answer: " + ec.message());
}

asio::awaitable<FetchResult> ManagerClient::fetch(const std::string& key, const FetchLimits& limits,
                                                  ComputerList& into) {
  State& s = *state_;
  FetchResult result;
  into.restart();
  std::uint64_t after = 0;
  while (true) {
    std::optional<bhttp::response_parser<PageBody>> parser;
    for (int attempt = 0;; ++attempt) {
      // A kept connection the manager closed while idle fails the first
      // request on it: that one request goes again on a new connection.
      const bool reused = s.stream && s.served > 0;
      if (!s.stream) {
        if (auto failure = co_await s.connect(limits)) co_return std::move(*failure);
      }
      parser.emplace();
      auto failure = co_await s.ask(key, after, limits, *parser);
      if (!failure) break;
      if (reused && attempt == 0 && failure->error == FetchError::Connect && !s.deadline->expired())
        continue;
      co_return std::move(*failure);
    }
    ++result.requests;
    const auto& response = parser->get();
    const int status = static_cast<int>(response.result_int());
    result.status = status;
    if (status == 401 || status == 403) {
      co_return failed(FetchError::Refused,
                       "the manager refused the API key (" + std::to_string(status) + ")", status);
    }
    if (status == 429) {
      FetchResult limited =
          failed(FetchError::RateLimited, "over the manager's API rate limit", status);
      limited.retry_after = retry_after(response);
      co_return limited;
    }
    if (status < 200 || status > 299)
      co_return failed(FetchError::Status, "the manager answered " + std::to_string(status),
                       status);

    // simdjson reads past the end: the body gets its padding.
    s.page_buffer = std::move(parser->get().body());
    // Zeroed, though simdjson only needs it readable: valgrind stays quiet.
    const auto padding = s.page_buffer.prepare(kPagePadding);
    std::memset(padding.data(), 0, padding.size());
    const std::string_view json(static_cast<const char*>(s.page_buffer.data().data()),
                                s.page_buffer.size());
    std::string error;
    PageLimits page_limits;
    page_limits.max_computers = limits.page_size;
    const auto page = s.reader.read(json, page_limits, into, error);
    if (!page) co_return failed(FetchError::Malformed, "a page of the computer list: " + error);
    if (page->computers == 0) break;
    if (page->highest_id <= after)
      co_return failed(FetchError::Malformed,
                       "a page that does not advance past ID " + std::to_string(after));
    if (into.size() > limits.max_computers)
      co_return failed(FetchError::TooLarge,
                       "more than " + std::to_string(limits.max_computers) + " computers");
    after = page->highest_id;
  }
  into.finish();
  co_return result;
}

asio::awaitable<void> ManagerClient::close() {
  State& s = *state_;
  if (!s.stream) co_return;
  error_code ec;
  s.deadline->arm(std::chrono::seconds(2), s.stream->next_layer(), s.stream);
  co_await s.stream->async_shutdown(await_into(ec));
  s.deadline->disarm();
  s.drop();
}

FetchResult fetch_computers_once(const policy::InventorySource& source, ComputerList& into) {
  FetchResult fetched;
  const auto key = read_api_key(source.key_file);
  if (!key) {
    fetched.error = FetchError::Refused;
    fetched.detail = key.diagnostics().front().to_string();
    return fetched;
  }
  asio::io_context io;
  ManagerClient client(source);
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        fetched = co_await client.fetch(key.value(), FetchLimits{}, into);
        co_await client.close();
      },
      asio::detached);
  io.run();
  return fetched;
}

}  // namespace chokepoint::inventory
