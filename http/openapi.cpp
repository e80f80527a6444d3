#include "http/context.hpp"

namespace pixelcraft::http {

const std::vector<std::pair<std::string, std::string>>& embedded_assets();

namespace {

const std::string& asset(const char* name) {
  for (const auto& [file, text] : embedded_assets())
    if (file == name)
      return text;
  static const std::string none;
  return none;
}

} // namespace

const std::string& openapi_document() {
  // Re-serialised once: validates the shipped file and serves it compact.
  static const std::string doc = parse_json_or_throw(asset("openapi.json")).dump();
  return doc;
}

} // namespace pixelcraft::http
