#pragma once
/// The `pixelcraft` command line: `serve`, `migrate`, `version`.

#include <map>
#include <string>

namespace pixelcraft::app {

/// The process environment, with `.env` values (from `PIXELCRAFT_ENV_FILE` or `./.env`) under
/// it: a variable set in the environment wins. Bad `.env` lines are reported on stderr.
std::map<std::string, std::string> load_variables();

int run_serve();
int run_migrate();

} // namespace pixelcraft::app
