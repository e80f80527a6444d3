#pragma once
/// Whole-server tests: the real `pixelcraft serve` on 127.0.0.1:0 against a fresh database.

#include "tests/support/http_client.hpp"
#include "tests/support/pg.hpp"
#include "tests/support/server_process.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <ctime>
#include <map>
#include <string>
#include <vector>

namespace pixelcraft::test {

using nlohmann::json;

class ServerTest : public ::testing::Test {
public:
  static constexpr const char* secret = "integration-test-secret-0123456789abcdef";

  void SetUp() override;
  void TearDown() override;

  /// The environment the server starts with (tests may change it before `start_server`).
  virtual std::map<std::string, std::string> base_env() const;
  void start_server(std::map<std::string, std::string> env);

  http_result call(const std::string& method, const std::string& path, const std::string& body = "",
                   std::vector<std::string> headers = {});
  http_result get(const std::string& path, std::vector<std::string> headers = {}) {
    return call("GET", path, "", std::move(headers));
  }
  http_result post(const std::string& path, const json& body,
                   std::vector<std::string> headers = {}) {
    return call("POST", path, body.dump(), std::move(headers));
  }

  static std::string sign(json claims);
  static std::string admin_token();
  static std::string user_token(const std::string& sub = "user-1");
  static std::string bearer(const std::string& token) { return "Authorization: Bearer " + token; }
  static json valid_lead(const std::string& name = "Zoë O'Connor");

  std::string dsn;
  server_process srv;
  bool started = false;
};

} // namespace pixelcraft::test
