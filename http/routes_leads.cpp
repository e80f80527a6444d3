// Leads (API.md §6). Validation and rule scoring run on the I/O thread (microseconds); every
// database step is an actor request that answers later.
#include "http/context.hpp"
#include "http/validation.hpp"

#include <cmath>

namespace pixelcraft::http {

namespace {

const json& analysis_schema() {
  static const json schema = parse_json_or_throw(R"({
    "type": "object",
    "properties": {
      "score": {"type": "integer", "minimum": 0, "maximum": 100},
      "confidence": {"type": "number", "minimum": 0, "maximum": 1},
      "recommended_services": {"type": "array", "items": {"type": "string"}},
      "key_insights": {"type": "array", "items": {"type": "string"}},
      "suggested_actions": {"type": "array", "items": {"type": "string"}},
      "estimated_value": {"type": ["number", "null"]}
    },
    "required": ["score", "confidence", "recommended_services", "key_insights",
                 "suggested_actions", "estimated_value"]
  })");
  return schema;
}

bool string_list(const json& x, size_t max_items) {
  if (!x.is_array() || x.size() > max_items)
    return false;
  return std::all_of(x.begin(), x.end(), [](const json& s) {
    return s.is_string() && !s.get<std::string>().empty() && s.get<std::string>().size() <= 500;
  });
}

/// The model's answer, if it validates (API.md §6); otherwise null.
json validated_model_analysis(const std::string& content) {
  auto m = parse_json(content); // model output: bounded, never throws
  if (!m.is_object() || !m.contains("score") || !m["score"].is_number() ||
      !m.contains("confidence") || !m["confidence"].is_number())
    return nullptr;
  auto score = m["score"].get<double>();
  auto confidence = m["confidence"].get<double>();
  if (!(score >= 0 && score <= 100) || !(confidence >= 0 && confidence <= 1))
    return nullptr;
  for (auto key : {"recommended_services", "key_insights", "suggested_actions"})
    if (!m.contains(key) || !string_list(m[key], 20))
      return nullptr;
  if (!m.contains("estimated_value") ||
      !(m["estimated_value"].is_null() ||
        (m["estimated_value"].is_number() && m["estimated_value"].get<double>() >= 0)))
    return nullptr;
  m["score"] = static_cast<int>(std::floor(score + 0.5));
  return m;
}

std::string describe_lead(const json& lead, const lead_rule_score& rules) {
  auto field = [&](const char* k) {
    return lead.contains(k) && !lead[k].is_null() ? lead[k].dump() : std::string{"not given"};
  };
  return "Qualify this inbound lead and answer with JSON only.\n"
         "Name: " +
         field("name") + "\nCompany: " + field("company") +
         "\nServices of interest: " + field("services_interested") +
         "\nBudget range: " + field("budget_range") + "\nTimeline: " + field("timeline") +
         "\nSource: " + field("source") + "\nMessage: " + field("message") +
         "\nOur rule-based score is " + std::to_string(rules.score) + "/100.";
}

} // namespace

void analyze_lead(const ctx_ptr& ctx, const json& lead, std::function<void(json)> done) {
  auto signals = signals_of_lead(lead);
  auto rules = score_lead(signals);
  auto rules_only = parse_json_or_throw(rules_analysis_json(signals, rules));
  json turn = {{"agent_type", "lead_qualification"},
               {"message", describe_lead(lead, rules)},
               {"action", "analyze_lead"},
               {"format", analysis_schema()}};
  if (!ctx->opts->catalog->find("lead_qualification"))
    return done(rules_only);
  // At most a minute for the model's view; the rules' analysis stands without it.
  auto timeout = std::min<std::chrono::milliseconds>(std::chrono::seconds(60), ctx->time_left());
  turn["budget_ms"] = deadlines::inner(timeout).count();
  ask_or(
      ctx, ctx->opts->agents, timeout,
      [rules, rules_only, done](std::string& reply) {
        auto r = parse_json_or_throw(reply);
        auto m = r["metadata"].value("degraded", false)
                     ? json(nullptr)
                     : validated_model_analysis(r.value("response", std::string{}));
        if (m.is_null())
          return done(rules_only); // no model, or output that does not validate: rules stand
        auto final_score = combine_scores(rules.score, m["score"].get<int>());
        auto a = rules_only;
        a["lead_score"]["score"] = final_score;
        a["lead_score"]["confidence"] = m["confidence"];
        a["lead_score"]["priority"] = priority_for(final_score);
        a["lead_score"]["rules_score"] = rules.score;
        a["lead_score"]["model_score"] = m["score"];
        a["recommended_services"] = m["recommended_services"];
        a["key_insights"] = m["key_insights"];
        a["suggested_actions"] = m["suggested_actions"];
        a["estimated_value"] = m["estimated_value"];
        a["method"] = "rules+llm";
        done(a);
      },
      [rules_only, done](caf::error&) { done(rules_only); }, chat_atom_v, turn.dump(),
      caf::actor{});
}

