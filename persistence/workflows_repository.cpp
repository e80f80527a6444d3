// Workflow executions, their events, agent messages and shared memory (db_op_atom).
#include "actors/agent_message.hpp"
#include "actors/json_limits.hpp"
#include "persistence/detail.hpp"

#include <nlohmann/json.hpp>

namespace pixelcraft::persistence::detail {

namespace {

using json = nlohmann::json;

const char* visible_sql =
    " AND ($1::jsonb->>'admin' = 'true' OR w.owner_id = $1::jsonb->>'owner_id')";

std::string one_or_404(const pqxx::result& r, const char* what) {
  if (r.empty())
    throw db_error{errc::not_found, std::string{what} + " not found"};
  return r[0][0].c_str();
}

} // namespace

std::string wf_create(pqxx::connection& c, const json& a) {
  pqxx::work w{c};
  auto r = exec_cached1(
      w,
      "INSERT INTO workflow_executions (workflow_type, participating_agents, conversation_id,"
      " workflow_config, input_data, metadata, owner_id, owner_admin, replay_source,"
      " replay_live_from) SELECT j->>'workflow_type',"
      " j->'participating_agents', j->>'conversation_id', j->'workflow_config', j->'input_data',"
      " coalesce(nullif(j->'metadata', 'null'::jsonb), '{}'::jsonb), j->>'owner_id',"
      " coalesce((j->>'owner_admin')::boolean, false), (j->>'replay_source')::uuid,"
      " (j->>'replay_live_from')::int"
      " FROM (SELECT $1::jsonb AS j) s RETURNING "
      "pixelcraft_workflow_json(workflow_executions)::text",
      a.dump());
  w.commit();
  return r[0].c_str();
}

std::string wf_get(pqxx::connection& c, const json& a) {
  pqxx::read_transaction t{c};
  return one_or_404(
      exec_cached(t,
                  std::string{"SELECT pixelcraft_workflow_json(w)::text FROM workflow_executions w"
                              " WHERE w.id = ($1::jsonb->>'workflow_id')::uuid"} +
                      visible_sql,
                  a.dump()),
      "workflow");
}

/// Everything the run actor needs, including its configuration and input.
std::string wf_load(pqxx::connection& c, const json& a) {
  pqxx::read_transaction t{c};
  return one_or_404(
      exec_cached(t,
                  "SELECT (pixelcraft_workflow_json(w) || jsonb_build_object("
                  " 'workflow_config', w.workflow_config, 'input_data', w.input_data,"
                  " 'owner_id', w.owner_id, 'owner_admin', w.owner_admin, 'last_event_seq',"
                  " w.last_event_seq, 'replay_source', w.replay_source, 'replay_live_from',"
                  " w.replay_live_from, 'lease_owner', CASE WHEN w.lease_expires_at > now()"
                  " THEN w.lease_owner END))::text"
                  " FROM workflow_executions w WHERE w.id = $1::uuid",
                  a.value("workflow_id", std::string{})),
      "workflow");
}

std::string wf_list(pqxx::connection& c, const json& a) {
  pqxx::read_transaction t{c};
  std::string where = std::string{"true"} + visible_sql +
                      " AND ($1::jsonb->>'conversation_id' IS NULL OR w.conversation_id ="
                      " $1::jsonb->>'conversation_id')"
                      " AND ($1::jsonb->>'workflow_type' IS NULL OR w.workflow_type ="
                      " $1::jsonb->>'workflow_type')"
                      " AND ($1::jsonb->>'current_state' IS NULL OR w.current_state ="
                      " $1::jsonb->>'current_state')";
  return paged_list(t, "workflow_executions", "w", where, "pixelcraft_workflow_json(w)",
                    "w.started_at DESC, w.id", a.dump());
}

/// Takes (or renews) the execution's lease for `node`: only one node runs an execution.
/// Returns the execution with its new `lease_epoch`, or `errc::aborted` if another node holds it.
/// A renewal keeps the epoch; a `fresh` claim (a new run actor, even on the node that holds the
/// lease) always moves it on, so whatever an earlier run of this node still has in flight (a
/// save queued for a commit lane) is refused.
std::string wf_claim(pqxx::connection& c, const json& a) {
  pqxx::work w{c};
  auto r = exec_cached(
      w,
      "UPDATE workflow_executions w SET lease_owner = $2, lease_epoch = CASE WHEN NOT $4 AND"
      " w.lease_owner = $2 AND w.lease_expires_at > now() THEN w.lease_epoch ELSE w.lease_epoch + "
      "1 END,"
      " lease_expires_at = now() + make_interval(secs => $3) WHERE w.id = $1::uuid"
      " AND (w.lease_owner IS NULL OR w.lease_owner = $2 OR w.lease_expires_at < now())"
      " RETURNING w.lease_epoch",
      a.value("workflow_id", std::string{}), a.value("node", std::string{}), a.value("lease_s", 30),
      a.value("fresh", false));
  w.commit();
  if (r.empty())
    throw db_error{errc::aborted, "the workflow is run by another node"};
  return json{{"lease_epoch", r[0][0].as<long long>()}}.dump();
}

/// Ids of executions that should be running but whose lease is free or expired (`limit`).
std::string wf_resumable(pqxx::connection& c, const json& a) {
  pqxx::read_transaction t{c};
  // Oldest first, at most `limit` (the caller's free capacity).
  auto r =
      exec_cached1(t,
                   "SELECT coalesce(jsonb_agg(id), '[]'::jsonb)::text FROM (SELECT id FROM"
                   " workflow_executions WHERE current_state IN ('pending', 'running', 'paused',"
                   " 'awaiting_approval') AND (lease_owner IS NULL OR lease_expires_at < now())"
                   " ORDER BY started_at LIMIT $1) x",
                   a.value("limit", 100000));
  return std::string{"{\"ids\":"} + r[0].c_str() + "}";
}

/// Saves progress if the caller still holds the lease epoch (fencing), and appends the events
/// given, numbered in order. Returns the execution and the events with their `seq`. Two
/// statements whatever the number of events: the fenced update reserves their numbers, one
/// insert stores them all.
std::string wf_save(pqxx::transaction_base& w, const json& a) {
  auto id = a.value("workflow_id", std::string{});
  auto events_in = a.value("events", json::array());
  if (!events_in.is_array())
    throw db_error{errc::invalid_argument, "events must be an array"};
  auto n = static_cast<long long>(events_in.size());
  auto r = exec_cached(
      w,
      "UPDATE workflow_executions w SET current_state = coalesce(j->>'current_state', "
      "w.current_state),"
      " current_step = coalesce((j->>'current_step')::int, w.current_step),"
      " execution_path = coalesce(j->'execution_path', w.execution_path),"
      " results = coalesce(j->'results', w.results),"
      " error_message = CASE WHEN j ? 'error_message' THEN j->>'error_message' ELSE "
      "w.error_message END,"
      " completed_at = CASE WHEN (j->>'completed')::boolean THEN now() ELSE w.completed_at END,"
      " lease_owner = CASE WHEN (j->>'completed')::boolean THEN NULL ELSE w.lease_owner END,"
      " last_event_seq = w.last_event_seq + $2, updated_at = now()"
      " FROM (SELECT $1::jsonb AS j) s WHERE w.id = (j->>'workflow_id')::uuid"
      " AND w.lease_epoch = (j->>'lease_epoch')::bigint RETURNING "
      "pixelcraft_workflow_json(w)::text, w.last_event_seq, pixelcraft_ts(now())",
      a.dump(), n);
  if (r.empty())
    throw db_error{errc::aborted, "lease lost"};
  auto first = r[0][1].as<long long>() - n + 1;
  auto ts = r[0][2].as<std::string>(); // created_at of every event: the transaction's now()
  json events = json::array();
  if (n > 0) {
    json rows = json::array();
    for (const auto& e : events_in)
      rows.push_back({{"event_type", e.value("event_type", std::string{})},
                      {"data", e.value("data", json::object())}});
    exec_cached(w,
                "INSERT INTO workflow_events (workflow_execution_id, seq, event_type, data)"
                " SELECT $1::uuid, $2 + x.n - 1, x.e->>'event_type', x.e->'data'"
                " FROM jsonb_array_elements($3::jsonb) WITH ORDINALITY AS x(e, n)",
                id, first, rows.dump());
    long long seq = first;
    for (auto& e : rows)
      events.push_back({{"seq", seq++},
                        {"event_type", std::move(e["event_type"])},
                        {"timestamp", ts},
                        {"data", std::move(e["data"])}});
  }
  return json{{"workflow", parse_json_or_throw(r[0][0].c_str())}, {"events", events}}.dump();
}

std::string wf_save(pqxx::connection& c, const json& a) {
  return committed(c, [&](pqxx::transaction_base& w) { return wf_save(w, a); });
}

std::string wf_events(pqxx::connection& c, const json& a) {
  pqxx::read_transaction t{c};
  auto r = exec_cached1(
      t,
      "SELECT coalesce(jsonb_agg(jsonb_build_object('seq', seq, 'event_type', event_type, 'data',"
      " data, 'timestamp', pixelcraft_ts(created_at)) ORDER BY seq), '[]'::jsonb)::text"
      " FROM workflow_events WHERE workflow_execution_id = $1::uuid AND seq > $2",
      a.value("workflow_id", std::string{}), a.value("since", 0));
  return std::string{"{\"events\":"} + r[0].c_str() + "}";
}

/// The mirror's batch write, in one transaction: new rows (with the ids and timestamps the
/// runtime gave them) in one statement, then status changes in another. A status only moves
/// forward (pending -> delivered -> processed, or -> failed), so batches may overlap or be
/// retried. Rows of a workflow deleted meanwhile are skipped.
bool amsg_write(pqxx::connection& c, const agent_message_batch& b) {
  static const std::string forward =
      "(%1 NOT IN ('processed', 'failed') AND array_position(ARRAY['pending', 'delivered',"
      " 'processed', 'failed'], %2) > array_position(ARRAY['pending', 'delivered', 'processed',"
      " 'failed'], %1))";
  auto rule = [](std::string text, const std::string& from, const std::string& to) {
    text.replace(text.find("%2"), 2, to);
    for (auto at = text.find("%1"); at != std::string::npos; at = text.find("%1"))
      text.replace(at, 2, from);
    return text;
  };
  // One jsonb recordset for the rows: content and metadata are embedded as they are (checked
  // by the mirror with `agent_message_problem`, never parsed again here).
  std::string rows = "[";
  for (size_t i = 0; i < b.rows.size(); ++i) {
    if (i > 0)
      rows += ',';
    rows += agent_message_row(b.rows[i]);
  }
  rows += ']';
  json by_status = json::object();
  for (size_t i = 0; i < b.status_ids.size() && i < b.statuses.size(); ++i)
    by_status[b.statuses[i]].push_back(b.status_ids[i]);
  pqxx::work w{c};
  if (!b.rows.empty())
    exec_cached(
        w,
        "WITH input AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(message_id uuid,"
        " workflow_execution_id uuid, from_agent text, to_agent text, message_type text,"
        " content jsonb, metadata jsonb, status text, created_at timestamptz))"
        " INSERT INTO agent_messages AS m (id, workflow_execution_id, from_agent, to_agent,"
        " message_type, content, metadata, status, created_at, processed_at) SELECT message_id,"
        " workflow_execution_id, from_agent, to_agent, message_type, coalesce(content, '{}'),"
        " coalesce(metadata, '{}'), coalesce(status, 'pending'), coalesce(created_at, now()),"
        " CASE WHEN status = 'processed' THEN now() END FROM input i WHERE EXISTS (SELECT 1 FROM"
        " workflow_executions w WHERE w.id = i.workflow_execution_id) ON CONFLICT (id) DO UPDATE"
        " SET status = EXCLUDED.status, processed_at = EXCLUDED.processed_at WHERE " +
            rule(forward, "m.status", "EXCLUDED.status"),
        rows);
  if (!by_status.empty())
    exec_cached(w,
                "UPDATE agent_messages m SET status = u.status, processed_at = CASE WHEN u.status ="
                " 'processed' THEN now() ELSE m.processed_at END FROM (SELECT key AS status,"
                " jsonb_array_elements_text(value)::uuid AS id FROM jsonb_each($1::jsonb)) u WHERE"
                " m.id = u.id AND " +
                    rule(forward, "m.status", "u.status"),
                by_status.dump(-1, ' ', false, json::error_handler_t::replace));
  w.commit();
  return true;
}

agent_message_page amsg_list(pqxx::connection& c, const agent_message_filter& f) {
  pqxx::read_transaction t{c};
  const char* where = " FROM agent_messages m WHERE m.workflow_execution_id = $1::uuid"
                      " AND ($2 = '' OR m.from_agent = $2) AND ($3 = '' OR m.to_agent = $3)"
                      " AND ($4 = '' OR m.message_type = $4) AND ($5 = '' OR m.status = $5)"
                      " AND (NOT $6::boolean OR m.status IN ('pending', 'delivered'))";
  auto wf = pg_text(f.workflow_id);
  auto from = pg_text(f.from_agent);
  auto to = pg_text(f.to_agent);
  auto type = pg_text(f.message_type);
  auto status = pg_text(f.status);
  agent_message_page page;
  page.total =
      t.exec_params1(std::string{"SELECT count(*)"} + where, wf, from, to, type, status, f.open)[0]
          .as<int64_t>();
  auto r = t.exec_params(
      std::string{"SELECT m.id::text, m.workflow_execution_id::text, m.from_agent, m.to_agent,"
                  " m.message_type, m.content::text, m.metadata::text, m.status,"
                  " pixelcraft_ts(m.created_at), coalesce(pixelcraft_ts(m.processed_at), '')"} +
          where + " ORDER BY m.created_at, m.id LIMIT $7 OFFSET $8",
      wf, from, to, type, status, f.open, f.limit, f.offset);
  page.items.reserve(r.size());
  for (const auto& row : r) {
    agent_message m;
    m.message_id = row[0].as<std::string>();
    m.workflow_id = row[1].as<std::string>();
    m.from_agent = row[2].as<std::string>();
    m.to_agent = row[3].as<std::string>();
    m.message_type = row[4].as<std::string>();
    m.content = row[5].as<std::string>();
    m.metadata = row[6].as<std::string>();
    m.status = row[7].as<std::string>();
    m.created_at = row[8].as<std::string>();
    m.processed_at = row[9].as<std::string>();
    page.items.push_back(std::move(m));
  }
  return page;
}

namespace {

/// The `scope_id` a shared-memory key lives under, checked against its workflow execution
/// (API.md §7, v1.1): `workflow` keys under the execution's id, `global` ones under the
/// execution's owner (`global` is global *to the owner*), `system` ones under '' for every run
/// (written only by admin-owned runs), `conversation` ones under the conversation id. A
/// `scope_id` the caller gives must match what the execution allows (`errc::permission_denied`
/// otherwise), so one owner can never name another owner's keys.
std::string memory_scope_id(pqxx::transaction_base& t, const memory_key& k, bool write) {
  const auto& scope = k.scope;
  auto given = pg_text(k.scope_id);
  if (scope == "conversation") {
    if (given.empty())
      throw db_error{errc::invalid_argument, "conversation memory needs its conversation id"};
    return given;
  }
  if (scope != "workflow" && scope != "global" && scope != "system")
    throw db_error{errc::invalid_argument, "unknown memory scope"};
  auto workflow = pg_text(k.workflow_id);
  if (workflow.empty() && scope == "workflow")
    workflow = given;
  if (workflow.empty())
    throw db_error{errc::invalid_argument, "memory of scope " + scope + " needs its workflow"};
  auto r = exec_cached(t,
                       "SELECT owner_id, owner_admin FROM workflow_executions"
                       " WHERE id::text = $1",
                       workflow);
  if (r.empty())
    throw db_error{errc::not_found, "workflow not found"};
  std::string id;
  if (scope == "workflow") {
    id = workflow;
  } else if (scope == "global") {
    if (r[0][0].is_null())
      throw db_error{errc::failed_precondition, "the workflow has no owner"};
    id = r[0][0].as<std::string>();
  } else if (write && !r[0][1].as<bool>()) {
    throw db_error{errc::permission_denied, "only admin-owned runs write system memory"};
  }
  if (!given.empty() && given != id)
    throw db_error{errc::permission_denied, "memory of another scope"};
  return id;
}

const char* memory_columns_sql =
    "m.key, m.value::text, m.scope, m.version, coalesce(m.created_by_agent, ''),"
    " pixelcraft_ts(m.updated_at), coalesce(pixelcraft_ts(m.expires_at), '')";

memory_entry memory_entry_of(const pqxx::row& r) {
  return {r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>(),
          r[3].as<int64_t>(),     r[4].as<std::string>(), r[5].as<std::string>(),
          r[6].as<std::string>()};
}

const char* or_null(const std::string& s) {
  return s.empty() ? nullptr : s.c_str();
}

} // namespace

/// Writes a shared-memory key; with `expected_version`, only if the stored version matches
/// (compare-and-set; `errc::failed_precondition` otherwise).
memory_entry mem_put(pqxx::connection& c, const memory_write& in) {
  auto value = pg_json_text(in.value);
  pqxx::work w{c};
  auto scope_id = memory_scope_id(w, in.at, true);
  auto conversation = pg_text(in.conversation_id);
  auto workflow = pg_text(in.at.workflow_id);
  auto agent = pg_text(in.agent);
  auto ttl = in.ttl_s >= 0 ? std::to_string(in.ttl_s) : std::string{};
  auto expected = in.expected_version >= 0 ? std::to_string(in.expected_version) : std::string{};
  auto r = exec_cached(
      w,
      std::string{"INSERT INTO shared_memory AS m (key, value, scope, scope_id, conversation_id,"
                  " workflow_execution_id, created_by_agent, expires_at) VALUES ($1, $2::jsonb,"
                  " $3, $4, $5, $6::uuid, $7, now() + make_interval(secs =>"
                  " $8::double precision)) ON CONFLICT (scope, scope_id, key) DO UPDATE SET"
                  " value = EXCLUDED.value, version = CASE WHEN m.expires_at IS NOT NULL AND"
                  " m.expires_at < now() THEN 1 ELSE m.version + 1 END,"
                  " created_by_agent = EXCLUDED.created_by_agent,"
                  " expires_at = EXCLUDED.expires_at, updated_at = now()"
                  " WHERE $9::bigint IS NULL OR m.version = $9::bigint RETURNING "} +
          memory_columns_sql,
      pg_text(in.at.key), value, in.at.scope, scope_id, or_null(conversation), or_null(workflow),
      or_null(agent), or_null(ttl), or_null(expected));
  if (r.empty())
    throw db_error{errc::failed_precondition, "version mismatch"};
  w.commit();
  return memory_entry_of(r[0]);
}

/// Reads one unexpired key (version 0 when absent) under the scope rules of `mem_put`.
memory_entry mem_get(pqxx::connection& c, const memory_key& k) {
  pqxx::read_transaction t{c};
  auto scope_id = memory_scope_id(t, k, false);
  auto r = exec_cached(t,
                       std::string{"SELECT "} + memory_columns_sql +
                           " FROM shared_memory m WHERE m.scope = $1 AND m.scope_id = $2"
                           " AND m.key = $3 AND (m.expires_at IS NULL OR m.expires_at > now())",
                       k.scope, scope_id, pg_text(k.key));
  return r.empty() ? memory_entry{} : memory_entry_of(r[0]);
}

/// The memory a workflow sees (unexpired): its own keys, its conversation's, its owner's
/// `global` keys and the `system` ones.
std::vector<memory_entry> mem_list(pqxx::connection& c, const std::string& workflow_id,
                                   const std::string& conversation_id) {
  pqxx::read_transaction t{c};
  auto r = exec_cached(
      t,
      std::string{"SELECT "} + memory_columns_sql +
          " FROM shared_memory m WHERE"
          " (m.expires_at IS NULL OR m.expires_at > now()) AND ((m.scope = 'workflow' AND"
          " m.scope_id = $1) OR (m.scope = 'conversation' AND $2 <> '' AND m.scope_id = $2)"
          " OR (m.scope = 'global' AND m.scope_id = (SELECT w.owner_id FROM workflow_executions w"
          " WHERE w.id::text = $1)) OR m.scope = 'system') ORDER BY m.scope, m.key",
      pg_text(workflow_id), pg_text(conversation_id));
  std::vector<memory_entry> out;
  out.reserve(r.size());
  for (const auto& row : r)
    out.push_back(memory_entry_of(row));
  return out;
}

} // namespace pixelcraft::persistence::detail
