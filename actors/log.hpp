#pragma once
/// Structured logging: one JSON object per line on stderr (CAF's own logger is compiled out).
///
/// `{"ts":"2026-11-23T10:00:00.123Z","level":"info","component":"pixelcraft.http","msg":"...",
///   "key":"value",...}`. Thread-safe. Never pass secrets, tokens or prompts as fields.

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>

namespace pixelcraft::log {

enum class level : uint8_t { debug, info, warn, error };

/// Parses `debug|info|warn|warning|error` (case-insensitive).
bool parse_level(std::string_view text, level& out);
void set_level(level lvl);
bool enabled(level lvl);

/// Replaces the output (stderr by default); tests use it to inspect lines. Empty restores stderr.
void set_sink(std::function<void(const std::string& line)> sink);

/// One key/value of a log line. Numbers and booleans are written unquoted.
struct field {
  field(std::string_view k, std::string_view v) : key(k), value(v) {}
  field(std::string_view k, const std::string& v) : key(k), value(v) {}
  field(std::string_view k, const char* v) : key(k), value(v ? v : "") {}
  field(std::string_view k, double v);
  field(std::string_view k, int64_t v) : key(k), value(std::to_string(v)), raw(true) {}
  field(std::string_view k, int v) : key(k), value(std::to_string(v)), raw(true) {}
  field(std::string_view k, unsigned v) : key(k), value(std::to_string(v)), raw(true) {}
  field(std::string_view k, uint64_t v) : key(k), value(std::to_string(v)), raw(true) {}
  field(std::string_view k, bool v) : key(k), value(v ? "true" : "false"), raw(true) {}
  std::string key;
  std::string value;
  bool raw = false;
};

void write(level lvl, std::string_view component, std::string_view msg,
           std::initializer_list<field> fields = {});

inline void debug(std::string_view c, std::string_view m, std::initializer_list<field> f = {}) {
  if (enabled(level::debug))
    write(level::debug, c, m, f);
}
inline void info(std::string_view c, std::string_view m, std::initializer_list<field> f = {}) {
  write(level::info, c, m, f);
}
inline void warn(std::string_view c, std::string_view m, std::initializer_list<field> f = {}) {
  write(level::warn, c, m, f);
}
inline void error(std::string_view c, std::string_view m, std::initializer_list<field> f = {}) {
  write(level::error, c, m, f);
}

/// Appends `s` JSON-escaped (without quotes) to `out`.
void append_json_escaped(std::string& out, std::string_view s);

/// `v` with exactly `decimals` decimals (`%.Nf`); `null` for NaN and infinities.
std::string fixed(double v, int decimals);

/// Current UTC time as RFC 3339 with milliseconds and `Z`.
std::string now_rfc3339();

} // namespace pixelcraft::log