namespace {

json lead_response(const json& lead) {
  return {{"lead_id", lead["lead_id"]},
          {"status", "received"},
          {"created_at", lead["created_at"]},
          {"analysis", lead.value("analysis", json(nullptr))}};
}

void insert_lead(const ctx_ptr& ctx, const json& row, std::function<void(int, std::string)> done,
                 std::function<void(caf::error&)> on_err) {
  ask_or(
      ctx, ctx->opts->db, ctx->db_timeout(),
      [done](std::string& lead_text) {
        done(201, lead_response(parse_json_or_throw(lead_text)).dump());
      },
      std::move(on_err), lead_new_atom_v, row.dump());
}

void prepare(const ctx_ptr& ctx, json row, bool analyze, std::function<void(json)> next);

void submit(const ctx_ptr& ctx) {
  const json* body = parse_json_object(ctx);
  if (!body)
    return;
  validator v;
  lead_submission sub;
  if (!validate_lead_request(*body, v, sub))
    return ctx->invalid(v.detail());
  auto row = sub.row;
  row["owner_id"] = ctx->who.sub.empty() ? json(nullptr) : json(ctx->who.sub);
  prepare(ctx, row, sub.analyze, [ctx](json ready) {
    insert_lead(
        ctx, ready, [ctx](int status, std::string out) { ctx->send(status, std::move(out)); },
        [ctx](caf::error& err) { ctx->fail(err); });
  });
}

/// Adds the analysis to `row` when asked (model + rules), then continues.
void prepare(const ctx_ptr& ctx, json row, bool analyze, std::function<void(json)> next) {
  if (!analyze)
    return next(std::move(row));
  auto lead = row;
  analyze_lead(ctx, lead, [row, next](json analysis) mutable {
    row["lead_score"] = analysis["lead_score"]["score"];
    row["analysis"] = std::move(analysis);
    next(std::move(row));
  });
}

void list(const ctx_ptr& ctx) {
  validator v;
  json filter = json::object();
  read_page(ctx->query_value("limit"), ctx->query_value("offset"), v, filter);
  if (auto* ms = ctx->query_value("min_score"))
    filter["min_score"] = query_int(ms, "min_score", 0, 0, 100, v);
  if (auto* st = ctx->query_value("status")) {
    static const std::vector<std::string> ok = {"new", "contacted", "qualified", "converted",
                                                "lost"};
    if (std::find(ok.begin(), ok.end(), *st) == ok.end())
      v.add({"query", "status"},
            "Input should be 'new', 'contacted', 'qualified', 'converted' or 'lost'", "enum");
    else
      filter["status"] = *st;
  }
  if (auto* a = ctx->query_value("assigned_to"); a && !a->empty())
    filter["assigned_to"] = *a;
  if (auto* s = ctx->query_value("search")) {
    auto term = trim(*s);
    if (utf8_length(term) > 200)
      v.add({"query", "search"}, "String should have at most 200 characters", "string_too_long");
    else if (!term.empty())
      filter["search"] = term;
  }
  if (!v.ok())
    return ctx->invalid(v.detail());
  ask(
      ctx, ctx->opts->db, ctx->db_timeout(),
      [ctx](std::string& out) { ctx->send(200, std::move(out)); }, lead_list_atom_v, filter.dump());
}

/// The lead id of the path, or a 404 (an id that is not a UUID names no lead).
bool lead_id(const ctx_ptr& ctx, std::string& id) {
  id = ctx->params["lead_id"];
  if (!is_uuid(id)) {
    ctx->error(404, "lead not found");
    return false;
  }
  return true;
}

void get_one(const ctx_ptr& ctx) {
  std::string id;
  if (!lead_id(ctx, id))
    return;
  ask(
      ctx, ctx->opts->db, ctx->db_timeout(),
      [ctx](std::string& out) { ctx->send(200, std::move(out)); }, lead_get_atom_v, id);
}

void patch(const ctx_ptr& ctx) {
  std::string id;
  if (!lead_id(ctx, id))
    return;
  static const json nothing = json::object();
  const json* body = &nothing; // an empty PATCH is a 422 (nothing to change), not a 400
  if (ctx->req.body.find_first_not_of(" \t\r\n") != std::string::npos &&
      !(body = parse_json_object(ctx)))
    return;
  validator v;
  json p;
  if (!validate_lead_patch(*body, v, p))
    return ctx->invalid(v.detail());
  if (p.contains("note"))
    p["author"] = ctx->who.sub;
  ask(
      ctx, ctx->opts->db, ctx->db_timeout(),
      [ctx](std::string& out) { ctx->send(200, std::move(out)); }, lead_upd_atom_v, id, p.dump());
}

void analyze(const ctx_ptr& ctx) {
  std::string id;
  if (!lead_id(ctx, id))
    return;
  auto db = ctx->opts->db;
  ask(
      ctx, db, ctx->db_timeout(),
      [ctx, id, db](std::string& lead_text) {
        analyze_lead(ctx, parse_json_or_throw(lead_text), [ctx, id, db](json analysis) {
          auto text = analysis.dump();
          ask(
              ctx, db, ctx->db_timeout(), [ctx, text](std::string&) { ctx->send(200, text); },
              lead_anl_atom_v, id, text);
        });
      },
      lead_get_atom_v, id);
}

} // namespace

void register_lead_routes(api::impl& a) {
  add_route(a, "POST", "/api/leads/submit", access::anyone, submit, true);
  add_route(a, "GET", "/api/leads", access::admin, list);
  add_route(a, "GET", "/api/leads/{lead_id}", access::admin, get_one);
  add_route(a, "PATCH", "/api/leads/{lead_id}", access::admin, patch);
  add_route(a, "POST", "/api/leads/{lead_id}/analyze", access::admin, analyze);
}

} // namespace pixelcraft::http
