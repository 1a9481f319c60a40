// Asking the Deep Security Manager for its computer list (REST API v1;
// seed/deep-security-manager-api.md, checked against Trend's SDK and
// samples): `POST {url}/computers/search` with
//   {"maxItems": PAGE, "searchCriteria": [{"idTest": "greater-than",
//    "idValue": LAST}], "sortByObjectID": true}
// repeated with the highest ID of each page until a page comes back empty,
// as Trend documents paging; only the expansions identity needs (the
// interfaces and cloud summaries for addresses, the computer settings for
// the relay flag when the operator gave no relay names). Headers:
// `api-version: v1`, and `api-secret-key: KEY` (on premises) or
// `Authorization: ApiKey KEY` (SaaS).
//
// TLS is always verified: against `ca_file` (a manager's certificate is
// usually self-signed) or the system's store, and the certificate must name
// the host. One connection, kept alive across the pages and, where the
// manager keeps it open, across refreshes (a request on a connection the
// manager has since closed is sent again once, on a new one). Every answer
// is bounded (head, body, computers in all) and each step (connect and
// handshake, one request and its answer) has a deadline; what went wrong is
// a value, with what the refresher needs to decide (a 429's Retry-After, a
// 401/403 that retrying will not fix).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include <chokepoint/core/asio.hpp>
#include <chokepoint/core/diagnostic.hpp>
#include <chokepoint/inventory/computers.hpp>
#include <chokepoint/policy/policy.hpp>

namespace chokepoint::inventory {

enum class FetchError : std::uint8_t {
  None,
  Connect,      // the manager could not be reached (DNS, refused, TLS, timeout)
  Refused,      // 401 or 403: the key is wrong or lacks the right; retrying will not help
  RateLimited,  // 429: over the manager's API rate limit
  Status,       // another non-2xx status
  Malformed,    // an answer that is not the documented JSON
  TooLarge,     // over a bound: a body, or the computers in all
};
std::string_view to_string(FetchError error);

struct FetchLimits {
  std::size_t page_size = 5000;            // maxItems: Trend's default page
  std::size_t max_body_bytes = 64u << 20;  // one page's JSON
  std::size_t max_computers = 1'000'000;   // in all the pages
  // Each step: connect and handshake; one request and its answer.
  std::chrono::milliseconds timeout{30'000};
};

struct FetchResult {
  FetchError error = FetchError::None;
  std::string detail;
  int status = 0;                            // the last HTTP status
  std::chrono::milliseconds retry_after{0};  // 429: what the manager asked for (0: not said)
  std::size_t requests = 0;                  // how many the manager answered
};

// The API key from `path`: one line. Refused when others may read it (it
// opens the manager's API), or it is empty.
Result<std::string> read_api_key(const std::string& path);

// The refresher's client: what one refresh sets up (the connection, the
// parser and its multi-megabyte page buffer) is kept for the next, so a
// refresh of an unchanged list costs little more than the bytes it reads.
// Used from one executor at a time; not thread-safe.
class ManagerClient {
 public:
  explicit ManagerClient(policy::InventorySource source);
  ~ManagerClient();
  ManagerClient(const ManagerClient&) = delete;
  ManagerClient& operator=(const ManagerClient&) = delete;

  // Fetches every computer into `into` (whole when the result says no
  // error), on the caller's executor (the same one each time).
  asio::awaitable<FetchResult> fetch(const std::string& key, const FetchLimits& limits,
                                     ComputerList& into);
  // Ends the kept connection with a TLS close_notify (bounded: 2 s).
  asio::awaitable<void> close();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// For the operator's commands (`inventory`, `explain --client`): reads the
// key and fetches once, on an io_context of its own: the computers into
// `into`, or (error set, a sentence in detail) why not.
FetchResult fetch_computers_once(const policy::InventorySource& source, ComputerList& into);

}  // namespace chokepoint::inventory
