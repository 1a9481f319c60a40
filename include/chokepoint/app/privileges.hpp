// Least privilege once the sockets are open. Binding low ports and setting
// IP_TRANSPARENT on a TPROXY listener are the only privileged steps, and
// both happen at start-up; an accepted connection inherits what its
// listener had. So after binding the proxy keeps no capability at all,
// whatever the mode: SO_ORIGINAL_DST, splice and outbound connects need none.
#pragma once

#include <string>

namespace chokepoint::app {

// Started as root with `user` set: become that user (its primary group, no
// supplementary groups). Either way: clear every capability (effective,
// permitted, inheritable, ambient) and set no_new_privs, so nothing the
// process runs later can regain them. False, with `error`, when a step fails
// (start-up refuses to go on half-privileged).
bool drop_privileges(const std::string& user, std::string& error);

// Root without --user works, but the proxy says so at start-up.
bool running_as_root();

}  // namespace chokepoint::app
