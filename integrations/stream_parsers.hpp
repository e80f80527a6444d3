#pragma once
/// Parsers of a model's streamed answer, one line at a time: Ollama's /api/chat NDJSON and an
/// OpenAI-compatible SSE stream. Pure (no I/O, no actors) and total: they never throw, and a line
/// that is not what the provider documents (bad JSON, nested deeper than `internal_depth`, a
/// field of the wrong type) is ignored, as an unknown extension would be.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace pixelcraft::integrations {

/// What a stream has said so far, besides its content pieces (which the parsers return).
struct model_stream {
  std::string stream_error; ///< an error the model reported inside the stream
  nlohmann::json tool_calls = nlohmann::json::array();
  std::map<int, nlohmann::json> openai_tools; ///< OpenAI streams tool calls in indexed fragments
  int64_t tokens_in = 0;
  int64_t tokens_out = 0;
  bool complete = false; ///< saw Ollama's `done: true` or OpenAI's `[DONE]`
};

/// One NDJSON line of Ollama's stream (without its `\n`). Returns the content piece it carries
/// (empty if none); records errors, tool calls, completion and token counts in `s`.
std::string ollama_line(model_stream& s, std::string_view line);

/// One line of an OpenAI-compatible SSE stream (without its `\n`): only `data:` lines count.
/// Returns the content piece it carries (empty if none); records the rest in `s`.
std::string openai_line(model_stream& s, std::string_view line);

} // namespace pixelcraft::integrations
