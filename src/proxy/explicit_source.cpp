// The explicit proxy's destinations: one per request head, CONNECT
// (authority-form) or absolute-form, for as long as the client keeps the
// connection alive.
#include <chokepoint/proxy/worker.hpp>

#include "destination_source.hpp"
#include "http_request_reader.hpp"

namespace chokepoint::proxy {
namespace {

class ExplicitSource final : public DestinationSource {
 public:
  explicit ExplicitSource(Worker& worker) : reader_(worker.options()) {}

  asio::awaitable<Learned> next(ClientConnection& client, audit::Record& record,
                                Requester) override {
    return reader_.next_proxy_request(client, record);
  }

 private:
  HttpRequestReader reader_;
};

}  // namespace

std::unique_ptr<DestinationSource> explicit_source(Worker& worker) {
  return std::make_unique<ExplicitSource>(worker);
}

}  // namespace chokepoint::proxy
