#include "http/metrics.hpp"

#include <gtest/gtest.h>

using namespace pixelcraft::http;

TEST(MetricsTest, CountsAndCumulativeHistogram) {
  metrics_registry m;
  m.observe("GET", "/health", 200, 0.003);
  m.observe("GET", "/health", 200, 0.2);
  m.observe("POST", "/api/leads/submit", 422, 0.01);
  auto text = m.render("1.2.3");
  EXPECT_NE(text.find("pixelcraft_build_info{version=\"1.2.3\"} 1"), std::string::npos);
  EXPECT_NE(text.find("pixelcraft_http_requests_total{method=\"GET\",route=\"/health\","
                      "status=\"200\"} 2"),
            std::string::npos);
  EXPECT_NE(text.find("pixelcraft_http_request_duration_seconds_bucket{method=\"GET\","
                      "route=\"/health\",le=\"0.005\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("pixelcraft_http_request_duration_seconds_bucket{method=\"GET\","
                      "route=\"/health\",le=\"0.25\"} 2"),
            std::string::npos);
  EXPECT_NE(text.find("pixelcraft_http_request_duration_seconds_count{method=\"GET\","
                      "route=\"/health\"} 2"),
            std::string::npos);
  EXPECT_NE(text.find("# TYPE pixelcraft_http_request_duration_seconds histogram"),
            std::string::npos);
}
