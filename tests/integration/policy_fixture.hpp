#pragma once
/// The fixture of the tool-policy tests (API.md §12, §13): the real server against the fake
/// model and the fake vendors, with helpers to read what reached them.

#include "tests/fakes/fake_llm.hpp"
#include "tests/fakes/fake_vendors.hpp"
#include "tests/integration/server_fixture.hpp"
#include "tests/support/eventually.hpp"

#include <pqxx/pqxx>

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace pixelcraft::test {

class PolicyTest : public ServerTest {
public:
  std::map<std::string, std::string> base_env() const override {
    auto env = ServerTest::base_env();
    env["OLLAMA_HOST"] = model.url();
    env["OLLAMA_MODEL"] = "llama3.2";
    for (auto& [k, v] : vendor_env(vendors))
      env[k] = v;
    env["EMAIL_NOTIFY_TO"] = "sales@pixelcraft.example";
    env["VENDOR_BACKOFF_MS"] = "20";
    for (auto& [k, v] : extra)
      env[k] = v;
    return env;
  }

  void restart_with(std::map<std::string, std::string> more) {
    srv.stop();
    extra = std::move(more);
    start_server(base_env());
  }

  /// Requests that change something at a vendor (sends, creates, updates, deletes). Health
  /// probes and HubSpot's contact search only read.
  std::vector<vendor_request> side_effects() {
    std::vector<vendor_request> out;
    for (auto& r : vendors.requests())
      if (r.method != "GET" && r.target.rfind("/crm/v3/objects/contacts/search", 0) != 0)
        out.push_back(r);
    return out;
  }

  json chat_as(const std::vector<std::string>& headers, const std::string& agent,
               const std::string& message) {
    auto r = post("/api/chat/message", {{"message", message}, {"agent_type", agent}}, headers);
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body, nullptr, false);
  }

  /// The results of the last round of tool calls the model received (in its last request).
  std::vector<json> tool_results() {
    std::vector<json> out;
    auto sent = model.requests();
    for (auto& m : sent.back()["messages"]) {
      if (m["role"] == "assistant")
        out.clear(); // a later round follows
      if (m["role"] == "tool")
        out.push_back(json::parse(m["content"].get<std::string>()));
    }
    return out;
  }

  /// What the tools sent the vendors: every request but the health checks' probes (GETs,
  /// which come on their own schedule).
  size_t tool_requests() {
    size_t n = 0;
    for (auto& r : vendors.requests())
      n += r.method != "GET";
    return n;
  }

  /// Requests that change something at a vendor and are not for the bound lead Ada (whose own
  /// e-mail and CRM record the policy lets a workflow write without a person).
  std::vector<vendor_request> outside_policy() {
    std::vector<vendor_request> out;
    for (auto& r : side_effects()) {
      auto body = r.body.is_object() ? r.body : json::object();
      bool to_ada =
          (r.target == "/v3/mail/send" &&
           body.value("/personalizations/0/to/0/email"_json_pointer, "") == "ada@example.com") ||
          (r.target == "/crm/v3/objects/contacts" &&
           body.value("/properties/email"_json_pointer, "") == "ada@example.com");
      if (!to_ada)
        out.push_back(r);
    }
    return out;
  }

  /// `tool_execution:*` rows: status and error message.
  std::vector<std::pair<std::string, std::string>> tool_logs() {
    pqxx::connection c{dsn};
    pqxx::read_transaction t{c};
    std::vector<std::pair<std::string, std::string>> out;
    for (auto row : t.exec("SELECT status, coalesce(error_message, '') FROM agent_logs"
                           " WHERE action LIKE 'tool_execution:%' ORDER BY created_at"))
      out.emplace_back(row[0].as<std::string>(), row[1].as<std::string>());
    return out;
  }

  /// The workflow once its state is one of `states`, or as it is after `seconds`.
  json wait_for(const std::string& id,
                std::vector<std::string> states = {"completed", "failed", "cancelled"},
                const std::string& token = user_token(), int seconds = 30) {
    json wf;
    eventually(
        [&] {
          wf = json::parse(get("/api/agents/workflows/" + id, {bearer(token)}).body);
          auto state = wf.value("current_state", std::string{});
          return std::find(states.begin(), states.end(), state) != states.end();
        },
        seconds);
    return wf;
  }

  /// Starts a workflow (a `WorkflowRequest`) as `token`; its id, or "" when it was not 202.
  std::string execute(const json& request, const std::string& token = user_token()) {
    auto r = post("/api/agents/workflows/execute", request, {bearer(token)});
    EXPECT_EQ(r.status, 202) << r.body;
    return r.status == 202 ? json::parse(r.body)["workflow_id"].get<std::string>() : std::string{};
  }

  /// `PATCH .../state` with `action` (pause, resume or cancel) as the owner.
  http_result set_state(const std::string& id, const std::string& action) {
    return call("PATCH", "/api/agents/workflows/" + id + "/state", json{{"action", action}}.dump(),
                {bearer(user_token()), "Content-Type: application/json"});
  }

  /// Starts a one-agent sequential workflow and waits until its step has run: the workflow is
  /// then `awaiting_approval` (a call was held) or terminal.
  json start_workflow(const std::string& agent, json input, const std::string& token) {
    auto id = execute({{"workflow_type", "sequential"},
                       {"participating_agents", {agent}},
                       {"input_data", std::move(input)}},
                      token);
    return wait_for(id, {"awaiting_approval", "completed", "failed"}, token);
  }

  /// The workflow's stored events, in order: event types.
  std::vector<std::string> event_types(const std::string& workflow_id) {
    pqxx::connection c{dsn};
    pqxx::read_transaction t{c};
    std::vector<std::string> out;
    for (auto row : t.exec_params("SELECT event_type FROM workflow_events WHERE"
                                  " workflow_execution_id = $1::uuid ORDER BY seq",
                                  workflow_id))
      out.push_back(row[0].as<std::string>());
    return out;
  }

  std::map<std::string, std::string> extra;
  fake_llm model;
  fake_vendors vendors{vendor_keys::crm, vendor_keys::email, vendor_keys::calendar,
                       vendor_keys::calendar_id};
};

} // namespace pixelcraft::test
