// Leads (API.md §6). Validation and rule scoring run on the I/O thread (microseconds); every
// database step is an actor request that answers later.
#include "http/context.hpp"
#include "http/validation.hpp"

#include <algorithm>
#include <cstdint>

namespace pixelcraft::http {

namespace {

/// The lead analyst's `LeadAnalysis` for `lead` (rules alone if it does not answer in time).
void analyze_lead(const ctx_ptr& ctx, const json& lead, std::function<void(json)> done) {
  auto profile = lead_profile_of(lead);
  ask_or(
      ctx, ctx->opts->leads, ctx->time_left(),
      [done](std::string& analysis) { done(parse_json_or_throw(analysis)); },
      [done, profile](caf::error&) { done(parse_json_or_throw(rules_only_analysis(profile))); },
      lead_analyze_atom_v, profile,
      static_cast<uint32_t>(std::min<int64_t>(ctx->time_left().count(), UINT32_MAX)));
}

// The validated request (JSON from the validators) as the lead store's typed messages.

lead_input lead_input_of(const json& row) {
  lead_input in;
  in.name = string_or(row, "name");
  in.email = string_or(row, "email");
  in.company = string_or(row, "company");
  in.phone = string_or(row, "phone");
  in.message = string_or(row, "message");
  in.services_interested = strings_or_none(row, "services_interested");
  in.budget_range = string_or(row, "budget_range");
  in.timeline = string_or(row, "timeline");
  in.source = string_or(row, "source");
  in.owner_id = string_or(row, "owner_id");
  if (auto it = row.find("analysis"); it != row.end() && it->is_object())
    in.analysis = it->dump();
  if (auto it = row.find("lead_score"); it != row.end() && it->is_number_integer())
    in.lead_score = it->get<int32_t>();
  return in;
}

lead_patch lead_patch_of(const json& p, const std::string& author) {
  lead_patch out;
  out.status = string_or(p, "status");
  if (auto it = p.find("assigned_to"); it != p.end()) {
    out.set_assignee = true;
    out.assigned_to = it->is_string() ? it->get<std::string>() : std::string{};
  }
  out.note = string_or(p, "note");
  out.author = author;
  if (auto it = p.find("metadata"); it != p.end() && it->is_object())
    out.metadata = it->dump();
  return out;
}

json lead_response(const json& lead) {
  return {{"lead_id", lead["lead_id"]},
          {"status", "received"},
          {"created_at", lead["created_at"]},
          {"analysis", lead.value("analysis", json(nullptr))}};
}

void insert_lead(const ctx_ptr& ctx, const json& row, std::function<void(int, std::string)> done,
                 std::function<void(caf::error&)> on_err) {
  ask_or(
      ctx, ctx->opts->db, ctx->lane_timeout(),
      [done](std::string& lead_text) {
        done(201, lead_response(parse_json_or_throw(lead_text)).dump());
      },
      std::move(on_err), lead_new_atom_v, lead_input_of(row));
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
  lead_filter f;
  f.limit = filter["limit"].get<int32_t>();
  f.offset = filter["offset"].get<int32_t>();
  f.min_score = filter.contains("min_score") ? filter["min_score"].get<int32_t>() : -1;
  f.status = string_or(filter, "status");
  f.assigned_to = string_or(filter, "assigned_to");
  f.search = string_or(filter, "search");
  ask(
      ctx, ctx->opts->db, ctx->db_timeout(),
      [ctx](std::string& out) { ctx->send(200, std::move(out)); }, lead_list_atom_v, f);
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
  ask(
      ctx, ctx->opts->db, ctx->db_timeout(),
      [ctx](std::string& out) { ctx->send(200, std::move(out)); }, lead_upd_atom_v, id,
      lead_patch_of(p, ctx->who.sub));
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
