// A connection's hold on what the proxy shares between connections: its
// place under the connection limits, its count in its thread's handshake
// gauge until it starts relaying, and its membership in its thread's list
// of live connections (what stop, the idle sweep and /connections walk).
//
// Taken at accept, moved with the socket into the session, and given back
// once, in the destructor, whatever path the connection took: nothing else
// releases a limit or touches the gauge.
#pragma once

#include <string>

#include <boost/intrusive/list.hpp>

#include <chokepoint/core/ip.hpp>
#include <chokepoint/proxy/limits.hpp>

namespace chokepoint::relay {
class Tunnel;
}

namespace chokepoint::proxy {

class Worker;

// What the worker may ask of a connection it holds.
class LiveConnection {
 public:
  // Ends the connection now (the proxy is stopping); it still leaves its records.
  virtual void cancel() = 0;
  // The tunnel while relaying, else null (idle sweeps and listings).
  virtual relay::Tunnel* tunnel() = 0;
  // Appends a JSON object describing a relaying connection (/connections).
  virtual void describe(std::string& out) const = 0;

 protected:
  ~LiveConnection() = default;
};

class ConnectionSlot : public boost::intrusive::list_base_hook<
                           boost::intrusive::link_mode<boost::intrusive::auto_unlink>> {
 public:
  // Admits a connection from `client` on `worker`'s thread: admission() is
  // true when it fits every limit (then it holds a place under them), else
  // says which limit refused it (then it holds nothing but list membership).
  ConnectionSlot(Worker& worker, const IpAddress& client);
  ConnectionSlot(ConnectionSlot&& other) noexcept;
  ConnectionSlot& operator=(ConnectionSlot&&) = delete;
  ConnectionSlot(const ConnectionSlot&) = delete;
  ~ConnectionSlot();

  const Admission& admission() const { return admission_; }
  const IpAddress& client() const { return client_; }

  // Joins the worker's live list as `owner`'s slot.
  void attach(LiveConnection& owner);
  LiveConnection* owner() const { return owner_; }
  // The handshake is over: the connection relays from now on.
  void relaying();

 private:
  Worker* worker_;
  IpAddress client_;
  Admission admission_;
  bool holds_limit_ = false;
  bool handshaking_ = false;
  LiveConnection* owner_ = nullptr;
};

using ConnectionList =
    boost::intrusive::list<ConnectionSlot, boost::intrusive::constant_time_size<false>>;

}  // namespace chokepoint::proxy
