#include "http/pages.hpp"

#include "actors/log.hpp"

#include <cctype>
#include <fstream>
#include <iterator>
#include <sstream>
#include <utility>
#include <vector>

namespace pixelcraft::http {

const std::vector<std::pair<std::string, std::string>>& embedded_assets();

namespace {

/// The files of `swagger-ui-dist` that `/docs` uses; `docs-ui.html` refers to them by name.
constexpr const char* swagger_files[] = {"swagger-ui-bundle.js", "swagger-ui.css",
                                         "favicon-32x32.png", "favicon-16x16.png"};

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

/// Reads a whole regular file of at most `page_store::max_file_bytes`.
std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    return std::nullopt;
  in.seekg(0, std::ios::end);
  auto size = in.tellg();
  if (size < 0 || static_cast<size_t>(size) > page_store::max_file_bytes)
    return std::nullopt;
  in.seekg(0);
  std::string out(static_cast<size_t>(size), '\0');
  if (!in.read(out.data(), size))
    return std::nullopt;
  return out;
}

/// Our own names: letters, digits, `-`, `_` and one `.` before a known extension. Anything
/// else (slashes, `..`, NUL, spaces) names nothing.
bool plain_name(const std::string& name) {
  if (name.empty() || name.size() > 64 || name.front() == '.')
    return false;
  int dots = 0;
  for (unsigned char c : name) {
    if (c == '.')
      ++dots;
    else if (!std::isalnum(c) && c != '-' && c != '_')
      return false;
  }
  return dots == 1;
}

} // namespace

std::string content_type_for(const std::string& name) {
  if (ends_with(name, ".html"))
    return "text/html; charset=utf-8";
  if (ends_with(name, ".js"))
    return "application/javascript; charset=utf-8";
  if (ends_with(name, ".css"))
    return "text/css; charset=utf-8";
  if (ends_with(name, ".png"))
    return "image/png";
  if (ends_with(name, ".svg"))
    return "image/svg+xml";
  return "application/json; charset=utf-8";
}

page_store::page_store(std::string web_dir, std::string assets_dir)
    : assets_dir_(std::move(assets_dir)) {
  if (web_dir.empty())
    return;
  auto dir = web_dir + "/node_modules/swagger-ui-dist/";
  for (const char* name : swagger_files) {
    auto body = read_file(dir + name);
    if (!body) {
      if (ends_with(name, ".png"))
        continue; // icons are optional
      log::info("pixelcraft.http", "Swagger UI not installed: /docs serves the built-in reader",
                {{"missing", dir + name}});
      vendor_.clear();
      return;
    }
    vendor_[name] = page_file{std::move(*body), content_type_for(name)};
  }
  swagger_ui_ = true;
}

std::optional<page_file> page_store::embedded_or_dev(const std::string& name) const {
  if (!plain_name(name))
    return std::nullopt;
  if (!assets_dir_.empty())
    if (auto body = read_file(assets_dir_ + "/" + name))
      return page_file{std::move(*body), content_type_for(name)};
  for (const auto& [file, text] : embedded_assets())
    if (file == name)
      return page_file{text, content_type_for(name)};
  return std::nullopt;
}

std::optional<page_file> page_store::page(const std::string& name) const {
  return ends_with(name, ".html") ? embedded_or_dev(name) : std::nullopt;
}

std::optional<page_file> page_store::static_file(const std::string& name) const {
  if (auto it = vendor_.find(name); it != vendor_.end())
    return it->second;
  if (ends_with(name, ".js") || ends_with(name, ".css"))
    return embedded_or_dev(name);
  return std::nullopt;
}

} // namespace pixelcraft::http
