// `acdd config diff|apply|export`: the configuration in the database from the command
// line (see config_db.h).
//
//   acdd config diff FILE --config DAEMONFILE [--prune]
//   acdd config apply FILE --config DAEMONFILE [--yes] [--prune]
//   acdd config export --config DAEMONFILE [--tenant NAME] [--output FILE]
//
// DAEMONFILE's database section says where the database is (a DSN, or the embedded
// cluster under data_dir, started for the command and stopped after it); the schema is
// migrated first. FILE is a daemon file or one with only `tenants:`. An invalid FILE is
// reported with every error (file:line:column: key: expectation) before the database is
// opened. apply prints the difference and writes only after --yes or a "y" typed on a
// terminal.
// Exit codes: 0 done (diff: whether or not there are differences); 1 apply declined or
// refused (no terminal and no --yes); 2 invalid file; 3 database error; 64 bad command
// line. Thread-safety: main thread only.
#pragma once

#include <iosfwd>

namespace acd::app {

// args: the words after "config". `interactive`: `in` is a terminal a person answers on.
int run_config_command(int argc, const char* const* argv, std::istream& in, std::ostream& out,
                       std::ostream& err, bool interactive);

// The usage lines of the config commands, for acdd's usage text.
const char* config_command_usage();

}  // namespace acd::app
