// Private to the proxy module: one client connection, from accept to its
// last record, on one I/O thread (DESIGN.md, "Data flow"):
//
//   accept -> the PROXY header of a trusted balancer (proxy_header_stage)
//   -> identify the client -> learn the destination (the listener's
//   DestinationSource) -> decide -> resolve, vet and dial, or ask a parent
//   proxy (upstream) -> answer the client in its listener's language ->
//   relay (splice), or forward one plain HTTP request (http_forward) ->
//   record
//
// Session::run() runs these stages in order for every listener kind, one
// exchange at a time (an explicit connection may carry several requests);
// each stage hands the next a plain value. Records are written only
// through exchange_record.hpp, and every resource the connection holds
// shared with others is in its ConnectionSlot.
#pragma once

#include <memory>
#include <optional>

#include <chokepoint/auth/authenticator.hpp>
#include <chokepoint/core/cancellation.hpp>
#include <chokepoint/policy/snapshot.hpp>
#include <chokepoint/proxy/connection_slot.hpp>
#include <chokepoint/proxy/listener.hpp>
#include <chokepoint/proxy/worker.hpp>
#include <chokepoint/relay/tunnel.hpp>

#include "answer.hpp"
#include "client_connection.hpp"
#include "destination_source.hpp"
#include "exchange_record.hpp"
#include "http_forward.hpp"
#include "upstream.hpp"

namespace chokepoint::proxy {

// Starts serving `socket`, accepted by a listener of `kind` bound to
// `local`, on the services' thread; `slot`: the limits' verdict on this
// connection, taken at accept; `snapshot`: the policy it decides with.
void start_session(const ConnectionServices& services, ListenerKind kind, tcp::socket socket,
                   const tcp::endpoint& peer, const tcp::endpoint& local,
                   std::shared_ptr<const policy::Snapshot> snapshot, ConnectionSlot slot);

class Session final : public LiveConnection, public std::enable_shared_from_this<Session> {
 public:
  Session(const ConnectionServices& services, std::unique_ptr<DestinationSource> source,
          tcp::socket socket, const tcp::endpoint& peer, const tcp::endpoint& local,
          std::shared_ptr<const policy::Snapshot> snapshot, ConnectionSlot slot);

  asio::awaitable<void> run();

  void cancel() override;
  relay::Tunnel* tunnel() override { return tunnel_ ? &*tunnel_ : nullptr; }
  const audit::Record* open_record() const override {
    return relaying_ ? &relaying_->fields() : nullptr;
  }

 private:
  // A connection from a trusted balancer: reads its PROXY header and
  // becomes the client it names; false when the connection is over.
  asio::awaitable<bool> accept_proxy_header();
  // A connection over a limit: its answer and its one record.
  asio::awaitable<void> refuse_admission();
  // One exchange; false when the connection is over.
  asio::awaitable<bool> exchange();
  // Who the client is, filled into the record (begun).
  policy::ClientIdentity identify_client();
  // The stages of an exchange between learning and dialing: each a refusal,
  // or nothing when the exchange goes on.
  asio::awaitable<std::optional<Refusal>> authenticate(PendingRecord& record, Learned& learned,
                                                       policy::ClientIdentity& identity);
  std::optional<Refusal> decide(PendingRecord& record, const Learned& learned,
                                const policy::ClientIdentity& identity, const policy::Rule*& rule);
  // A tunnel: dial (or ask the parent), answer, open, check the hello, relay.
  asio::awaitable<void> tunnel(PendingRecord record, const Learned& learned,
                               const policy::ClientIdentity& identity, const policy::Rule* rule);
  // Tells the client its tunnel is open (with what the destination already
  // said through a parent); false when it could not be told (then recorded).
  asio::awaitable<bool> answer_established(PendingRecord& record, const Learned& learned,
                                           const tcp::socket& upstream,
                                           const std::string& said_already);
  // What the client sent ahead of the relay goes upstream first; false when
  // the tunnel ended here.
  asio::awaitable<bool> pass_early_bytes(tcp::socket& upstream);
  // Inside an allowed tunnel, before anything is relayed: the ClientHello
  // must not name another host that is not itself allowed. False when the
  // tunnel ended here.
  asio::awaitable<bool> check_tunnel_hello(const Learned& learned, tcp::socket& upstream,
                                           const policy::ClientIdentity& identity);
  // Hands the connection to the relay (the session's coroutines end).
  void start_relay(tcp::socket upstream, const policy::Rule* rule, std::string said_already);
  // The tunnel has ended: its close record.
  void relay_ended(const relay::TunnelResult& result);
  // The open tunnel's close record; it is no longer an open tunnel.
  void close_open(audit::End end, audit::Source source);
  // A plain HTTP request after the decision (to the origin, or to the parent).
  asio::awaitable<bool> forward(PendingRecord record, const Learned& learned,
                                const policy::ClientIdentity& identity,
                                const UpstreamProxy* parent);
  // The forwarded request's close record (and an answer, when the server
  // failed before any of its bytes reached the client).
  asio::awaitable<bool> forwarded(OpenRecord open, const ForwardResult& result);
  // GET /proxy.pac: the PAC file from this connection's policy.
  asio::awaitable<bool> serve_auto_config(const Learned& learned);
  // Records the refusal, answers it; whether the connection may go on.
  asio::awaitable<bool> refuse(PendingRecord record, Language language, Refusal refusal,
                               bool keep_alive);
  // Sends `answer`. When it closes an HTTP connection: with `linger`, waits
  // (bounded) for the client's FIN; without, drops what the client already
  // sent and closes.
  asio::awaitable<void> send(const Answer& answer, Language language, bool linger);
  // The exchange's record, fresh: the client as it is known so far.
  void begin_record();
  // On whose behalf this connection's slow shared work is done.
  Requester requester() { return Requester{network_, &stop_}; }
  bool stopping() const { return stop_.requested(); }

  const ConnectionServices& services_;
  ConnectionSlot slot_;
  std::unique_ptr<ClientConnection> client_;  // until the relay starts
  std::unique_ptr<DestinationSource> source_;
  std::shared_ptr<const policy::Snapshot> snapshot_;  // pinned at accept
  IpAddress client_ip_;
  std::string network_;      // client_ip_'s network: whose share of shared queues
  std::string client_text_;  // "ip:port", for records
  std::string via_;          // the balancer ("ip:port") whose PROXY header named the client
  // What the manager's inventory says the client is, for this exchange.
  std::optional<policy::KnownComputer> computer_;
  std::uint16_t listener_port_;  // the PAC file names the proxy by it when Host has none
  std::unique_ptr<Deadline> upstream_deadline_;  // plain HTTP forwarding
  bool server_spoke_ = false;                    // the tunnel hello check's wait on the upstream
  bool exchanged_ = false;  // a request (or hello) has been read on this connection
  // The current exchange's record; its PendingRecord/OpenRecord handles
  // write it (exchange_record.hpp). One exchange at a time.
  audit::Record record_;
  std::optional<relay::Tunnel> tunnel_;
  // An open tunnel's record, from its `open` record to its `close` (waiting
  // for the client's first bytes, then relaying).
  std::optional<OpenRecord> relaying_;
  // Requested when the proxy stops (cancel()): ends every wait of the
  // connection that closing its client's socket does not end.
  Cancellation stop_;
};

}  // namespace chokepoint::proxy
