#pragma once
/// The one error enum of PixelCraft, with Abseil's retry meanings (STYLE.md §6).
/// http/error_mapping.cpp is the only place that turns these into HTTP statuses.

#include <caf/error.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>

#include <cstdint>
#include <string>

namespace pixelcraft {

enum class errc : uint8_t {
  invalid_argument = 1, ///< the caller sent something wrong: do not retry
  not_found,            ///< no such entity (or not visible to the caller)
  already_exists,       ///< unique conflict
  failed_precondition,  ///< state conflict: do not retry as is
  aborted,              ///< concurrency conflict: retry the whole operation
  unavailable,          ///< a dependency is down: retry the call with backoff
  deadline_exceeded,    ///< our own deadline passed
  unauthenticated,
  permission_denied,
  internal, ///< a bug or an unexpected library failure; never a client mistake
};

std::string to_string(errc x);

/// A `caf::error` in words, for what people read or we store: a workflow's `error_message`, a
/// journal entry, an agent log row, a tool result the model sees. The message our code gave the
/// error, else the kind of failure; never CAF's own rendering (`error(6, 'pixelcraft', ...)`),
/// which names codes and categories.
std::string error_text(const caf::error& err);

} // namespace pixelcraft

CAF_ERROR_CODE_ENUM(pixelcraft::errc, "pixelcraft")
