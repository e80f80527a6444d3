// Agents and models (API.md §5).
#include "http/context.hpp"
#include "http/validation.hpp"

#include <map>

namespace pixelcraft::http {

namespace {

constexpr auto health_timeout = std::chrono::milliseconds(5000);

/// Continues with the model server as the last health check saw it (a failed query counts as
/// unreachable).
void with_models(const ctx_ptr& ctx, std::function<void(const model_status&)> next) {
  ask_or<model_status>(
      ctx, ctx->opts->health, health_timeout, [next](model_status& m) { next(m); },
      [next](caf::error&) { next(model_status{}); }, models_atom_v);
}

std::string agent_status(const model_status& m, const agent_def& a) {
  return m.serves(a.model) ? "active" : "degraded";
}

void list_agents(const ctx_ptr& ctx) {
  with_models(ctx,
              [ctx](const model_status& m) { ctx->send(200, ctx->opts->catalog->list_json(m)); });
}

void get_agent(const ctx_ptr& ctx) {
  const auto* a = ctx->opts->catalog->find(ctx->params["agent_type"]);
  if (!a)
    return ctx->error(404, "agent not found");
  with_models(ctx, [ctx, a](const model_status& m) {
    ctx->send(200, ctx->opts->catalog->info_json(*a, m.serves(a->model), true));
  });
}

void agents_health(const ctx_ptr& ctx) {
  with_models(ctx, [ctx](const model_status& v) {
    ask<std::vector<agent_instances>>(
        ctx, ctx->opts->agents, std::chrono::milliseconds(5000),
        [ctx, v](std::vector<agent_instances>& counts) {
          std::map<std::string, int32_t> live;
          for (const auto& c : counts)
            live[c.agent_id] = c.count;
          json out = json::object();
          for (const auto& a : ctx->opts->catalog->all())
            out[a.id] = {{"status", agent_status(v, a)}, {"instances", live[a.id]}};
          ctx->send_json(200, out);
        },
        agents_atom_v);
  });
}

void agents_metrics(const ctx_ptr& ctx) {
  ask(
      ctx, ctx->opts->db, ctx->db_timeout(),
      [ctx](std::string& metrics) { ctx->send(200, std::string{"{\"metrics\":"} + metrics + "}"); },
      agent_metrics_atom_v);
}

const json& recommendation_schema() {
  static const json schema = [] {
    json s = {{"type", "object"},
              {"properties",
               {{"recommended_services",
                 {{"type", "array"},
                  {"items",
                   {{"type", "object"},
                    {"properties",
                     {{"service", {{"type", "string"}, {"enum", service_ids()}}},
                      {"rationale", {{"type", "string"}}},
                      {"priority", {{"type", "integer"}, {"minimum", 1}, {"maximum", 6}}}}},
                    {"required", {"service", "rationale", "priority"}}}}}},
                {"missing_information", {{"type", "array"}, {"items", {{"type", "string"}}}}}}},
              {"required", {"recommended_services"}}};
    return s;
  }();
  return schema;
}

/// The model's recommendations if they validate against the schema, else null.
json validated_recommendations(const std::string& content) {
  auto j = parse_json(content); // model output: bounded, never throws
  if (!j.is_object() || !j.contains("recommended_services") ||
      !j["recommended_services"].is_array() || j["recommended_services"].empty() ||
      j["recommended_services"].size() > 6)
    return nullptr;
  const auto& ids = service_ids();
  for (const auto& r : j["recommended_services"]) {
    if (!r.is_object() || !r.contains("service") || !r["service"].is_string() ||
        std::find(ids.begin(), ids.end(), r["service"].get<std::string>()) == ids.end() ||
        !r.contains("rationale") || !r["rationale"].is_string() ||
        r["rationale"].get<std::string>().empty() || !r.contains("priority") ||
        !r["priority"].is_number_integer() || r["priority"].get<int>() < 1 ||
        r["priority"].get<int>() > 6)
      return nullptr;
  }
  if (j.contains("missing_information") && !j["missing_information"].is_array())
    return nullptr;
  return j;
}

/// Service recommendation (issue 3): the model's validated answer, or a keyword fallback that
/// says it is one. Adjusts the invoke response in place.
void recommend(json& out, const json& reply, const std::string& input_text) {
  auto recs = out["status"] == "success"
                  ? validated_recommendations(reply.value("response", std::string{}))
                  : json(nullptr);
  if (!recs.is_null()) {
    out["result"]["recommendations"] = recs;
    out["result"]["metadata"]["method"] = "llm";
    return;
  }
  json items = json::array();
  int priority = 1;
  for (const auto& svc : keyword_services(input_text, {}))
    items.push_back({{"service", svc},
                     {"rationale", "The request mentions topics of this service (keyword match)."},
                     {"priority", priority++}});
  out["result"]["recommendations"] = {{"recommended_services", items},
                                      {"missing_information", json::array()}};
  out["result"]["metadata"]["method"] = "keywords";
  std::string names;
  for (const auto& i : items)
    names += (names.empty() ? "" : ", ") + i["service"].get<std::string>();
  out["result"]["content"] =
      "Keyword-based fallback (no valid model answer was available): " +
      (names.empty() ? std::string{"no service matched; please describe your goals."} : names);
}

void invoke(const ctx_ptr& ctx) {
  const json* body = parse_json_object(ctx);
  if (!body)
    return;
  validator v;
  invoke_request in;
  if (!validate_invoke_request(*body, v, in))
    return ctx->invalid(v.detail());
  const auto& agent = in.agent_type;
  if (!ctx->opts->catalog->find(agent))
    return ctx->error(404, "agent not found");
  std::string message;
  if (!invoke_message(in.input, v, message))
    return ctx->invalid(v.detail());
  agent_turn turn;
  turn.agent_type = agent;
  turn.message = message;
  turn.action = "invoke";
  stamp_caller(ctx, turn);
  bool recommending = agent == "service_recommendation";
  if (recommending)
    turn.format = json_text(recommendation_schema());
  json extra = in.input;
  extra.erase("message");
  if (!extra.empty())
    turn.context = json_text(extra);
  auto started = std::chrono::steady_clock::now();
  ask<conversation_opened>(
      ctx, ctx->opts->db, ctx->lane_timeout(),
      [ctx, turn, started, recommending, message](conversation_opened& opened) mutable {
        turn.conversation_id = opened.conversation_id;
        turn.new_conversation = opened.created;
        auto seconds = [started] {
          return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        };
        auto timeout = ctx->time_left();
        turn.budget_ms = deadlines::inner(timeout).count();
        ask_or<agent_reply>(
            ctx, ctx->opts->agents, timeout,
            [ctx, seconds, recommending, message](agent_reply& r) {
              bool degraded = r.meta.degraded;
              json out = {{"agent_id", r.agent_type},
                          {"conversation_id", reply_conversation(r)},
                          {"status", degraded ? "error" : "success"},
                          {"result",
                           {{"content", r.response},
                            {"metadata", to_json(r.meta)},
                            {"tools_used", r.tools_used}}},
                          {"execution_time", seconds()}};
              if (degraded)
                out["error"] = "no model available";
              if (recommending)
                recommend(out, json{{"response", r.response}}, message);
              ctx->send_json(200, out);
            },
            [ctx](caf::error& err) { ctx->fail(err); }, chat_atom_v, turn, caf::actor{});
      },
      conv_open_atom_v, conversation_caller(ctx, in.conversation_id), agent);
}

/// Every model the runtime uses or has called, with health and per-model metrics.
void with_model_list(const ctx_ptr& ctx, std::function<void(json)> next) {
  with_models(ctx, [ctx, next](const model_status& v) {
    ask_or(
        ctx, ctx->opts->llm, std::chrono::milliseconds(5000),
        [ctx, v, next](std::string& stats_text) {
          auto stats = parse_json_or_throw(stats_text)["models"];
          std::vector<std::string> names;
          auto add = [&names](const std::string& n) {
            if (!n.empty() && std::find(names.begin(), names.end(), n) == names.end())
              names.push_back(n);
          };
          add(ctx->opts->settings.default_model);
          for (const auto& a : ctx->opts->catalog->all())
            add(a.model);
          for (const auto& s : stats)
            add(s["name"].get<std::string>());
          json models = json::array();
          for (const auto& n : names) {
            json metrics = {{"total_requests", 0},
                            {"success_rate", 0.0},
                            {"avg_latency_ms", 0.0},
                            {"tokens_in", 0},
                            {"tokens_out", 0}};
            for (const auto& s : stats)
              if (s["name"] == n)
                metrics = s["metrics"];
            models.push_back({{"name", n},
                              {"provider", ctx->opts->settings.llm_provider},
                              {"healthy", v.serves(n)},
                              {"metrics", metrics}});
          }
          next(models);
        },
        [ctx](caf::error& err) { ctx->fail(err); }, llm_stats_atom_v);
  });
}

} // namespace

void register_agent_routes(api::impl& a) {
  add_route(a, "GET", "/api/agents", access::anyone, list_agents);
  add_route(a, "GET", "/api/agents/health", access::anyone, agents_health);
  add_route(a, "GET", "/api/agents/metrics", access::admin, agents_metrics);
  add_route(a, "POST", "/api/agents/invoke", access::user, invoke, true);
  add_route(a, "GET", "/api/agents/{agent_type}", access::anyone, get_agent);
  add_route(a, "GET", "/api/models", access::anyone, [](const ctx_ptr& ctx) {
    with_model_list(ctx, [ctx](json models) { ctx->send_json(200, {{"models", models}}); });
  });
  add_route(a, "GET", "/api/models/{name}", access::anyone, [](const ctx_ptr& ctx) {
    with_model_list(ctx, [ctx](json models) {
      for (const auto& m : models)
        if (m["name"] == ctx->params["name"])
          return ctx->send_json(200, m);
      ctx->error(404, "model not found");
    });
  });
}

} // namespace pixelcraft::http
