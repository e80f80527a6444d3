// Conversations, messages and agent logs (db_op_atom). Arguments arrive as one jsonb parameter.
#include "actors/json_limits.hpp"
#include "persistence/detail.hpp"

#include <nlohmann/json.hpp>

namespace pixelcraft::persistence::detail {

namespace {

using json = nlohmann::json;

/// Ownership as API.md §4 says: anonymous conversations (no owner) are readable by whoever
/// holds the id; others by their owner and admins. Returns false when the caller may not see it.
bool visible(const pqxx::row& row, const json& a) {
  if (row["owner_id"].is_null())
    return true;
  if (a.value("admin", false))
    return true;
  auto caller = a.value("owner_id", json(nullptr));
  return caller.is_string() && caller.get<std::string>() == row["owner_id"].as<std::string>();
}

void require_visible(pqxx::transaction_base& t, const json& a) {
  auto r = t.exec_params("SELECT owner_id FROM conversations WHERE id = $1",
                         a.value("conversation_id", std::string{}));
  if (r.empty() || !visible(r[0], a))
    throw db_error{errc::not_found, "conversation not found"};
}

std::string conv_open(pqxx::connection& c, const json& a) {
  pqxx::work w{c};
  auto id = a.value("conversation_id", std::string{});
  auto owner = a.value("owner_id", json(nullptr));
  auto agent = a.value("agent_type", std::string{"chat"});
  json out;
  if (!id.empty()) {
    auto r = w.exec_params("SELECT owner_id FROM conversations WHERE id = $1 FOR SHARE", id);
    if (!r.empty()) {
      if (!visible(r[0], a))
        throw db_error{errc::not_found, "conversation not found"};
      w.commit();
      return json{{"conversation_id", id}, {"created", false}}.dump();
    }
  }
  auto row =
      w.exec_params1("INSERT INTO conversations (id, owner_id, agent_type) VALUES ("
                     " coalesce(nullif($1, ''), gen_random_uuid()::text), $2, $3)"
                     " ON CONFLICT (id) DO NOTHING RETURNING id",
                     id, owner.is_string() ? owner.get<std::string>().c_str() : nullptr, agent);
  w.commit();
  return json{{"conversation_id", row[0].as<std::string>()}, {"created", true}}.dump();
}

const char* message_json_sql =
    "jsonb_build_object('role', m.role, 'content', m.content, 'agent_type', m.agent_type,"
    " 'timestamp', pixelcraft_ts(m.created_at))";

std::string conv_read(pqxx::connection& c, const json& a) {
  pqxx::read_transaction t{c};
  require_visible(t, a);
  auto id = a.value("conversation_id", std::string{});
  auto total = t.exec_params1("SELECT count(*) FROM messages WHERE conversation_id = $1", id)[0]
                   .as<long long>();
  auto items = t.exec_params1(
      std::string{"SELECT coalesce(jsonb_agg("} + message_json_sql +
          " ORDER BY m.created_at, m.id), '[]'::jsonb)::text FROM (SELECT * FROM messages"
          " WHERE conversation_id = $1 ORDER BY created_at, id LIMIT $2 OFFSET $3) m",
      id, a.value("limit", 50), a.value("offset", 0));
  return "{\"conversation_id\":" + json(id).dump() + ",\"messages\":" + items[0].c_str() +
         ",\"total\":" + std::to_string(total) + "}";
}

std::string conv_recent(pqxx::connection& c, const json& a) {
  pqxx::read_transaction t{c};
  auto r = t.exec_params1(
      std::string{"SELECT coalesce(jsonb_agg("} + message_json_sql +
          " ORDER BY m.created_at, m.id), '[]'::jsonb)::text FROM (SELECT * FROM messages"
          " WHERE conversation_id = $1 AND role IN ('user', 'assistant')"
          " ORDER BY created_at DESC, id DESC LIMIT $2) m",
      a.value("conversation_id", std::string{}), a.value("limit", 20));
  return std::string{"{\"messages\":"} + r[0].c_str() + "}";
}

std::string conv_delete(pqxx::connection& c, const json& a) {
  pqxx::work w{c};
  require_visible(w, a);
  auto id = a.value("conversation_id", std::string{});
  auto n = w.exec_params1("WITH d AS (DELETE FROM messages WHERE conversation_id = $1"
                          " RETURNING 1) SELECT count(*) FROM d",
                          id)[0]
               .as<long long>();
  w.exec_params0("DELETE FROM conversations WHERE id = $1", id);
  w.commit();
  return json{{"deleted", true}, {"conversation_id", id}, {"messages_deleted", n}}.dump();
}

std::string msg_add(pqxx::connection& c, const json& a) {
  pqxx::work w{c};
  w.exec_params0(
      "INSERT INTO messages (conversation_id, role, content, agent_type, metadata, tokens_in,"
      " tokens_out) SELECT j->>'conversation_id', j->>'role', j->>'content', j->>'agent_type',"
      " coalesce(nullif(j->'metadata', 'null'::jsonb), '{}'::jsonb), (j->>'tokens_in')::int,"
      " (j->>'tokens_out')::int FROM (SELECT $1::jsonb AS j) s",
      a.dump());
  w.exec_params0("UPDATE conversations SET updated_at = now() WHERE id = $1",
                 a.value("conversation_id", std::string{}));
  w.commit();
  return "{}";
}

std::string log_add(pqxx::connection& c, const json& a) {
  pqxx::work w{c};
  w.exec_params0(
      "INSERT INTO agent_logs (agent_type, action, conversation_id, workflow_execution_id,"
      " input_data, output_data, execution_time_ms, status, error_message)"
      " SELECT j->>'agent_type', j->>'action', j->>'conversation_id',"
      " (j->>'workflow_execution_id')::uuid,"
      " coalesce(nullif(j->'input_data', 'null'::jsonb), '{}'::jsonb),"
      " coalesce(nullif(j->'output_data', 'null'::jsonb), '{}'::jsonb),"
      " coalesce((j->>'execution_time_ms')::double precision, 0), j->>'status',"
      " j->>'error_message' FROM (SELECT $1::jsonb AS j) s",
      a.dump());
  w.commit();
  return "{}";
}

std::string agent_metrics(pqxx::connection& c, const json&) {
  pqxx::read_transaction t{c};
  auto r =
      t.exec1("SELECT coalesce(jsonb_agg(jsonb_build_object('agent_id', agent_type,"
              " 'total_interactions', n, 'success_rate', ok::double precision / n,"
              " 'avg_response_time_ms', avg_ms, 'last_active', pixelcraft_ts(last_at))"
              " ORDER BY agent_type), '[]'::jsonb)::text FROM (SELECT agent_type, count(*) AS n,"
              " count(*) FILTER (WHERE status = 'success') AS ok, avg(execution_time_ms) AS avg_ms,"
              " max(created_at) AS last_at FROM agent_logs GROUP BY agent_type) s");
  return std::string{"{\"metrics\":"} + r[0].c_str() + "}";
}

} // namespace

std::string db_op(pqxx::connection& c, const std::string& op, const std::string& args) {
  auto a = parse_json(args, internal_depth);
  if (!a.is_object())
    throw db_error{errc::invalid_argument, "malformed arguments for " + op};
  // Every op binds strings of `a` (or `a` itself as jsonb): one cleaning for all of them.
  a = pg_clean(std::move(a));
  if (op == "conv_open")
    return conv_open(c, a);
  if (op == "conv_read")
    return conv_read(c, a);
  if (op == "conv_recent")
    return conv_recent(c, a);
  if (op == "conv_delete")
    return conv_delete(c, a);
  if (op == "msg_add")
    return msg_add(c, a);
  if (op == "log_add")
    return log_add(c, a);
  if (op == "agent_metrics")
    return agent_metrics(c, a);
#define PIXELCRAFT_DISPATCH_OP(name)                                                               \
  if (op == #name)                                                                                 \
    return name(c, a);
  PIXELCRAFT_WF_OPS(PIXELCRAFT_DISPATCH_OP)
#undef PIXELCRAFT_DISPATCH_OP
  throw db_error{errc::invalid_argument, "unknown database operation " + op};
}

} // namespace pixelcraft::persistence::detail
