#pragma once
/// A fake model server for tests, on 127.0.0.1 port 0, speaking the vendors' real protocols:
/// Ollama (`GET /api/tags`, `POST /api/chat` streaming NDJSON) and OpenAI-compatible servers
/// (`GET /v1/models`, `POST /v1/chat/completions` streaming SSE). Scripted per test; records
/// every chat request and whether each stream was finished or abandoned by the client.

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace pixelcraft::test {

struct fake_llm_script {
  std::vector<std::string> tokens = {"Hello", " from", " the", " fake", " model."};
  std::chrono::milliseconds token_delay{0};
  int status = 200;               ///< non-200: answer with this status and an error body
  bool stall_after_first = false; ///< send one token, then nothing for `stall_for`
  std::chrono::milliseconds stall_for{4000};
  std::string mid_stream_error;  ///< after the first token, an `{"error": ...}` line
  bool drop_after_first = false; ///< after the first token, end the response (no `done`)
  nlohmann::json tool_calls;     ///< Ollama `message.tool_calls` on the last chunk
  /// The same as JSON text, sent as is: for answers nlohmann itself could not build or dump
  /// (nested far deeper than any sane model would send).
  std::string raw_tool_calls;
};

/// A script that answers with tool calls (Ollama's `message.tool_calls`) and no text.
inline fake_llm_script calls(nlohmann::json tool_calls) {
  fake_llm_script s;
  s.tokens = {};
  s.tool_calls = std::move(tool_calls);
  return s;
}

/// A script that answers `text` in one piece.
inline fake_llm_script says(std::string text) {
  fake_llm_script s;
  s.tokens = {std::move(text)};
  return s;
}

/// One tool call as Ollama sends it.
inline nlohmann::json tool_call(const std::string& name, nlohmann::json args) {
  return {{"function", {{"name", name}, {"arguments", std::move(args)}}}};
}

class fake_llm {
public:
  fake_llm();
  ~fake_llm();
  fake_llm(const fake_llm&) = delete;
  fake_llm& operator=(const fake_llm&) = delete;

  std::string url() const;
  void script(fake_llm_script s);
  /// Scripts for the next calls, one per call, before falling back to `script`.
  void queue(std::vector<fake_llm_script> scripts);
  void models(std::vector<std::string> names);
  /// Answers each call the queue does not: the script `f` makes from the request's body (for
  /// many concurrent callers, whose order no queue can know). Runs under the fake's lock.
  void respond(std::function<fake_llm_script(const nlohmann::json& request)> f);

  /// Bodies of every chat request received, in order.
  std::vector<nlohmann::json> requests() const;
  int chat_calls() const;
  int finished() const;  ///< streams written to the end
  int abandoned() const; ///< streams whose client went away before the end
  /// When the last stream wrote its final chunk.
  std::chrono::steady_clock::time_point last_finished_at() const;

  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

} // namespace pixelcraft::test
