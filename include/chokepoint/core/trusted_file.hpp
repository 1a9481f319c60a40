// Reading a file whose writer decides what leaves the network: the config
// file, every file it includes, and the users file. Whoever can replace
// one of them can open the proxy, so they are read as sshd's StrictModes
// reads authorized_keys (OpenSSH's safe_path): a file is refused unless
// only root or the user this process runs as could have put its bytes
// there.
//
// The contract, checked on what was opened, never on a path looked up
// beforehand (a path can be swapped between a check and an open):
//   - the file is a regular file; its status comes from fstat of the very
//     descriptor the bytes are then read from;
//   - the file and every directory of its real path up to / (found from
//     the descriptor, /proc/self/fd/N, so a symlink cannot send the check
//     elsewhere) are owned by root or by the effective uid;
//   - none of them is writable by its group or by others. Two exceptions:
//     a sticky directory (/tmp), where only an entry's owner may rename or
//     remove it and the entry below it is, by the rule above, owned by root
//     or by the effective uid; and anything on a read-only mount, which no
//     one can write through (Kubernetes mounts ConfigMap volumes read-only
//     with directories of mode 0777).
// A refusal is one sentence naming the file or the directory at fault and
// what would fix it. Nothing here throws.
#pragma once

#include <string>

#include <chokepoint/core/diagnostic.hpp>

namespace chokepoint {

// The whole content of the file at `path`, or one error diagnostic for
// `path` (line 0: it is about the file, not a line in it) saying why it
// could not be read or was refused.
Result<std::string> read_trusted_file(const std::string& path);

}  // namespace chokepoint
