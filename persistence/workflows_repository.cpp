// Workflow executions and their events (run_store), agent messages and shared memory.
#include "actors/agent_message.hpp"
#include "actors/ids.hpp"
#include "actors/json_limits.hpp"
#include "persistence/detail.hpp"

#include <nlohmann/json.hpp>

#include <cctype>

namespace pixelcraft::persistence::detail {

namespace {

using json = nlohmann::json;

/// JSON text of our own (a run actor's path, results, event data) for a jsonb parameter: as it
/// is when PostgreSQL takes it, cleaned (`pg_json_text`) when it holds what jsonb refuses (a
/// `\u0000` escape, invalid UTF-8), which a model's output can bring.
std::string jsonb_text(const std::string& text) {
  if (text.empty())
    throw db_error{errc::invalid_argument, "missing JSON argument"};
  if (valid_utf8(text) && text.find("\\u0000") == std::string::npos)
    return text;
  return pg_json_text(text);
}

/// A JSON array of strings, for a jsonb parameter.
std::string string_array(const std::vector<std::string>& xs) {
  json a = json::array();
  for (const auto& x : xs)
    a.push_back(pg_text(x));
  return a.dump();
}

const char* or_null(const std::string& s) {
  return s.empty() ? nullptr : s.c_str();
}

/// An execution id for `$n::uuid` (the primary key's index); anything else names no execution.
std::string execution_id(const std::string& id) {
  if (!is_uuid(id))
    throw db_error{errc::not_found, "workflow not found"};
  std::string lower = id; // the key's text form is lowercase
  for (auto& c : lower)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

/// The columns of a `run_row`, after the public document (alias `w`).
const char* row_sql =
    "SELECT pixelcraft_workflow_json(w)::text, w.id::text, w.workflow_type, w.current_state,"
    " w.participating_agents::text, coalesce(w.conversation_id, ''), w.execution_path::text,"
    " w.results::text, w.workflow_config::text, w.input_data::text, coalesce(w.owner_id, ''),"
    " w.owner_admin, w.last_event_seq, coalesce(w.replay_source::text, ''),"
    " coalesce(w.replay_live_from, -1), CASE WHEN w.lease_expires_at > now() THEN"
    " coalesce(w.lease_owner, '') ELSE '' END";

run_row run_row_of(const pqxx::row& r) {
  run_row x;
  x.execution = r[0].as<std::string>();
  x.workflow_id = r[1].as<std::string>();
  x.workflow_type = r[2].as<std::string>();
  x.current_state = r[3].as<std::string>();
  auto agents = parse_json_or_throw(r[4].c_str()); // a jsonb array of strings
  if (agents.is_array())
    for (const auto& a : agents)
      if (a.is_string())
        x.participating_agents.push_back(a.get<std::string>());
  x.conversation_id = r[5].as<std::string>();
  x.execution_path = r[6].as<std::string>();
  x.results = r[7].as<std::string>();
  x.workflow_config = r[8].as<std::string>();
  x.input_data = r[9].as<std::string>();
  x.owner_id = r[10].as<std::string>();
  x.owner_admin = r[11].as<bool>();
  x.last_event_seq = r[12].as<int64_t>();
  x.replay_source = r[13].as<std::string>();
  x.replay_live_from = r[14].as<int32_t>();
  x.lease_owner = r[15].as<std::string>();
  return x;
}

const char* memory_columns_sql =
    "m.key, m.value::text, m.scope, m.version, coalesce(m.created_by_agent, ''),"
    " pixelcraft_ts(m.updated_at), coalesce(pixelcraft_ts(m.expires_at), '')";

memory_entry memory_entry_of(const pqxx::row& r) {
  return {r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>(),
          r[3].as<int64_t>(),     r[4].as<std::string>(), r[5].as<std::string>(),
          r[6].as<std::string>()};
}

/// The one statement that writes a shared-memory key (`mem_put`, and a step's save): the
/// version moves on (back to 1 after an expiry); with `expected`, only from that version.
/// Arguments are cleaned and the scope id checked by the caller; empty strings are NULL.
/// Returns no row on a version mismatch.
pqxx::result memory_upsert(pqxx::transaction_base& t, const std::string& key,
                           const std::string& value, const std::string& scope,
                           const std::string& scope_id, const std::string& conversation,
                           const std::string& workflow, const std::string& agent,
                           const std::string& ttl, const std::string& expected) {
  return exec_cached(
      t,
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
      key, value, scope, scope_id, or_null(conversation), or_null(workflow), or_null(agent),
      or_null(ttl), or_null(expected));
}

} // namespace

run_row run_new(pqxx::connection& c, const run_spec& in) {
  auto agents = string_array(in.participating_agents);
  auto config = pg_json_text(in.workflow_config);
  auto input = pg_json_text(in.input_data);
  auto metadata = pg_json_text(in.metadata);
  auto conversation = pg_text(in.conversation_id);
  auto owner = pg_text(in.owner_id);
  auto source = pg_text(in.replay_source);
  auto live_from = in.replay_live_from >= 0 ? std::to_string(in.replay_live_from) : std::string{};
  pqxx::work w{c};
  auto r = exec_cached(
      w,
      std::string{"WITH w AS (INSERT INTO workflow_executions (workflow_type, participating_agents,"
                  " conversation_id, workflow_config, input_data, metadata, owner_id, owner_admin,"
                  " replay_source, replay_live_from) VALUES ($1, $2::jsonb, $3, $4::jsonb,"
                  " $5::jsonb, coalesce(nullif($6::jsonb, 'null'::jsonb), '{}'::jsonb), $7, $8,"
                  " $9::uuid, $10::int) RETURNING *) "} +
          row_sql + " FROM w",
      pg_text(in.workflow_type), agents, or_null(conversation), config, input, metadata,
      or_null(owner), in.owner_admin, or_null(source), or_null(live_from));
  w.commit();
  return run_row_of(r[0]);
}

std::string run_get(pqxx::connection& c, const std::string& id, const run_viewer& v) {
  pqxx::read_transaction t{c};
  auto r = exec_cached(t,
                       "SELECT pixelcraft_workflow_json(w)::text FROM workflow_executions w"
                       " WHERE w.id = $1::uuid AND ($2 OR w.owner_id = $3)",
                       execution_id(id), v.admin, pg_text(v.owner_id));
  if (r.empty())
    throw db_error{errc::not_found, "workflow not found"};
  return r[0][0].c_str();
}

run_row run_load(pqxx::connection& c, const std::string& id) {
  pqxx::read_transaction t{c};
  auto r =
      exec_cached(t, std::string{row_sql} + " FROM workflow_executions w WHERE w.id = $1::uuid",
                  execution_id(id));
  if (r.empty())
    throw db_error{errc::not_found, "workflow not found"};
  return run_row_of(r[0]);
}

std::string run_list(pqxx::connection& c, const run_filter& f) {
  json args = {{"admin", f.viewer.admin},
               {"owner_id", pg_text(f.viewer.owner_id)},
               {"limit", f.limit},
               {"offset", f.offset}};
  if (!f.conversation_id.empty())
    args["conversation_id"] = pg_text(f.conversation_id);
  if (!f.workflow_type.empty())
    args["workflow_type"] = pg_text(f.workflow_type);
  if (!f.current_state.empty())
    args["current_state"] = pg_text(f.current_state);
  pqxx::read_transaction t{c};
  const char* where =
      "($1::jsonb->>'admin' = 'true' OR w.owner_id = $1::jsonb->>'owner_id')"
      " AND ($1::jsonb->>'conversation_id' IS NULL OR w.conversation_id ="
      " $1::jsonb->>'conversation_id')"
      " AND ($1::jsonb->>'workflow_type' IS NULL OR w.workflow_type = $1::jsonb->>'workflow_type')"
      " AND ($1::jsonb->>'current_state' IS NULL OR w.current_state = $1::jsonb->>'current_state')";
  return paged_list(t, "workflow_executions", "w", where, "pixelcraft_workflow_json(w)",
                    "w.started_at DESC, w.id", args.dump());
}

/// A renewal keeps the epoch; a `fresh` claim always moves it on (see `run_claim`).
int64_t run_claim_lease(pqxx::connection& c, const run_claim& in) {
  pqxx::work w{c};
  auto r = exec_cached(
      w,
      "UPDATE workflow_executions w SET lease_owner = $2, lease_epoch = CASE WHEN NOT $4 AND"
      " w.lease_owner = $2 AND w.lease_expires_at > now() THEN w.lease_epoch ELSE w.lease_epoch + "
      "1 END,"
      " lease_expires_at = now() + make_interval(secs => $3) WHERE w.id = $1::uuid"
      " AND (w.lease_owner IS NULL OR w.lease_owner = $2 OR w.lease_expires_at < now())"
      " RETURNING w.lease_epoch",
      execution_id(in.workflow_id), pg_text(in.node), in.lease_s, in.fresh);
  w.commit();
  if (r.empty())
    throw db_error{errc::aborted, "the workflow is run by another node"};
  return r[0][0].as<int64_t>();
}

std::vector<std::string> run_resumable(pqxx::connection& c, int32_t limit) {
  pqxx::read_transaction t{c};
  auto r = exec_cached(t,
                       "SELECT id::text FROM workflow_executions WHERE current_state IN"
                       " ('pending', 'running', 'paused', 'awaiting_approval') AND (lease_owner IS"
                       " NULL OR lease_expires_at < now()) ORDER BY started_at LIMIT $1",
                       std::max(limit, 0));
  std::vector<std::string> ids;
  ids.reserve(r.size());
  for (const auto& row : r)
    ids.push_back(row[0].as<std::string>());
  return ids;
}

/// Two statements whatever the number of events: the fenced update reserves their numbers, one
/// insert stores them all. Everything is checked and cleaned before the first statement, so a
/// save refused for its content writes nothing (inside a commit batch, a refusal must not leave
/// the update without its events).
run_saved run_store_progress(pqxx::transaction_base& w, const run_save& in) {
  bool memory = !in.memory_agent.empty();
  // The step's memory write brings its `memory_updated` event, numbered with the others.
  auto n = static_cast<int64_t>(in.events.size()) + (memory ? 1 : 0);
  const auto& id = execution_id(in.workflow_id);
  auto path = jsonb_text(in.execution_path);
  auto results = jsonb_text(in.results);
  auto memory_key = pg_text(in.memory_agent);
  auto memory_value = memory ? jsonb_text(in.memory_value) : std::string{};
  run_saved out;
  out.events.reserve(in.events.size() + 1);
  for (const auto& e : in.events)
    out.events.push_back(
        {0, pg_text(e.event_type), jsonb_text(e.data.empty() ? std::string{"{}"} : e.data), {}});
  // Where the memory write's event goes (its data is known once the key is written).
  auto memory_at = std::min<size_t>(in.memory_event_at, out.events.size());
  auto r = exec_cached(w,
                       "UPDATE workflow_executions w SET current_state = $3, current_step = $4,"
                       " execution_path = $5::jsonb, results = $6::jsonb,"
                       " error_message = CASE WHEN $7 THEN nullif($8, '') ELSE w.error_message END,"
                       " completed_at = CASE WHEN $9 THEN now() ELSE w.completed_at END,"
                       " lease_owner = CASE WHEN $9 THEN NULL ELSE w.lease_owner END,"
                       " last_event_seq = w.last_event_seq + $10, updated_at = now()"
                       " WHERE w.id = $1::uuid AND w.lease_epoch = $2 RETURNING"
                       " pixelcraft_workflow_json(w)::text, w.last_event_seq, pixelcraft_ts(now())",
                       id, in.lease_epoch, pg_text(in.current_state), in.current_step, path,
                       results, in.set_error, pg_text(in.error_message), in.completed, n);
  if (r.empty())
    throw db_error{errc::aborted, "lease lost"};
  out.execution = r[0][0].c_str();
  if (memory) {
    // As `mem_put` writes a `workflow` key of this execution (scope id: its id), in the
    // step's transaction: the step and its outcome in memory are stored together or not at all.
    auto m = memory_upsert(w, memory_key, memory_value, "workflow", id, {}, id, memory_key, {}, {});
    out.memory = memory_entry_of(m[0]);
    json data = {{"key", memory_key},
                 {"scope", "workflow"},
                 {"version", out.memory.version},
                 {"created_by_agent", memory_key}};
    out.events.insert(out.events.begin() + static_cast<std::ptrdiff_t>(memory_at),
                      run_event{0, "memory_updated", data.dump(), {}});
  }
  if (n == 0)
    return out;
  auto first = r[0][1].as<int64_t>() - n + 1;
  auto ts = r[0][2].as<std::string>(); // created_at of every event: the transaction's now()
  for (size_t i = 0; i < out.events.size(); ++i) {
    out.events[i].seq = first + static_cast<int64_t>(i);
    out.events[i].timestamp = ts;
  }
  std::string rows = "[";
  for (const auto& e : out.events) {
    if (rows.size() > 1)
      rows += ',';
    rows += "{\"t\":";
    rows += json(e.event_type).dump();
    rows += ",\"d\":";
    rows += e.data;
    rows += '}';
  }
  rows += ']';
  exec_cached(w,
              "INSERT INTO workflow_events (workflow_execution_id, seq, event_type, data)"
              " SELECT $1::uuid, $2 + x.n - 1, x.e->>'t', x.e->'d'"
              " FROM jsonb_array_elements($3::jsonb) WITH ORDINALITY AS x(e, n)",
              id, first, rows);
  return out;
}

std::vector<run_event> run_events(pqxx::connection& c, const std::string& id, int64_t since) {
  pqxx::read_transaction t{c};
  auto r = exec_cached(t,
                       "SELECT seq, event_type, data::text, pixelcraft_ts(created_at) FROM"
                       " workflow_events WHERE workflow_execution_id = $1::uuid AND seq > $2"
                       " ORDER BY seq",
                       execution_id(id), since);
  std::vector<run_event> out;
  out.reserve(r.size());
  for (const auto& row : r)
    out.push_back({row[0].as<int64_t>(), row[1].as<std::string>(), row[2].as<std::string>(),
                   row[3].as<std::string>()});
  return out;
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
  workflow = execution_id(workflow);
  auto r = exec_cached(t,
                       "SELECT owner_id, owner_admin FROM workflow_executions"
                       " WHERE id = $1::uuid",
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
  auto r = memory_upsert(w, pg_text(in.at.key), value, in.at.scope, scope_id, conversation,
                         workflow, agent, ttl, expected);
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
          " WHERE w.id = nullif($3, '')::uuid)) OR m.scope = 'system') ORDER BY m.scope, m.key",
      pg_text(workflow_id), pg_text(conversation_id),
      is_uuid(workflow_id) ? workflow_id : std::string{}); // by the primary key
  std::vector<memory_entry> out;
  out.reserve(r.size());
  for (const auto& row : r)
    out.push_back(memory_entry_of(row));
  return out;
}

} // namespace pixelcraft::persistence::detail
