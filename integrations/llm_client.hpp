#pragma once
/// Factory for the model client (contract in actors/llm_actor.hpp).

#include "actors/llm_actor.hpp"

#include <caf/fwd.hpp>

#include <string>

namespace pixelcraft::integrations {

/// The model client's settings (app/ fills them from the configuration, API.md §10).
struct llm_options {
  std::string provider = "ollama"; ///< `ollama` or `openai` (`LLM_PROVIDER`)
  std::string ollama_url;          ///< `OLLAMA_HOST`, normalised
  std::string openai_url;          ///< `OPENAI_BASE_URL`, normalised
  std::string api_key;             ///< `OPENAI_API_KEY` (OpenAI-compatible only)
  unsigned timeout_s = 120;        ///< overall deadline of one call
  unsigned stall_timeout_s = 30;   ///< no bytes from the model for this long: stalled
  unsigned connect_timeout_s = 3;
  unsigned max_concurrency = 4;  ///< calls in flight per model; the rest queue
  unsigned queue_limit = 256;    ///< queued calls per model before `unavailable`
  unsigned retries = 2;          ///< retries before the first token (connect, 5xx, 429)
  std::string keep_alive = "5m"; ///< Ollama `keep_alive`
};

/// Spawns the client, `caf::detached`: an event-based actor that drives one curl multi handle
/// with a self-sent tick while transfers are active (each tick waits at most 10 ms in
/// `curl_multi_poll`), and idles without ticking otherwise.
llm_actor spawn_llm_client(caf::actor_system& sys, const llm_options& cfg);

} // namespace pixelcraft::integrations
