// The command line (DESIGN.md, "Command line"): `run` (the default), `check`,
// `explain`, and the helpers around them. Exit codes: 0 success, 1 denied
// (explain), 2 usage or configuration error.
#pragma once

namespace chokepoint::app {

inline constexpr int kExitOk = 0;
inline constexpr int kExitDenied = 1;
inline constexpr int kExitUsage = 2;

int main(int argc, char** argv);

}  // namespace chokepoint::app
