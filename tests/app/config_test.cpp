#include "app/config.hpp"

#include <gtest/gtest.h>

using pixelcraft::load_config;
using pixelcraft::parse_dotenv;

TEST(ConfigTest, DefaultsFollowTheContract) {
  auto r = load_config({});
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.value.app_host, "0.0.0.0");
  EXPECT_EQ(r.value.app_port, 8000);
  EXPECT_EQ(r.value.jwt_audience, "authenticated");
  EXPECT_EQ(r.value.ollama_host.text, "http://localhost:11434");
  EXPECT_EQ(r.value.crm_api_url.text, "https://api.hubapi.com");
  EXPECT_EQ(r.value.email_api_url.text, "https://api.sendgrid.com");
  EXPECT_EQ(r.value.calendar_api_url.text, "https://www.googleapis.com");
  EXPECT_EQ(r.value.max_body_bytes, 1u << 20);
  EXPECT_EQ(r.value.llm_provider, "ollama");
  EXPECT_EQ(r.value.scheduler_policy, "sharing");
}

TEST(ConfigTest, BadPortNamesTheVariable) {
  for (auto bad : {"70000", "65536", "-1", "80a", ""}) {
    auto r = load_config({{"APP_PORT", bad}});
    if (std::string{bad}.empty()) {
      EXPECT_TRUE(r.ok); // empty means default
      continue;
    }
    EXPECT_FALSE(r.ok) << bad;
    EXPECT_NE(r.error.find("APP_PORT"), std::string::npos) << r.error;
  }
  auto ok = load_config({{"APP_PORT", "65535"}});
  ASSERT_TRUE(ok.ok);
  EXPECT_EQ(ok.value.app_port, 65535);
}

TEST(ConfigTest, UnparsableUrlsNameTheVariable) {
  for (auto var :
       {"OLLAMA_HOST", "CRM_API_URL", "EMAIL_API_URL", "CALENDAR_API_URL", "OPENAI_BASE_URL"}) {
    for (auto bad : {"localhost:11434", "ftp://x", "http://", "http://host:99999",
                     "http://host/path", "http://user@host"}) {
      auto r = load_config({{var, bad}});
      EXPECT_FALSE(r.ok) << var << "=" << bad;
      EXPECT_EQ(r.error.rfind(var, 0), 0u) << r.error;
    }
  }
  auto r = load_config({{"CRM_API_URL", "http://127.0.0.1:9001/"}});
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.value.crm_api_url.text, "http://127.0.0.1:9001");
  EXPECT_EQ(r.value.crm_api_url.port, 9001);
}

TEST(ConfigTest, OtherBadValuesAreRejected) {
  EXPECT_NE(load_config({{"LOG_LEVEL", "loud"}}).error.find("LOG_LEVEL"), std::string::npos);
  EXPECT_NE(load_config({{"LLM_PROVIDER", "magic"}}).error.find("LLM_PROVIDER"), std::string::npos);
  EXPECT_NE(load_config({{"MAX_BODY_BYTES", "12"}}).error.find("MAX_BODY_BYTES"),
            std::string::npos);
  EXPECT_NE(load_config({{"DATABASE_URL", "mysql-ish"}}).error.find("DATABASE_URL"),
            std::string::npos);
  EXPECT_NE(
      load_config({{"CORS_ORIGINS", "https://ok.example, notaurl"}}).error.find("CORS_ORIGINS"),
      std::string::npos);
  EXPECT_TRUE(load_config({{"DATABASE_URL", "postgresql://u:p@db.example:5432/postgres"}}).ok);
  EXPECT_TRUE(load_config({{"DATABASE_URL", "host=/tmp port=5432 dbname=x"}}).ok);
  EXPECT_NE(load_config({{"SCHEDULER_POLICY", "fifo"}}).error.find("SCHEDULER_POLICY"),
            std::string::npos);
  EXPECT_EQ(load_config({{"SCHEDULER_POLICY", "stealing"}}).value.scheduler_policy, "stealing");
}

TEST(ConfigTest, CorsOriginsAreSplitAndNormalised) {
  auto r = load_config({{"CORS_ORIGINS", " https://a.example/ ,http://b.example:3000,, *"}});
  ASSERT_TRUE(r.ok) << r.error;
  std::vector<std::string> want{"https://a.example", "http://b.example:3000", "*"};
  EXPECT_EQ(r.value.cors_origins, want);
}

TEST(ConfigTest, DotenvParsesQuotesCommentsAndExport) {
  std::vector<int> bad;
  auto vars = parse_dotenv("# comment\n"
                           "APP_PORT=9000\n"
                           "export LOG_LEVEL=debug\n"
                           "SUPABASE_JWT_SECRET=\"with spaces # not a comment\"\n"
                           "EMAIL_FROM='hello@example.com'\n"
                           "OLLAMA_MODEL=llama3 # trailing comment\n"
                           "this line is wrong\n"
                           "=novalue\n",
                           &bad);
  EXPECT_EQ(vars["APP_PORT"], "9000");
  EXPECT_EQ(vars["LOG_LEVEL"], "debug");
  EXPECT_EQ(vars["SUPABASE_JWT_SECRET"], "with spaces # not a comment");
  EXPECT_EQ(vars["EMAIL_FROM"], "hello@example.com");
  EXPECT_EQ(vars["OLLAMA_MODEL"], "llama3");
  EXPECT_EQ(bad, (std::vector<int>{7, 8}));
}
