#include "tests/integration/server_fixture.hpp"

#include "http/auth.hpp"

namespace pixelcraft::test {

void ServerTest::SetUp() {
  PIXELCRAFT_REQUIRE_PG();
  dsn = create_database();
  start_server(base_env());
}

void ServerTest::TearDown() {
  if (!started)
    return;
  auto rc = srv.stop();
  if (!HasFailure())
    return;
  // The server's side of a failed test: its exit status and the end of its log.
  auto err = srv.stderr_text();
  auto from = err.size() > 12000 ? err.size() - 12000 : 0;
  ADD_FAILURE() << "server exit status " << rc << "; end of its stderr:\n" << err.substr(from);
}

std::map<std::string, std::string> ServerTest::base_env() const {
  return {{"DATABASE_URL", dsn},
          {"SUPABASE_JWT_SECRET", secret},
          {"OLLAMA_HOST", "http://127.0.0.1:9"}, // nothing listens: model reported down
          {"LOG_LEVEL", "info"}};
}

void ServerTest::start_server(std::map<std::string, std::string> env) {
  started = srv.start(std::move(env));
  ASSERT_TRUE(started) << "server did not start (exit " << srv.exit_code() << ")\n"
                       << srv.stderr_text();
}

http_result ServerTest::call(const std::string& method, const std::string& path,
                             const std::string& body, std::vector<std::string> headers) {
  return http_call(method, srv.base_url() + path, body, headers);
}

std::string ServerTest::sign(json claims) {
  return http::jwt_sign_hs256(claims.dump(), secret);
}

std::string ServerTest::admin_token() {
  auto now = static_cast<long long>(std::time(nullptr));
  return sign({{"sub", "admin-1"},
               {"aud", "authenticated"},
               {"role", "service_role"},
               {"exp", now + 3600},
               {"iat", now}});
}

std::string ServerTest::user_token(const std::string& sub) {
  auto now = static_cast<long long>(std::time(nullptr));
  return sign({{"sub", sub},
               {"aud", "authenticated"},
               {"role", "authenticated"},
               {"exp", now + 3600},
               {"iat", now}});
}

json ServerTest::valid_lead(const std::string& name) {
  return {{"lead_data",
           {{"name", name},
            {"email", "zoe@example.com"},
            {"company", "Acme"},
            {"message", "We need a new website with a shop and better SEO for our bakery"},
            {"services_interested", {"web_development", "digital_marketing"}},
            {"budget_range", "10000-25000"},
            {"timeline", "1-3_months"},
            {"source", "contact_form"}}}};
}

} // namespace pixelcraft::test
