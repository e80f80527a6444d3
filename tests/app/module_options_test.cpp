// Each module's settings come from the one configuration (app/module_options.hpp); these pin
// the mappings that carry a decision, not just a copy.
#include "app/module_options.hpp"
#include "integrations/health_targets.hpp"

#include <gtest/gtest.h>

namespace {

using namespace pixelcraft;

config load(std::map<std::string, std::string> vars) {
  auto r = load_config(vars);
  EXPECT_TRUE(r.ok) << r.error;
  return r.value;
}

TEST(ModuleOptionsTest, CalendarNeedsBothKeyAndCalendarId) {
  auto cfg = load({{"CALENDAR_API_KEY", "k"}});
  EXPECT_FALSE(app::tool_settings_of(cfg).calendar_configured);
  auto targets =
      integrations::health_targets(app::llm_options_of(cfg), app::vendor_options_of(cfg));
  EXPECT_TRUE(targets.calendar.url.empty());

  cfg = load({{"CALENDAR_API_KEY", "k"}, {"CALENDAR_ID", "team cal@x"}});
  EXPECT_TRUE(app::tool_settings_of(cfg).calendar_configured);
  targets = integrations::health_targets(app::llm_options_of(cfg), app::vendor_options_of(cfg));
  EXPECT_EQ(targets.calendar.url,
            "https://www.googleapis.com/calendar/v3/calendars/team%20cal%40x");
  EXPECT_EQ(targets.calendar.key, "k");
}

TEST(ModuleOptionsTest, UnconfiguredVendorsAreNotProbed) {
  auto cfg = load({});
  auto targets =
      integrations::health_targets(app::llm_options_of(cfg), app::vendor_options_of(cfg));
  EXPECT_TRUE(targets.crm.url.empty());
  EXPECT_TRUE(targets.email.url.empty());
  EXPECT_EQ(targets.model.url, "http://localhost:11434/api/tags");
  auto tools = app::tool_settings_of(cfg);
  EXPECT_FALSE(tools.crm_configured);
  EXPECT_FALSE(tools.email_configured);
}

TEST(ModuleOptionsTest, OpenAiProviderProbesItsModelListAndHasNoDefaultModel) {
  auto cfg = load({{"LLM_PROVIDER", "openai"},
                   {"OPENAI_BASE_URL", "https://llm.example:8443"},
                   {"OPENAI_API_KEY", "sk-test"}});
  auto llm = app::llm_options_of(cfg);
  EXPECT_EQ(llm.provider, "openai");
  auto targets = integrations::health_targets(llm, app::vendor_options_of(cfg));
  EXPECT_EQ(targets.model.url, "https://llm.example:8443/v1/models");
  EXPECT_EQ(targets.model.key, "sk-test");
  EXPECT_EQ(targets.model.list_key, "data");
  EXPECT_TRUE(app::http_settings_of(cfg).default_model.empty());
  EXPECT_EQ(app::http_settings_of(load({})).default_model, "llama3.2");
}

TEST(ModuleOptionsTest, DeadlinesFollowTheConfiguration) {
  auto cfg = load({{"DB_TIMEOUT_MS", "1500"}, {"REQUEST_TIMEOUT_S", "7"}});
  EXPECT_EQ(app::agent_settings_of(cfg).db_timeout_ms, 1500u);
  EXPECT_EQ(app::agent_settings_of(cfg).request_timeout_s, 7u);
  EXPECT_EQ(app::workflow_settings_of(cfg).request_timeout_s, 7u);
  EXPECT_EQ(app::http_settings_of(cfg).request_timeout_s, 7u);
  EXPECT_EQ(app::tool_settings_of(cfg).db_timeout_ms, 1500u);
}

} // namespace

namespace {

TEST(ModuleOptionsTest, TheServerCutsAHandlerOffAfterEveryInnerDeadline) {
  auto cfg = load({{"REQUEST_TIMEOUT_S", "30"}, {"LLM_TIMEOUT_S", "200"}, {"APP_PORT", "9001"}});
  auto s = app::server_options_of(cfg);
  EXPECT_EQ(s.port, 9001);
  EXPECT_EQ(s.handle_timeout, std::chrono::seconds(260));
  EXPECT_EQ(s.max_body_bytes, cfg.max_body_bytes);
}

} // namespace
