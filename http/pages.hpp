#pragma once
/// http-internal: the files of the pages for people (API.md §15): `/`, `/console`, `/chat`,
/// `/docs` and their `/static/{file}` scripts, styles and images.
///
/// Our own pages are embedded in the binary at build time (`http/assets/*.html|js|css`).
/// Swagger UI comes from the npm package `swagger-ui-dist`, which the setup command installs
/// into `<build>/web/node_modules` (scripts/web-deps.sh); its few files are read once, at start,
/// from `http_settings::web_dir`. Without them `/docs` falls back to the built-in reader.
/// `http_settings::assets_dir`, when set, makes the pages and our static files come from that
/// directory on each request instead (page development without rebuilding).
/// Only names in these fixed sets are ever served: a request never names a path on disk.
/// Thread-safe after construction (read-only, or a fresh read per request from `assets_dir`).

#include <optional>
#include <string>
#include <unordered_map>

namespace pixelcraft::http {

struct page_file {
  std::string body;
  std::string content_type;
};

class page_store {
public:
  /// Loads Swagger UI from `web_dir` (may be empty or missing: then `has_swagger_ui()` is false).
  page_store(std::string web_dir, std::string assets_dir);

  /// A page by file name (`index.html`, `console.html`, `chat.html`, `docs.html`,
  /// `docs-ui.html`).
  std::optional<page_file> page(const std::string& name) const;
  /// A file served at `/static/{name}`: our `.js`/`.css`, or Swagger UI's.
  std::optional<page_file> static_file(const std::string& name) const;
  bool has_swagger_ui() const { return swagger_ui_; }

  /// Largest file read from disk (Swagger UI's bundle is about 1.5 MB).
  static constexpr size_t max_file_bytes = 8u << 20;

private:
  std::optional<page_file> embedded_or_dev(const std::string& name) const;

  std::string assets_dir_;
  std::unordered_map<std::string, page_file> vendor_; ///< Swagger UI files, by name
  bool swagger_ui_ = false;
};

/// `Content-Type` for a file name by its extension (html, js, css, png, json, svg).
std::string content_type_for(const std::string& name);

} // namespace pixelcraft::http
