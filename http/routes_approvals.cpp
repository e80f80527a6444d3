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
  ask<approval_page>(
      ctx, ctx->opts->db, ctx->db_timeout(),
      [ctx](approval_page& page) {
        std::string body = R"({"items":[)";
        for (size_t i = 0; i < page.items.size(); ++i) {
          if (i > 0)
            body += ',';
          body += page.items[i].document;
        }
        body += "],\"total\":" + std::to_string(page.total) + "}";
        ctx->send(200, std::move(body));
      },
      appr_list_atom_v, f);
}

void get_one(const ctx_ptr& ctx) {
  auto f = viewer_filter(ctx);
  if (!approval_id(ctx, f.approval_id))
    return;
  ask<approval>(
      ctx, ctx->opts->db, ctx->db_timeout(),
      [ctx](approval& a) { ctx->send(200, std::move(a.document)); }, appr_get_atom_v, f);
}

/// The call an approval holds, as the tool actor runs it.
approved_call call_of(const approval& a) {
  approved_call out;
  out.approval_id = a.id;
  out.call.tool = a.tool;
  out.call.arguments = a.arguments;
  out.call.agent_type = a.agent_type;
  out.call.conversation_id = a.conversation_id;
  out.call.workflow_id = a.workflow_id;
  out.call.execution_id = a.id; // the vendor's idempotency key: one per approval
  out.call.step = a.step;
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
    ask<approval>(
        ctx, ctx->opts->db, ctx->db_timeout(),
        [ctx, approve](approval& decided) {
          // A workflow step waiting for this decision looks now (it also looks every second).
          auto notify = [ctx, run = decided.workflow_id] {
            if (ctx->opts->workflows && !run.empty())
              caf::anon_send(ctx->opts->workflows, wf_approval_atom_v, run);
          };
          if (!approve || !ctx->opts->tools) {
            notify();
            return ctx->send(200, std::move(decided.document));
          }
          auto timeout = std::min(ctx->time_left(), ctx->opts->approved_call_timeout);
          // The decision is stored: the call runs once, and its result joins the record.
          auto call = call_of(decided);
          const auto& doc = decided.document;
          ask_or<tool_result>(
              ctx, ctx->opts->tools, timeout,
              [ctx, doc, notify](tool_result& result) {
                auto out = parse_json_or_throw(doc); // rendered by our SQL
                out["result"] = parse_json(result.content);
                notify();
                ctx->send_json(200, out);
              },
              [ctx, doc, notify](caf::error&) {
                notify();
                ctx->send(200, doc);
              },
              tool_approved_atom_v, std::move(call));
        },
        appr_decide_atom_v, std::move(d));
  };
  if (!approve)
    return decide_now();
  // A held call of a workflow that has ended does not run any more: its step is over.
  approval_filter f;
  f.approval_id = id;
  ask<approval>(
      ctx, ctx->opts->db, ctx->db_timeout(),
      [ctx, decide_now](approval& held) mutable {
        if (held.workflow_id.empty())
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
            run_load_atom_v, held.workflow_id);
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
