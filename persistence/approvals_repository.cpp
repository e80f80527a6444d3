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

/// What every statement returns of an approval row `a`: its document, then the typed fields
/// (`approval_of` reads them in this order).
#define APPROVAL_COLUMNS                                                                           \
  "pixelcraft_approval_json(a)::text, a.id::text, pixelcraft_approval_state(a), a.tool,"           \
  " a.agent_type, a.arguments::text, coalesce(a.workflow_execution_id, ''),"                       \
  " coalesce(a.conversation_id, ''), coalesce(a.step, 0), coalesce(a.note, ''),"                   \
  " coalesce(a.result::text, '')"

approval approval_of(const pqxx::row& r) {
  approval out;
  out.document = r[0].as<std::string>();
  out.id = r[1].as<std::string>();
  out.state = r[2].as<std::string>();
  out.tool = r[3].as<std::string>();
  out.agent_type = r[4].as<std::string>();
  out.arguments = r[5].as<std::string>();
  out.workflow_id = r[6].as<std::string>();
  out.conversation_id = r[7].as<std::string>();
  out.step = r[8].as<int32_t>();
  out.note = r[9].as<std::string>();
  out.result = r[10].as<std::string>();
  return out;
}

approval one_or_throw(const pqxx::result& r) {
  if (r.empty())
    throw db_error(errc::not_found, "approval not found");
  return approval_of(r[0]);
}

} // namespace

namespace {

/// A replay's or fork's approval: the source's decision, note, result and expiry, copied once
/// (the dedupe key keeps it one). The step that raises it is answered as the source's step
/// was when it raised its own: pending.
approval approval_copy(pqxx::work& w, const approval_request& in) {
  auto r = exec_cached(
      w,
      "INSERT INTO approvals AS a (state, tool, effect, agent_type, arguments, reason,"
      " workflow_execution_id, conversation_id, step, owner_id, dedupe_key, requested_at,"
      " expires_at, decided_at, decided_by, note, result)"
      " SELECT s.state, s.tool, s.effect, s.agent_type, s.arguments, s.reason, nullif($2, ''),"
      "   nullif($3, ''), s.step, nullif($4, ''), $5, now(), s.expires_at, s.decided_at,"
      "   s.decided_by, s.note, s.result"
      " FROM approvals s WHERE s.dedupe_key = $1"
      " ON CONFLICT (dedupe_key) DO NOTHING"
      // The step that raises it sees it as its source's step did: pending, with no result.
      " RETURNING (pixelcraft_approval_json(a)"
      "   || '{\"state\": \"pending\", \"result\": null}'::jsonb)::text,"
      " a.id::text, 'pending', a.tool, a.agent_type, a.arguments::text,"
      " coalesce(a.workflow_execution_id, ''), coalesce(a.conversation_id, ''),"
      " coalesce(a.step, 0), coalesce(a.note, ''), ''",
      pg_text(in.copy_from), pg_text(in.workflow_id), pg_text(in.conversation_id),
      pg_text(in.owner_id), pg_text(in.dedupe_key));
  if (!r.empty())
    return approval_of(r[0]);
  auto existing =
      exec_cached(w, "SELECT " APPROVAL_COLUMNS " FROM approvals a WHERE a.dedupe_key = $1",
                  pg_text(in.dedupe_key));
  if (existing.empty())
    throw db_error{errc::not_found, "the replayed execution raised no such approval"};
  return approval_of(existing[0]);
}

} // namespace

approval approval_add(pqxx::connection& c, const approval_request& in) {
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
      "INSERT INTO approvals AS a (tool, effect, agent_type, arguments, reason, "
      "workflow_execution_id,"
      " conversation_id, step, owner_id, dedupe_key, expires_at)"
      " VALUES ($1, $2, $3, $4::jsonb, $5, nullif($6, ''), nullif($7, ''), nullif($8, 0),"
      "         nullif($9, ''), nullif($10, ''),"
      "         now() + make_interval(secs => $11))"
      " ON CONFLICT (dedupe_key) DO NOTHING"
      " RETURNING " APPROVAL_COLUMNS,
      pg_text(in.tool), pg_text(in.effect), pg_text(in.agent_type), args, pg_text(in.reason),
      pg_text(in.workflow_id), pg_text(in.conversation_id), std::max<int32_t>(in.step, 0),
      pg_text(in.owner_id), pg_text(in.dedupe_key), std::max<int32_t>(in.ttl_s, 1));
  approval out;
  if (!r.empty())
    out = approval_of(r[0]);
  else
    out = one_or_throw(
        exec_cached(w, "SELECT " APPROVAL_COLUMNS " FROM approvals a WHERE a.dedupe_key = $1",
                    pg_text(in.dedupe_key)));
  w.commit();
  return out;
}

approval approval_get(pqxx::connection& c, const approval_filter& f) {
  pqxx::read_transaction t{c};
  return one_or_throw(exec_cached(t,
                                  "SELECT " APPROVAL_COLUMNS " FROM approvals a"
                                  " WHERE a.id::text = $1 AND ($2 = '' OR a.owner_id = $2)",
                                  pg_text(f.approval_id), pg_text(f.viewer)));
}

approval_page approval_list(pqxx::connection& c, const approval_filter& f) {
  pqxx::read_transaction t{c};
  auto args = filter_document(f);
  approval_page out;
  out.total =
      t.exec_params1(std::string{"SELECT count(*) FROM approvals a WHERE "} + filter_sql, args)[0]
          .as<int64_t>();
  auto rows = t.exec_params(std::string{"SELECT " APPROVAL_COLUMNS " FROM approvals a WHERE "} +
                                filter_sql +
                                " ORDER BY a.requested_at DESC, a.id DESC"
                                " LIMIT ($1::jsonb->>'limit')::int"
                                " OFFSET ($1::jsonb->>'offset')::int",
                            args);
  out.items.reserve(rows.size());
  for (const auto& r : rows)
    out.items.push_back(approval_of(r));
  return out;
}

approval approval_decide(pqxx::connection& c, const approval_decision& d) {
  pqxx::work w{c};
  auto r = exec_cached(w,
                       "UPDATE approvals a SET state = $2, decided_at = now(), decided_by = $3,"
                       " note = nullif($4, '')"
                       " WHERE a.id::text = $1 AND a.state = 'pending' AND a.expires_at > now()"
                       " RETURNING " APPROVAL_COLUMNS,
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
  return approval_of(r[0]);
}

approval approval_set_result(pqxx::connection& c, const std::string& id,
                             const std::string& result) {
  auto doc = pg_json_text(result);
  pqxx::work w{c};
  auto out = one_or_throw(exec_cached(w,
                                      "UPDATE approvals a SET result = $2::jsonb"
                                      " WHERE a.id::text = $1"
                                      " RETURNING " APPROVAL_COLUMNS,
                                      pg_text(id), doc));
  w.commit();
  return out;
}

} // namespace pixelcraft::persistence::detail
