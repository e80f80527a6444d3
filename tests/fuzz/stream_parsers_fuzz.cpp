// libFuzzer target: the model stream parsers (integrations/stream_parsers.cpp), fed as the
// curl write callback in integrations/llm_client.cpp feeds them: the input is a stream, split
// into lines at `\n` with a trailing `\r` removed. The first byte picks Ollama NDJSON (even) or
// OpenAI SSE (odd).
#include "integrations/stream_parsers.hpp"

#include <cstdint>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  const bool openai = data[0] % 2 == 1;
  std::string_view rest{reinterpret_cast<const char*>(data) + 1, size - 1};
  pixelcraft::integrations::model_stream s;
  std::string content;
  while (!rest.empty()) {
    auto nl = rest.find('\n');
    if (nl == std::string_view::npos)
      break; // an unfinished line stays in the buffer
    auto line = rest.substr(0, nl);
    rest.remove_prefix(nl + 1);
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    content += openai ? pixelcraft::integrations::openai_line(s, line)
                      : pixelcraft::integrations::ollama_line(s, line);
    if (!s.stream_error.empty())
      break; // the client stops reading
  }
  // What the client does with a finished stream: tool calls and content go into a JSON reply.
  for (auto& [i, t] : s.openai_tools)
    s.tool_calls.push_back(t);
  nlohmann::json reply = {{"content", content},
                          {"tool_calls", s.tool_calls},
                          {"tokens_in", s.tokens_in},
                          {"tokens_out", s.tokens_out}};
  (void)reply.dump(); // throws (a crash here) if a piece were not valid UTF-8
  return 0;
}
