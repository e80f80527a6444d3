// Approvals (API.md §12). The arguments stored here are the ones that run if a person approves;
// deciding is one conditional UPDATE, so two concurrent decisions cannot both win.
#include "persistence/detail.hpp"

#include <algorithm>

namespace pixelcraft::persistence::detail {

namespace {

/// The filter as the jsonb argument of `paged_list` (strings cleaned, page bounded).
std::string filter_document(const approval_filter& f) {
  nlohmann::json j = {{"viewer", pg_text(f.viewer)},
                      {"state", pg_text(f.state)},
                      {"workflow_id", pg_text(f.workflow_id)},
                      {"conversation_id", pg_text(f.conversation_id)},
                      {"tool", pg_text(f.tool)},
                      {"limit", std::clamp<int32_t>(f.limit, 1, 500)},
                      {"offset", std::max<int32_t>(f.offset, 0)}};
  return j.dump();
}

// An empty viewer is an admin; anyone else sees the approvals of their own runs and chats.
constexpr const char* filter_sql =
    "(($1::jsonb->>'viewer') = '' OR a.owner_id = ($1::jsonb->>'viewer'))"
    " AND (($1::jsonb->>'state') = '' OR pixelcraft_approval_state(a) = ($1::jsonb->>'state'))"
    " AND (($1::jsonb->>'workflow_id') = ''"
    "      OR a.workflow_execution_id = ($1::jsonb->>'workflow_id'))"
    " AND (($1::jsonb->>'conversation_id') = ''"
    "      OR a.conversation_id = ($1::jsonb->>'conversation_id'))"
    " AND (($1::jsonb->>'tool') = '' OR a.tool = ($1::jsonb->>'tool'))";

std::string one_or_throw(const pqxx::result& r) {
  if (r.empty())
    throw db_error(errc::not_found, "approval not found");
  return r[0][0].as<std::string>();
}

} // namespace

namespace {

/// A replay's or fork's approval: the source's decision, note, result and expiry, copied once
/// (the dedupe key keeps it one). The step that raises it is answered as the source's step
/// was when it raised its own: pending.
std::string approval_copy(pqxx::work& w, const approval_request& in) {
  auto r = exec_cached(
      w,
      "INSERT INTO approvals (state, tool, effect, agent_type, arguments, reason,"
      " workflow_execution_id, conversation_id, step, owner_id, dedupe_key, requested_at,"
      " expires_at, decided_at, decided_by, note, result)"
      " SELECT s.state, s.tool, s.effect, s.agent_type, s.arguments, s.reason, nullif($2, ''),"
      "   nullif($3, ''), s.step, nullif($4, ''), $5, now(), s.expires_at, s.decided_at,"
      "   s.decided_by, s.note, s.result"
      " FROM approvals s WHERE s.dedupe_key = $1"
      " ON CONFLICT (dedupe_key) DO NOTHING"
      " RETURNING (pixelcraft_approval_json(approvals)"
      "   || '{\"state\": \"pending\", \"result\": null}'::jsonb)::text",
      pg_text(in.copy_from), pg_text(in.workflow_id), pg_text(in.conversation_id),
      pg_text(in.owner_id), pg_text(in.dedupe_key));
  if (!r.empty())
    return r[0][0].as<std::string>();
  auto existing = exec_cached(
      w, "SELECT pixelcraft_approval_json(a)::text FROM approvals a WHERE a.dedupe_key = $1",
      pg_text(in.dedupe_key));
  if (existing.empty())
    throw db_error{errc::not_found, "the replayed execution raised no such approval"};
  return existing[0][0].as<std::string>();
}

} // namespace

std::string approval_add(pqxx::connection& c, const approval_request& in) {
  auto args = pg_json_text(in.arguments);
  pqxx::work w{c};
  if (!in.copy_from.empty() && !in.dedupe_key.empty()) {
    auto out = approval_copy(w, in);
    w.commit();
    return out;
  }
  // With a dedupe key, the first request's approval is the answer to every later one.
  auto r = exec_cached(
      w,
      "INSERT INTO approvals (tool, effect, agent_type, arguments, reason, workflow_execution_id,"
      " conversation_id, step, owner_id, dedupe_key, expires_at)"
      " VALUES ($1, $2, $3, $4::jsonb, $5, nullif($6, ''), nullif($7, ''), nullif($8, 0),"
      "         nullif($9, ''), nullif($10, ''),"
      "         now() + make_interval(secs => $11))"
      " ON CONFLICT (dedupe_key) DO NOTHING"
      " RETURNING pixelcraft_approval_json(approvals)::text",
      pg_text(in.tool), pg_text(in.effect), pg_text(in.agent_type), args, pg_text(in.reason),
      pg_text(in.workflow_id), pg_text(in.conversation_id), std::max<int32_t>(in.step, 0),
      pg_text(in.owner_id), pg_text(in.dedupe_key), std::max<int32_t>(in.ttl_s, 1));
  std::string out;
  if (!r.empty())
    out = r[0][0].as<std::string>();
  else
    out = one_or_throw(exec_cached(w,
                                   "SELECT pixelcraft_approval_json(a)::text FROM approvals a"
                                   " WHERE a.dedupe_key = $1",
                                   pg_text(in.dedupe_key)));
  w.commit();
  return out;
}

std::string approval_get(pqxx::connection& c, const approval_filter& f) {
  pqxx::read_transaction t{c};
  return one_or_throw(exec_cached(t,
                                  "SELECT pixelcraft_approval_json(a)::text FROM approvals a"
                                  " WHERE a.id::text = $1 AND ($2 = '' OR a.owner_id = $2)",
                                  pg_text(f.approval_id), pg_text(f.viewer)));
}

std::string approval_list(pqxx::connection& c, const approval_filter& f) {
  pqxx::read_transaction t{c};
  return paged_list(t, "approvals", "a", filter_sql, "pixelcraft_approval_json(a)",
                    "a.requested_at DESC, a.id DESC", filter_document(f));
}

std::string approval_decide(pqxx::connection& c, const approval_decision& d) {
  pqxx::work w{c};
  auto r = exec_cached(w,
                       "UPDATE approvals a SET state = $2, decided_at = now(), decided_by = $3,"
                       " note = nullif($4, '')"
                       " WHERE a.id::text = $1 AND a.state = 'pending' AND a.expires_at > now()"
                       " RETURNING pixelcraft_approval_json(a)::text",
                       pg_text(d.approval_id), d.approve ? "approved" : "denied",
                       pg_text(d.decided_by), pg_text(d.note));
  if (r.empty()) {
    auto exists =
        exec_cached(w, "SELECT 1 FROM approvals WHERE id::text = $1", pg_text(d.approval_id));
    if (exists.empty())
      throw db_error(errc::not_found, "approval not found");
    throw db_error(errc::failed_precondition, "the approval was already decided or has expired");
  }
  w.commit();
  return r[0][0].as<std::string>();
}

std::string approval_set_result(pqxx::connection& c, const std::string& id,
                                const std::string& result) {
  auto doc = pg_json_text(result);
  pqxx::work w{c};
  auto out = one_or_throw(exec_cached(w,
                                      "UPDATE approvals a SET result = $2::jsonb"
                                      " WHERE a.id::text = $1"
                                      " RETURNING pixelcraft_approval_json(a)::text",
                                      pg_text(id), doc));
  w.commit();
  return out;
}

} // namespace pixelcraft::persistence::detail
