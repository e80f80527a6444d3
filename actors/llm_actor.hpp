#pragma once
/// The model client: chat completions from Ollama (`/api/chat`) or an OpenAI-compatible server
/// (`/v1/chat/completions`), streamed. Implemented by integrations/ (libcurl multi).
///
/// - Spawned once by app/ through `integrations::spawn_llm_client`, `caf::detached` (one
///   thread for every stream: curl multi). Lives until the system shuts down.
/// - Request JSON (provider-neutral): `{"model", "messages": [{"role", "content"}],
///   "temperature"?, "max_tokens"?, "format"? (a JSON schema, or "json"), "tools"?,
///   "timeout_ms"? (the caller's budget: the call ends by then, queueing and retries included;
///   never longer than `LLM_TIMEOUT_S`)}`. Callers wait the budget + `deadlines::margin`.
/// - While the model produces, `listener` (may be an invalid handle) receives
///   `(llm_chunk_atom, std::string piece)` for each piece, in order, before the reply.
///   If `listener` terminates, the call is cancelled: the connection to the model is closed.
/// - Reply: a `model_reply` (the request is the model's wire in its provider-neutral form; the
///   answer is typed).
/// - Errors: `errc::unavailable` (model server unreachable, 5xx or 429 after retries, or busy),
///   `errc::not_found` (unknown model), `errc::deadline_exceeded` (stalled: no bytes for the
///   stall timeout once the model started answering, or over the overall deadline, which
///   also covers a slow model load before the first byte), `errc::invalid_argument` (server refused
///   the request), `errc::aborted` (cancelled). Every error's context is
///   `(std::string text, bool partial)`: `partial` is true when pieces were already sent to the
///   listener (a failure mid-answer rather than no model). Retries (with backoff) happen only
///   before the first token. Per-model concurrency is limited; excess calls wait in a bounded
///   queue.

#include "actors/fwd.hpp"

#include <caf/actor.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <string>

namespace pixelcraft {

/// What the model answered. actors/reply_json.hpp renders it for the step journal (jsonb) and
/// reads it back from there.
struct model_reply {
  std::string content;
  std::string model;
  std::string provider; ///< ollama or openai
  int64_t tokens_in = 0;
  int64_t tokens_out = 0;
  double latency_ms = 0;
  double ttft_ms = 0; ///< to the first piece (the whole call when nothing streamed)
  /// The tools the model asked for, as the model's wire gives them (JSON array text:
  /// `[{"id"?, "function": {"name", "arguments"}}]`, arguments an object when they parsed).
  /// Hostile: the tool actor checks each call.
  std::string tool_calls = "[]";
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, model_reply& x) {
  return f(caf::meta::type_name("pixelcraft::model_reply"), x.content, x.model, x.provider,
           x.tokens_in, x.tokens_out, x.latency_ms, x.ttft_ms, x.tool_calls);
}

using llm_actor =
    caf::typed_actor<caf::replies_to<llm_chat_atom, std::string, caf::actor>::with<model_reply>,
                     /// Reply: `{"models": [{"name", "provider", "metrics": {"total_requests",
                     /// "success_rate", "avg_latency_ms", "tokens_in", "tokens_out"}}]}` for every
                     /// model called so far.
                     caf::replies_to<llm_stats_atom>::with<std::string>,
                     /// Reply: model calls in flight, running or queued (API.md §14
                     /// `load.llm_in_flight`).
                     caf::replies_to<load_atom>::with<int32_t>>;

} // namespace pixelcraft
