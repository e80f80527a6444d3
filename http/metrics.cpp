#include "http/metrics.hpp"

#include <charconv>

namespace pixelcraft::http {

std::string prometheus_label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"')
      out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

namespace {

std::string label(std::string_view v) {
  return prometheus_label(v);
}

std::string num(double v) {
  char buf[48];
  auto r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::general, 6);
  return std::string(buf, r.ptr);
}

} // namespace

metrics_registry::metrics_registry() : started_(std::chrono::steady_clock::now()) {}

void metrics_registry::observe(const std::string& method, const std::string& route, int status,
                               double seconds) {
  std::lock_guard<std::mutex> guard{mtx_};
  ++counts_[{method, route, status}];
  auto& h = latency_[{method, route}];
  for (size_t i = 0; i < bounds.size(); ++i)
    if (seconds <= bounds[i])
      ++h.buckets[i];
  ++h.count;
  h.sum += seconds;
}

std::string metrics_registry::render(const std::string& version) const {
  std::string out;
  out += "# HELP pixelcraft_build_info Build information.\n# TYPE pixelcraft_build_info gauge\n";
  out += "pixelcraft_build_info{version=\"" + label(version) + "\"} 1\n";
  auto up = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  out += "# HELP pixelcraft_uptime_seconds Seconds since the HTTP layer started.\n"
         "# TYPE pixelcraft_uptime_seconds gauge\npixelcraft_uptime_seconds " +
         num(up) + "\n";
  std::lock_guard<std::mutex> guard{mtx_};
  out += "# HELP pixelcraft_http_requests_total HTTP requests by method, route and status.\n"
         "# TYPE pixelcraft_http_requests_total counter\n";
  for (const auto& [key, n] : counts_) {
    const auto& [method, route, status] = key;
    out += "pixelcraft_http_requests_total{method=\"" + label(method) + "\",route=\"" +
           label(route) + "\",status=\"" + std::to_string(status) + "\"} " + std::to_string(n) +
           "\n";
  }
  out += "# HELP pixelcraft_http_request_duration_seconds HTTP request latency.\n"
         "# TYPE pixelcraft_http_request_duration_seconds histogram\n";
  for (const auto& [key, h] : latency_) {
    auto labels = "method=\"" + label(key.first) + "\",route=\"" + label(key.second) + "\"";
    for (size_t i = 0; i < bounds.size(); ++i)
      out += "pixelcraft_http_request_duration_seconds_bucket{" + labels + ",le=\"" +
             num(bounds[i]) + "\"} " + std::to_string(h.buckets[i]) + "\n";
    out += "pixelcraft_http_request_duration_seconds_bucket{" + labels + ",le=\"+Inf\"} " +
           std::to_string(h.count) + "\n";
    out += "pixelcraft_http_request_duration_seconds_sum{" + labels + "} " + num(h.sum) + "\n";
    out += "pixelcraft_http_request_duration_seconds_count{" + labels + "} " +
           std::to_string(h.count) + "\n";
  }
  return out;
}

} // namespace pixelcraft::http
