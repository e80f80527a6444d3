#include "actors/log.hpp"

#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace pixelcraft::log {

namespace {

std::atomic<level> min_level{level::info};
std::mutex mtx;
std::function<void(const std::string&)> custom_sink;

const char* level_name(level l) {
  switch (l) {
  case level::debug:
    return "debug";
  case level::info:
    return "info";
  case level::warn:
    return "warn";
  case level::error:
    return "error";
  }
  return "info";
}

} // namespace

field::field(std::string_view k, double v) : key(k), raw(true) {
  if (!std::isfinite(v)) {
    value = "null";
    return;
  }
  value = fixed(v, 3);
}

std::string fixed(double v, int decimals) {
  if (!std::isfinite(v))
    return "null";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed, decimals);
  return r.ec == std::errc{} ? std::string(buf, r.ptr) : std::string{"null"};
}

bool parse_level(std::string_view text, level& out) {
  std::string t;
  for (char c : text)
    t.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (t == "debug" || t == "trace")
    out = level::debug;
  else if (t == "info")
    out = level::info;
  else if (t == "warn" || t == "warning")
    out = level::warn;
  else if (t == "error" || t == "critical")
    out = level::error;
  else
    return false;
  return true;
}

void set_level(level lvl) {
  min_level = lvl;
}

bool enabled(level lvl) {
  return lvl >= min_level.load();
}

void set_sink(std::function<void(const std::string&)> sink) {
  std::lock_guard<std::mutex> guard{mtx};
  custom_sink = std::move(sink);
}

void append_json_escaped(std::string& out, std::string_view s) {
  for (unsigned char c : s) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    default:
      if (c < 0x20) {
        static constexpr char hex[] = "0123456789abcdef";
        out += "\\u00";
        out += hex[c >> 4];
        out += hex[c & 15];
      } else {
        out.push_back(static_cast<char>(c));
      }
    }
  }
}

std::string now_rfc3339() {
  using namespace std::chrono;
  auto now = system_clock::now();
  auto secs = system_clock::to_time_t(now);
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  auto pad = [](std::string& out, long v, int width) {
    auto digits = std::to_string(v);
    if (static_cast<int>(digits.size()) < width)
      out.append(static_cast<size_t>(width) - digits.size(), '0');
    out += digits;
  };
  std::string out;
  out.reserve(24);
  pad(out, tm.tm_year + 1900, 4);
  out += '-';
  pad(out, tm.tm_mon + 1, 2);
  out += '-';
  pad(out, tm.tm_mday, 2);
  out += 'T';
  pad(out, tm.tm_hour, 2);
  out += ':';
  pad(out, tm.tm_min, 2);
  out += ':';
  pad(out, tm.tm_sec, 2);
  out += '.';
  pad(out, static_cast<long>(ms), 3);
  out += 'Z';
  return out;
}

void write(level lvl, std::string_view component, std::string_view msg,
           std::initializer_list<field> fields) {
  if (!enabled(lvl))
    return;
  std::string line;
  line.reserve(160);
  line += "{\"ts\":\"";
  line += now_rfc3339();
  line += "\",\"level\":\"";
  line += level_name(lvl);
  line += "\",\"component\":\"";
  append_json_escaped(line, component);
  line += "\",\"msg\":\"";
  append_json_escaped(line, msg);
  line += '"';
  for (const auto& f : fields) {
    line += ",\"";
    append_json_escaped(line, f.key);
    line += "\":";
    if (f.raw) {
      line += f.value;
    } else {
      line += '"';
      append_json_escaped(line, f.value);
      line += '"';
    }
  }
  line += "}\n";
  std::lock_guard<std::mutex> guard{mtx};
  if (custom_sink) {
    custom_sink(line);
    return;
  }
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

} // namespace pixelcraft::log
