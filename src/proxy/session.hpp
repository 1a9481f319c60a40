// Private to the proxy module: one client connection, from accept to its
// last record, on one I/O thread (DESIGN.md, "Data flow"):
//
//   accept -> the PROXY header of a trusted balancer (proxy_header_stage)
//   -> identify the client -> learn the destination (the listener's
//   DestinationSource) -> decide -> resolve, vet and dial (or dial a parent
//   proxy and ask it: parent_proxy) -> answer the client in its listener's
//   language -> relay (splice), or forward one plain HTTP request -> record
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
#include <chokepoint/net/original_dst.hpp>
#include <chokepoint/policy/snapshot.hpp>
#include <chokepoint/proxy/connection_slot.hpp>
#include <chokepoint/proxy/listener.hpp>
#include <chokepoint/relay/tunnel.hpp>

#include "answer.hpp"
#include "client_connection.hpp"
#include "destination_source.hpp"
#include "dial.hpp"
#include "exchange_record.hpp"

namespace chokepoint::proxy {

class Worker;

// Starts serving `socket` on `worker`'s thread. `local`: the listener's own
// address; `slot`: the limits' verdict on this connection, taken at accept.
void start_session(Worker& worker, ListenerKind kind, tcp::socket socket, const tcp::endpoint& peer,
                   const tcp::endpoint& local, ConnectionSlot slot);

class Session final : public LiveConnection, public std::enable_shared_from_this<Session> {
 public:
  Session(Worker& worker, ListenerKind kind, tcp::socket socket, const tcp::endpoint& peer,
          const tcp::endpoint& local, ConnectionSlot slot);

  asio::awaitable<void> run();

  void cancel() override;
  relay::Tunnel* tunnel() override { return tunnel_ ? &*tunnel_ : nullptr; }
  const audit::Record* open_record() const override {
    return relaying_ ? &relaying_->fields() : nullptr;
  }

 private:
  // One exchange; false when the connection is over.
  asio::awaitable<bool> exchange();
  // A connection from a trusted balancer: reads its PROXY header and
  // becomes the client it names; false when the connection is over.
  asio::awaitable<bool> accept_proxy_header();
  // A connection over a limit: its answer and its one record.
  asio::awaitable<void> refuse_admission();
  // Credentials that did not pass (auth::Verdict): the refusal, or, when
  // the check was abandoned, only the record.
  asio::awaitable<bool> refuse_credentials(PendingRecord record, const Learned& learned,
                                           const auth::Verdict& verdict);
  // Records the refusal, answers it; whether the connection may go on.
  asio::awaitable<bool> refuse(PendingRecord record, Language language, audit::Reason reason,
                               std::string detail, bool keep_alive,
                               std::chrono::milliseconds retry_after = std::chrono::seconds(1));
  // A tunnel's upstream: the destination, or a parent proxy that said yes
  // to our CONNECT (then `dialled.early` holds what it sent after its answer).
  asio::awaitable<Dialled> dial_tunnel(PendingRecord& record, const Learned& learned,
                                       const policy::ClientIdentity& identity,
                                       const UpstreamProxy* parent);
  // The tunnel's stages after the dial: answer, open, check, relay, close.
  // `said_already`: the destination's first bytes, already read (through
  // a parent).
  asio::awaitable<void> tunnel(PendingRecord record, const Learned& learned, tcp::socket upstream,
                               const policy::ClientIdentity& identity, const policy::Rule* rule,
                               std::string said_already = {});
  // GET /proxy.pac: the PAC file from this connection's policy.
  asio::awaitable<bool> serve_auto_config(const Learned& learned);
  // The tunnel has ended: its close record.
  void relay_ended(const relay::TunnelResult& result);
  // The open tunnel's close record; it is no longer an open tunnel.
  void close_open(audit::End end, audit::Source source);
  // On whose behalf this connection's slow shared work is done.
  Requester requester() { return Requester{network_, &stop_}; }
  // A plain HTTP request's stages after the decision (to the origin, or to
  // `parent`).
  asio::awaitable<bool> forward(PendingRecord record, const Learned& learned,
                                const policy::ClientIdentity& identity,
                                const UpstreamProxy* parent);
  // --audit-on-failure refuse, and `open`'s record was lost: the exchange
  // ends before any byte goes through (deny audit_unavailable, then close).
  void end_unrecorded(OpenRecord open);
  // Sends `answer`. When it closes an HTTP connection: with `linger`, waits
  // (bounded) for the client's FIN; without, drops what the client already
  // sent and closes.
  asio::awaitable<void> send(const Answer& answer, Language language, bool linger);

  Worker& worker_;
  ConnectionSlot slot_;
  ListenerKind kind_;
  std::unique_ptr<ClientConnection> client_;  // until the relay starts
  std::unique_ptr<DestinationSource> source_;
  std::shared_ptr<const policy::Snapshot> snapshot_;  // pinned at accept
  IpAddress client_ip_;
  std::string network_;          // client_ip_'s network: whose share of shared queues
  std::string client_text_;      // "ip:port", for records
  std::string via_;              // the balancer ("ip:port") whose PROXY header named the client
  std::uint16_t listener_port_;  // the PAC file names the proxy by it when Host has none
  std::unique_ptr<Deadline> upstream_deadline_;  // plain HTTP forwarding, asking a parent
  tcp::socket* upstream_ = nullptr;              // while dialed and not relaying, for cancel()
  bool server_spoke_ = false;                    // the tunnel hello check's wait on the upstream
  // The current exchange's record; its PendingRecord/OpenRecord handles
  // write it (exchange_record.hpp). One exchange at a time.
  audit::Record record_;
  std::optional<relay::Tunnel> tunnel_;
  // An open tunnel's record, from its `open` record to its `close` (waiting
  // for the client's first bytes, then relaying).
  std::optional<OpenRecord> relaying_;
  // Requested when the proxy stops (cancel()): ends every wait of the
  // connection that closing its sockets does not end.
  Cancellation stop_;
};

}  // namespace chokepoint::proxy
