#pragma once
/// The `pixelcraft` command line: `serve [--role all|gateway]`, `node`, `migrate`, `version`.

#include <map>
#include <string>

namespace pixelcraft::app {

/// The process environment, with `.env` values (from `PIXELCRAFT_ENV_FILE` or `./.env`) under
/// it: a variable set in the environment wins. Bad `.env` lines are reported on stderr.
std::map<std::string, std::string> load_variables();

/// `role`: `all` (`pixelcraft serve`), `gateway` (`serve --role gateway`: HTTP, runs no
/// execution) or `worker` (`pixelcraft node`: no public HTTP; API.md §14).
int run_serve(const std::string& role = "all");
int run_migrate();

} // namespace pixelcraft::app
