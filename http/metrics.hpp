#pragma once
/// Prometheus metrics of the HTTP layer: request counts and latency histograms per route.
/// Thread-safe (a mutex; one short critical section per request).

#include <array>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>

namespace pixelcraft::http {

/// Escapes a Prometheus label value (backslash, quote, newline).
std::string prometheus_label(std::string_view v);

class metrics_registry {
public:
  metrics_registry();

  /// `route` is the matched pattern (or `unmatched`), never a raw path.
  void observe(const std::string& method, const std::string& route, int status, double seconds);

  /// Prometheus text exposition format 0.0.4.
  std::string render(const std::string& version) const;

private:
  static constexpr std::array<double, 14> bounds{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                 1,     2.5,  5,     10,   30,  60,   120};
  struct histogram {
    std::array<uint64_t, bounds.size()> buckets{};
    uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mtx_;
  std::map<std::tuple<std::string, std::string, int>, uint64_t> counts_;
  std::map<std::pair<std::string, std::string>, histogram> latency_;
  std::chrono::steady_clock::time_point started_;
};

} // namespace pixelcraft::http
