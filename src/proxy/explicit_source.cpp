// The explicit proxy's destinations: one per request head, CONNECT
// (authority-form) or absolute-form, for as long as the client keeps the
// connection alive.
#include "destination_source.hpp"
#include "http_request_reader.hpp"

namespace chokepoint::proxy {
namespace {

class ExplicitSource final : public DestinationSource {
 public:
  explicit ExplicitSource(const ProxyOptions& options) : reader_(options) {}

  audit::Mode mode() const override { return audit::Mode::Connect; }
  Language early_language() const override { return Language::Http; }

  asio::awaitable<Learned> next(ClientConnection& client, audit::Record& record,
                                Requester) override {
    return reader_.next_proxy_request(client, record);
  }

 private:
  HttpRequestReader reader_;
};

}  // namespace

std::unique_ptr<DestinationSource> explicit_source(const ProxyOptions& options) {
  return std::make_unique<ExplicitSource>(options);
}
}  // namespace chokepoint::proxy
