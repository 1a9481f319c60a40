// A connection's hold on what the proxy shares between connections: its
// place under the connection limits, its count in its thread's handshake
// gauge until it starts relaying, and its membership in its thread's list
// of live connections (what stop, the idle sweep and /connections walk).
//
// Taken at accept, moved with the socket into the session, and given back
// once, in the destructor, whatever path the connection took: nothing else
// releases a limit or touches the gauge.
#pragma once

#include <functional>
#include <string>

#include <boost/intrusive/list.hpp>

#include <chokepoint/audit/record.hpp>
#include <chokepoint/core/ip.hpp>
#include <chokepoint/proxy/limits.hpp>
#include <chokepoint/proxy/options.hpp>

namespace chokepoint::relay {
class Tunnel;
}

namespace chokepoint::proxy {

class LiveConnections;

// What the worker may ask of a connection it holds.
class LiveConnection {
 public:
  // Ends the connection now (the proxy is stopping); it still leaves its records.
  virtual void cancel() = 0;
  // The tunnel while relaying, else null (idle sweeps and listings).
  virtual relay::Tunnel* tunnel() = 0;
  // An open tunnel's record (who, where, which rule), else null: from its
  // `open` record on, so also while it waits for the client's first bytes
  // (then tunnel() is still null). It holds two sockets either way.
  virtual const audit::Record* open_record() const = 0;

 protected:
  ~LiveConnection() = default;
};

class ConnectionSlot : public boost::intrusive::list_base_hook<
                           boost::intrusive::link_mode<boost::intrusive::auto_unlink>> {
 public:
  // Admits a connection from `peer` on `live`'s thread: admission() is
  // true when it fits every limit (then it holds a place under them), else
  // says which limit refused it (then it holds nothing but list membership).
  // A peer in --proxy-protocol-from is a load balancer, not a client: its
  // connection is admitted under the shared limits only (limits.hpp,
  // admit_shared), until admit_client() names the client behind it.
  ConnectionSlot(LiveConnections& live, ConnectionLimits& limits, const ProxyOptions& options,
                 const IpAddress& peer);
  ConnectionSlot(ConnectionSlot&& other) noexcept;
  ConnectionSlot& operator=(ConnectionSlot&&) = delete;
  ConnectionSlot(const ConnectionSlot&) = delete;
  ~ConnectionSlot();

  const Admission& admission() const { return admission_; }
  // The peer at accept; after admit_client(), the client its balancer named.
  const IpAddress& client() const { return client_; }
  // The peer is a trusted load balancer: the connection begins with a PROXY header.
  bool from_balancer() const { return from_balancer_; }
  // A balancer's connection whose header named `client`: the client's own
  // limits (rate, connections, pending heads) apply from now on, as if it
  // had connected itself. Returns (and admission() becomes) their verdict;
  // a refused client holds only the shared place, given back at the end.
  const Admission& admit_client(const IpAddress& client);

  // Joins the thread's live connections as `owner`'s slot.
  void attach(LiveConnection& owner);
  LiveConnection* owner() const { return owner_; }
  // The handshake is over: the connection relays from now on.
  void relaying();

 private:
  LiveConnections* live_;
  ConnectionLimits* limits_;
  IpAddress client_;
  Admission admission_;
  bool from_balancer_ = false;
  bool holds_limit_ = false;   // a place under the shared limits
  bool holds_client_ = false;  // and under client_'s own
  bool handshaking_ = false;
  LiveConnection* owner_ = nullptr;
};

using ConnectionList =
    boost::intrusive::list<ConnectionSlot, boost::intrusive::constant_time_size<false>>;

// One I/O thread's connections: every live one by its slot (what stopping,
// the idle sweep and the listings walk), how many are still in their
// handshake, and whom to tell when the last one has gone. Only slots
// change it. One thread only.
class LiveConnections {
 public:
  ConnectionList& list() { return list_; }
  const ConnectionList& list() const { return list_; }
  bool empty() const { return list_.empty(); }
  // Connections still in their handshake (head, auth, dial).
  std::size_t handshakes() const { return handshakes_; }
  // Called (on this thread) each time the last live connection has gone.
  void when_empty(std::function<void()> empty) { when_empty_ = std::move(empty); }

 private:
  friend class ConnectionSlot;
  ConnectionList list_;
  std::size_t handshakes_ = 0;
  std::function<void()> when_empty_;
};

}  // namespace chokepoint::proxy
