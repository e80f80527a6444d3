#pragma once
/// The one mapping from errors to HTTP statuses (STYLE.md §6).

#include <caf/error.hpp>

#include <string>
#include <utility>

namespace pixelcraft::http {

/// `errc` and `caf::sec` to (status, detail). Internal failures become a 500 with a generic
/// detail: never SQL, a stack trace or a library's message.
std::pair<int, std::string> map_error(const caf::error& err);

/// The reason phrase of a status code (`Unprocessable Entity`, ...).
const char* reason_phrase(int status);

} // namespace pixelcraft::http
