// Conversations, messages and agent logs (actors/stores/conversation_store.hpp).
#include "actors/json_limits.hpp"
#include "persistence/detail.hpp"

#include <nlohmann/json.hpp>

namespace pixelcraft::persistence::detail {

namespace {

using json = nlohmann::json;

/// Ownership as API.md §4 says: anonymous conversations (no owner) are readable by whoever
/// holds the id; others by their owner and admins. Returns false when the caller may not see it.
bool visible(const pqxx::row& row, const conversation_access& a) {
  if (row["owner_id"].is_null() || a.admin)
    return true;
  return !a.owner_id.empty() && a.owner_id == row["owner_id"].as<std::string>();
}

void require_visible(pqxx::transaction_base& t, const conversation_access& a,
                     const std::string& id) {
  auto r = exec_cached(t, "SELECT owner_id FROM conversations WHERE id = $1", id);
  if (r.empty() || !visible(r[0], a))
    throw db_error{errc::not_found, "conversation not found"};
}

const char* message_json_sql =
    "jsonb_build_object('role', m.role, 'content', m.content, 'agent_type', m.agent_type,"
    " 'timestamp', pixelcraft_ts(m.created_at))";

/// NULL for an empty string (an optional text column).
const char* or_null(const std::string& s) {
  return s.empty() ? nullptr : s.c_str();
}

/// A JSON object text for a jsonb column: cleaned, and `{}` for anything else.
std::string json_object_text(const std::string& text) {
  auto j = pg_clean(parse_json(text, internal_depth));
  return j.is_object() ? j.dump() : std::string{"{}"};
}

} // namespace

conversation_opened conv_open(pqxx::connection& c, const conversation_access& a,
                              const std::string& agent_type) {
  return committed(c, [&](pqxx::transaction_base& w) { return conv_open(w, a, agent_type); });
}

conversation_opened conv_open(pqxx::transaction_base& w, const conversation_access& a,
                              const std::string& agent_type) {
  auto id = pg_text(a.conversation_id);
  auto owner = pg_text(a.owner_id);
  auto agent = agent_type.empty() ? std::string{"chat"} : pg_text(agent_type);
  if (!id.empty()) {
    auto r = exec_cached(w, "SELECT owner_id FROM conversations WHERE id = $1 FOR SHARE", id);
    if (!r.empty()) {
      if (!visible(r[0], a))
        throw db_error{errc::not_found, "conversation not found"};
      return {id, false};
    }
  }
  auto row = exec_cached1(w,
                          "INSERT INTO conversations (id, owner_id, agent_type) VALUES ("
                          " coalesce(nullif($1, ''), gen_random_uuid()::text), $2, $3)"
                          " ON CONFLICT (id) DO NOTHING RETURNING id",
                          id, or_null(owner), agent);
  return {row[0].as<std::string>(), true};
}

std::string conv_read(pqxx::connection& c, const conversation_access& a, int32_t limit,
                      int32_t offset) {
  pqxx::read_transaction t{c};
  auto id = pg_text(a.conversation_id);
  require_visible(t, a, id);
  auto total = exec_cached1(t, "SELECT count(*) FROM messages WHERE conversation_id = $1", id)[0]
                   .as<long long>();
  auto items = exec_cached1(
      t,
      std::string{"SELECT coalesce(jsonb_agg("} + message_json_sql +
          " ORDER BY m.created_at, m.id), '[]'::jsonb)::text FROM (SELECT * FROM messages"
          " WHERE conversation_id = $1 ORDER BY created_at, id LIMIT $2 OFFSET $3) m",
      id, limit, offset);
  return "{\"conversation_id\":" + json(id).dump() + ",\"messages\":" + items[0].c_str() +
         ",\"total\":" + std::to_string(total) + "}";
}

std::vector<chat_line> conv_recent(pqxx::connection& c, const std::string& id, int32_t limit) {
  pqxx::read_transaction t{c};
  auto r = exec_cached(t,
                       "SELECT role, content FROM (SELECT role, content, created_at, id"
                       " FROM messages WHERE conversation_id = $1"
                       " AND role IN ('user', 'assistant')"
                       " ORDER BY created_at DESC, id DESC LIMIT $2) m"
                       " ORDER BY created_at, id",
                       pg_text(id), limit);
  std::vector<chat_line> out;
  out.reserve(r.size());
  for (const auto& row : r)
    out.push_back({row[0].as<std::string>(), row[1].as<std::string>()});
  return out;
}

int64_t conv_delete(pqxx::connection& c, const conversation_access& a) {
  pqxx::work w{c};
  auto id = pg_text(a.conversation_id);
  require_visible(w, a, id);
  auto n = exec_cached1(w,
                        "WITH d AS (DELETE FROM messages WHERE conversation_id = $1"
                        " RETURNING 1) SELECT count(*) FROM d",
                        id)[0]
               .as<int64_t>();
  exec_cached0(w, "DELETE FROM conversations WHERE id = $1", id);
  w.commit();
  return n;
}

bool msg_add(pqxx::connection& c, const new_chat_message& m) {
  return committed(c, [&](pqxx::transaction_base& w) { return msg_add(w, m); });
}

bool msg_add(pqxx::transaction_base& w, const new_chat_message& m) {
  auto id = pg_text(m.conversation_id);
  auto tokens_in = m.tokens_in < 0 ? std::string{} : std::to_string(m.tokens_in);
  auto tokens_out = m.tokens_out < 0 ? std::string{} : std::to_string(m.tokens_out);
  exec_cached0(w,
               "INSERT INTO messages (conversation_id, role, content, agent_type, metadata,"
               " tokens_in, tokens_out) VALUES ($1, $2, $3, $4, $5::jsonb, $6::int, $7::int)",
               id, pg_text(m.role), pg_text(m.content), pg_text(m.agent_type),
               json_object_text(m.metadata), or_null(tokens_in), or_null(tokens_out));
  exec_cached0(w, "UPDATE conversations SET updated_at = now() WHERE id = $1", id);
  return true;
}

bool log_add(pqxx::connection& c, const agent_log_entry& e) {
  return committed(c, [&](pqxx::transaction_base& w) { return log_add(w, e); });
}

bool log_add(pqxx::transaction_base& w, const agent_log_entry& e) {
  auto conv = pg_text(e.conversation_id);
  auto exec = pg_text(e.workflow_execution_id);
  auto error = pg_text(e.error_message);
  exec_cached0(w,
               "INSERT INTO agent_logs (agent_type, action, conversation_id,"
               " workflow_execution_id, input_data, output_data, execution_time_ms, status,"
               " error_message) VALUES ($1, $2, $3, $4::uuid, $5::jsonb, $6::jsonb, $7, $8, $9)",
               pg_text(e.agent_type), pg_text(e.action), or_null(conv), or_null(exec),
               json_object_text(e.input_data), json_object_text(e.output_data), e.execution_time_ms,
               pg_text(e.status), or_null(error));
  return true;
}

std::string agent_metrics(pqxx::connection& c) {
  pqxx::read_transaction t{c};
  auto r =
      t.exec1("SELECT coalesce(jsonb_agg(jsonb_build_object('agent_id', agent_type,"
              " 'total_interactions', n, 'success_rate', ok::double precision / n,"
              " 'avg_response_time_ms', avg_ms, 'last_active', pixelcraft_ts(last_at))"
              " ORDER BY agent_type), '[]'::jsonb)::text FROM (SELECT agent_type, count(*) AS n,"
              " count(*) FILTER (WHERE status = 'success') AS ok, avg(execution_time_ms) AS avg_ms,"
              " max(created_at) AS last_at FROM agent_logs GROUP BY agent_type) s");
  return r[0].c_str();
}

} // namespace pixelcraft::persistence::detail
