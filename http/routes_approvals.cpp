// Approvals (API.md §12): the calls the tool policy held for a person. Admins decide; an
// approved call runs its stored arguments through the tool actor, and the answer carries
// its result when the vendor answered in time.
#include "http/context.hpp"
#include "http/validation.hpp"

#include <caf/send.hpp>

#include <algorithm>

namespace pixelcraft::http {

namespace {

/// An admin sees every approval; anyone else those of their own runs and chats.
approval_filter viewer_filter(const ctx_ptr& ctx) {
  approval_filter f;
  if (ctx->who.who != role::admin)
    f.viewer = ctx->who.sub;
  return f;
}

/// The approval id of the path, or a 404 (an id that is not a UUID names no approval).
bool approval_id(const ctx_ptr& ctx, std::string& id) {
  id = ctx->params["approval_id"];
  if (!is_uuid(id)) {
    ctx->error(404, "approval not found");
    return false;
  }
  return true;
}

void list(const ctx_ptr& ctx) {
  validator v;
  json page = json::object();
  read_page(ctx->query_value("limit"), ctx->query_value("offset"), v, page);
  auto f = viewer_filter(ctx);
  if (auto* st = ctx->query_value("state")) {
    static const std::vector<std::string> ok = {"pending", "approved", "denied", "expired"};
    if (std::find(ok.begin(), ok.end(), *st) == ok.end())
      v.add({"query", "state"}, "Input should be 'pending', 'approved', 'denied' or 'expired'",
            "enum");
    else
      f.state = *st;
  }
  for (auto [name, field] :
       {std::pair{"workflow_id", &f.workflow_id}, std::pair{"conversation_id", &f.conversation_id},
        std::pair{"tool", &f.tool}}) {
    if (auto* value = ctx->query_value(name)) {
      if (value->size() > 128)
        v.add({"query", name}, "String should have at most 128 characters", "string_too_long");
      else
        *field = *value;
    }
  }
  if (!v.ok())
    return ctx->invalid(v.detail());
  f.limit = page["limit"].get<int32_t>();
  f.offset = page["offset"].get<int32_t>();
  ask(
      ctx, ctx->opts->db, ctx->db_timeout(),
      [ctx](std::string& out) { ctx->send(200, std::move(out)); }, appr_list_atom_v, f);
}

void get_one(const ctx_ptr& ctx) {
  auto f = viewer_filter(ctx);
  if (!approval_id(ctx, f.approval_id))
    return;
  ask(
      ctx, ctx->opts->db, ctx->db_timeout(),
      [ctx](std::string& out) { ctx->send(200, std::move(out)); }, appr_get_atom_v, f);
}

/// The call an approval holds, as the tool actor runs it.
approved_call call_of(const json& approval) {
  auto text = [&approval](const char* key) {
    auto it = approval.find(key);
    return it != approval.end() && it->is_string() ? it->get<std::string>() : std::string{};
  };
  approved_call out;
  out.approval_id = text("approval_id");
  out.call.tool = text("tool");
  out.call.arguments = approval.value("arguments", json::object()).dump();
  out.call.agent_type = text("agent_type");
  out.call.conversation_id = text("conversation_id");
  out.call.workflow_id = text("workflow_id");
  out.call.execution_id = out.approval_id; // the vendor's idempotency key: one per approval
  if (auto it = approval.find("step"); it != approval.end() && it->is_number_integer())
    out.call.step = it->get<int32_t>();
  return out;
}

void decide(const ctx_ptr& ctx) {
  std::string id;
  if (!approval_id(ctx, id))
    return;
  const json* body = parse_json_object(ctx);
  if (!body)
    return;
  validator v;
  approval_decision d;
  d.approval_id = id;
  d.decided_by = ctx->who.sub;
  auto decision = body->find("decision");
  if (decision == body->end())
    v.add({"body", "decision"}, "Field required", "missing");
  else if (!decision->is_string() || (*decision != "approve" && *decision != "deny"))
    v.add({"body", "decision"}, "Input should be 'approve' or 'deny'", "enum");
  else
    d.approve = *decision == "approve";
  if (auto note = body->find("note"); note != body->end() && !note->is_null()) {
    if (!note->is_string())
      v.add({"body", "note"}, "Input should be a valid string", "string_type");
    else if (utf8_length(note->get<std::string>()) > 2000)
      v.add({"body", "note"}, "String should have at most 2000 characters", "string_too_long");
    else if (has_control_chars(note->get<std::string>(), true))
      v.add({"body", "note"}, "String should not contain control characters", "value_error");
    else
      d.note = note->get<std::string>();
  }
  for (const auto& [key, _] : body->items())
    if (key != "decision" && key != "note")
      v.add({"body", key}, "Extra inputs are not permitted", "extra_forbidden");
  if (!v.ok())
    return ctx->invalid(v.detail());
  bool approve = d.approve;
  auto decide_now = [ctx, approve, d]() mutable {
    ask(
        ctx, ctx->opts->db, ctx->db_timeout(),
        [ctx, approve](std::string& decided) {
          auto doc = parse_json_or_throw(decided); // rendered by our SQL
          // A workflow step waiting for this decision looks now (it also looks every second).
          auto notify = [ctx, doc] {
            if (ctx->opts->workflows && doc["workflow_id"].is_string())
              caf::anon_send(ctx->opts->workflows, wf_approval_atom_v,
                             doc["workflow_id"].get<std::string>());
          };
          if (!approve || !ctx->opts->tools) {
            notify();
            return ctx->send(200, std::move(decided));
          }
          auto timeout = std::min(ctx->time_left(), ctx->opts->approved_call_timeout);
          // The decision is stored: the call runs once, and its result joins the record.
          ask_or(
              ctx, ctx->opts->tools, timeout,
              [ctx, doc, notify](std::string& result) mutable {
                doc["result"] = parse_json(result);
                notify();
                ctx->send_json(200, doc);
              },
              [ctx, doc, notify](caf::error&) {
                notify();
                ctx->send_json(200, doc);
              },
              tool_approved_atom_v, call_of(doc));
        },
        appr_decide_atom_v, std::move(d));
  };
  if (!approve)
    return decide_now();
  // A held call of a workflow that has ended does not run any more: its step is over.
  approval_filter f;
  f.approval_id = id;
  ask(
      ctx, ctx->opts->db, ctx->db_timeout(),
      [ctx, decide_now](std::string& text) mutable {
        auto held = parse_json_or_throw(text); // rendered by our SQL
        if (!held["workflow_id"].is_string())
          return decide_now();
        ask<run_row>(
            ctx, ctx->opts->db, ctx->db_timeout(),
            [ctx, decide_now](run_row& row) mutable {
              const auto& state = row.current_state;
              if (state == "completed" || state == "failed" || state == "cancelled")
                return ctx->error(409, "the workflow has ended (" + state +
                                           "); its held calls can no longer run");
              decide_now();
            },
            run_load_atom_v, held["workflow_id"].get<std::string>());
      },
      appr_get_atom_v, f);
}

} // namespace

void register_approval_routes(api::impl& a) {
  add_route(a, "GET", "/api/approvals", access::user, list);
  add_route(a, "GET", "/api/approvals/{approval_id}", access::user, get_one);
  add_route(a, "POST", "/api/approvals/{approval_id}", access::admin, decide);
}

} // namespace pixelcraft::http
