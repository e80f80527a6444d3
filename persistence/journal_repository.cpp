// The step journal (API.md §13). Begin is one INSERT ... ON CONFLICT: whoever records a call
// first runs it; anyone later learns what became of it.
#include "persistence/detail.hpp"

namespace pixelcraft::persistence::detail {

namespace {

/// A replay's or fork's new entry takes the source execution's outcome of the same call. Tool
/// calls are found by their key (the same arguments); model calls by their place among the
/// step's model calls, since a request names its own execution and so never hashes the same.
void take_from_source(pqxx::transaction_base& w, const journal_call& in, journal_entry& out) {
  auto source =
      in.kind == "model"
          ? exec_cached(w,
                        "SELECT status, coalesce(result::text, '') FROM step_journal"
                        " WHERE workflow_execution_id::text = $1 AND step = $2 AND agent = $3"
                        "   AND kind = 'model'"
                        " ORDER BY call OFFSET (SELECT count(*) - 1 FROM step_journal"
                        "   WHERE workflow_execution_id = $4::uuid AND step = $2 AND agent = $3"
                        "     AND kind = 'model') LIMIT 1",
                        pg_text(in.source_workflow_id), in.step, pg_text(in.agent),
                        pg_text(in.workflow_id))
          : exec_cached(w,
                        "SELECT status, coalesce(result::text, '') FROM step_journal"
                        " WHERE workflow_execution_id::text = $1 AND step = $2 AND agent = $3"
                        "   AND call_key = $4",
                        pg_text(in.source_workflow_id), in.step, pg_text(in.agent),
                        pg_text(in.call_key));
  bool found = !source.empty() && source[0][0].as<std::string>() != "started";
  out.status = found ? source[0][0].as<std::string>() : std::string{"missing"};
  out.result = found ? source[0][1].as<std::string>()
                     : std::string{R"({"success":false,"error":"the replayed execution has no )"
                                   R"(recorded outcome of this call"})"};
  exec_cached0(w,
               "UPDATE step_journal SET status = $5, result = $6::jsonb, finished_at = now()"
               " WHERE workflow_execution_id = $1::uuid AND step = $2 AND agent = $3"
               " AND call_key = $4",
               pg_text(in.workflow_id), in.step, pg_text(in.agent), pg_text(in.call_key),
               found ? out.status : std::string{"failed"}, out.result);
}

} // namespace

journal_entry journal_begin(pqxx::connection& c, const journal_call& in) {
  return committed(c, [&](pqxx::transaction_base& w) { return journal_begin(w, in); });
}

bool journal_end(pqxx::connection& c, const journal_call& in) {
  return committed(c, [&](pqxx::transaction_base& w) { return journal_end(w, in); });
}

journal_entry journal_begin(pqxx::transaction_base& w, const journal_call& in) {
  if (in.lease_epoch > 0) {
    // The fence: a run whose lease another node took over records and runs nothing more.
    auto r = exec_cached(w,
                         "SELECT 1 FROM workflow_executions WHERE id = $1::uuid"
                         " AND lease_epoch = $2",
                         pg_text(in.workflow_id), in.lease_epoch);
    if (r.empty())
      throw db_error{errc::aborted, "the run's lease moved to another node"};
  }
  auto request = pg_json_text(in.request);
  auto r = exec_cached(
      w,
      "INSERT INTO step_journal (workflow_execution_id, step, agent, call_key, call, kind, name,"
      " request)"
      " SELECT $1::uuid, $2, $3, $4,"
      "   (SELECT coalesce(max(call), 0) + 1 FROM step_journal"
      "     WHERE workflow_execution_id = $1::uuid AND step = $2),"
      "   $5, $6, $7::jsonb"
      " ON CONFLICT DO NOTHING RETURNING call",
      pg_text(in.workflow_id), in.step, pg_text(in.agent), pg_text(in.call_key), pg_text(in.kind),
      pg_text(in.name), request);
  journal_entry out;
  if (!r.empty()) {
    out.status = "new";
    out.call = r[0][0].as<int32_t>();
    if (!in.source_workflow_id.empty())
      take_from_source(w, in, out);
  } else {
    auto row =
        exec_cached1(w,
                     "SELECT status, coalesce(result::text, ''), call FROM step_journal"
                     " WHERE workflow_execution_id = $1::uuid AND step = $2"
                     " AND agent = $3 AND call_key = $4",
                     pg_text(in.workflow_id), in.step, pg_text(in.agent), pg_text(in.call_key));
    out.status = row[0].as<std::string>();
    out.result = row[1].as<std::string>();
    out.call = row[2].as<int32_t>();
  }
  return out;
}

bool journal_end(pqxx::transaction_base& w, const journal_call& in) {
  auto result = pg_json_text(in.result);
  exec_cached0(w,
               "UPDATE step_journal SET status = $5, result = $6::jsonb, finished_at = now()"
               " WHERE workflow_execution_id = $1::uuid AND step = $2 AND agent = $3"
               " AND call_key = $4",
               pg_text(in.workflow_id), in.step, pg_text(in.agent), pg_text(in.call_key),
               pg_text(in.status), result);
  return true;
}

std::string journal_list(pqxx::connection& c, const std::string& workflow_id) {
  pqxx::read_transaction t{c};
  auto r = exec_cached1(
      t,
      "SELECT coalesce(jsonb_agg(jsonb_build_object("
      "  'step', j.step, 'call', j.call, 'agent', j.agent, 'kind', j.kind, 'name', j.name,"
      "  'status', j.status, 'request', j.request, 'result', j.result,"
      "  'started_at', pixelcraft_ts(j.started_at), 'finished_at', pixelcraft_ts(j.finished_at),"
      "  'duration_ms', round(extract(epoch FROM j.finished_at - j.started_at) * 1000, 3))"
      "  ORDER BY j.step, j.call, j.agent), '[]'::jsonb)::text, count(*)"
      " FROM step_journal j WHERE j.workflow_execution_id::text = $1",
      pg_text(workflow_id));
  return std::string{"{\"items\":"} + r[0].c_str() + ",\"total\":" + r[1].c_str() + "}";
}

} // namespace pixelcraft::persistence::detail
