#pragma once
/// persistence-internal helpers; includes libpqxx, so never include it outside persistence/.

#include "actors/errc.hpp"
#include "actors/stores/agent_message_store.hpp"
#include "actors/stores/approval_store.hpp"
#include "actors/stores/conversation_store.hpp"
#include "actors/stores/idempotency_store.hpp"
#include "actors/stores/journal_store.hpp"
#include "actors/stores/lead_store.hpp"
#include "actors/stores/run_store.hpp"
#include "actors/stores/shared_memory_store.hpp"
#include "persistence/migrations.hpp"

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include <stdexcept>
#include <string>

namespace pixelcraft::persistence::detail {

/// A domain failure raised by a repository function (e.g. not found); the worker turns it into
/// a `caf::error` with the same code. Never leaves persistence/.
struct db_error : std::runtime_error {
  db_error(errc c, const std::string& what) : std::runtime_error(what), code(c) {}
  errc code;
};

/// Runs `f(transaction)` in a transaction of its own on `c` and commits it: the standalone form
/// of a write that can also run inside a commit lane's shared transaction (pg_pool.cpp).
template <class F> auto committed(pqxx::connection& c, F&& f) {
  pqxx::work w{c};
  auto out = f(w);
  w.commit();
  return out;
}

/// The prepared statement name of `sql`: "px_" and 16 hex digits of its hash.
std::string prepared_name(const std::string& sql);

/// Runs `sql` (a fixed text: never one built from values) as a statement prepared on the
/// transaction's connection: PostgreSQL parses and plans it, and inlines the SQL functions it
/// calls, once per connection instead of at every call (1.8x lead submits, bench/RESULTS.md).
/// Named by a hash of the text; libpqxx registers it at its first use on a connection (and
/// again after a reconnect), and declaring the same definition again is a no-op. Protocol-level
/// prepared statements: PgBouncer in transaction mode needs 1.21+ with max_prepared_statements.
template <class... Args>
pqxx::result exec_cached(pqxx::transaction_base& t, const std::string& sql, Args&&... args) {
  auto name = prepared_name(sql);
  t.conn().prepare(name, sql);
  return t.exec_prepared(name, std::forward<Args>(args)...);
}

/// `exec_cached` that expects exactly `rows` rows (`pqxx::unexpected_rows` otherwise).
template <class... Args>
pqxx::result exec_cached_n(size_t rows, pqxx::transaction_base& t, const std::string& sql,
                           Args&&... args) {
  auto r = exec_cached(t, sql, std::forward<Args>(args)...);
  if (r.size() != rows)
    throw pqxx::unexpected_rows{"expected " + std::to_string(rows) + " row(s), got " +
                                std::to_string(r.size())};
  return r;
}

template <class... Args>
pqxx::row exec_cached1(pqxx::transaction_base& t, const std::string& sql, Args&&... args) {
  return exec_cached_n(1, t, sql, std::forward<Args>(args)...)[0];
}

template <class... Args>
pqxx::result exec_cached0(pqxx::transaction_base& t, const std::string& sql, Args&&... args) {
  return exec_cached_n(0, t, sql, std::forward<Args>(args)...);
}

/// The one safety net for text bound to a statement (API.md §1 v1.1): PostgreSQL's `text` and
/// `jsonb` refuse a NUL character (a jsonb `\u0000` fails the whole statement, and libpq cuts a
/// text parameter at a NUL byte) and the server refuses invalid UTF-8. Client, model and vendor
/// text reaches many statements (batches included), so every string bound to `text` or `jsonb`
/// passes through one of these: a NUL, and each invalid UTF-8 sequence, becomes U+FFFD. Callers
/// that must refuse such input (HTTP validation, the message mirror) do so before it gets here.
std::string pg_text(std::string s);
/// `pg_text` on every string value and object key of `j` (recursion bounded by the depth `j`
/// was parsed with). Keys that become equal keep the last value.
nlohmann::json pg_clean(nlohmann::json j);
/// A JSON document as text for a `jsonb` parameter: parsed with the bounded parser
/// (`internal_depth`), cleaned with `pg_clean`. Not JSON: `errc::invalid_argument`.
std::string pg_json_text(const std::string& text);

/// Whether the server has closed an idle connection (it stopped or restarted meanwhile).
///
/// Why not just run the statement and catch `broken_connection`: libpqxx 6.4 wraps the
/// `PGresult` of a failed statement only after asking the connection for its encoding, which
/// throws once the connection is bad, so that result (about 2 KB) leaks. After an outage every
/// pooled connection took that path once (LeakSanitizer: ~9 KB from `PQmakeEmptyPGresult` with
/// four workers). Reading what the server sent while we were idle (its shutdown notice) and
/// peeking at the socket finds a closed connection without a statement; a connection that dies
/// during a statement can still hit the libpqxx leak.
bool closed_while_idle(pqxx::connection& c);

/// Applies pending migrations over an open connection (each under a transaction-scoped advisory
/// lock; none when nothing is pending). The caller sets idle_in_transaction_session_timeout.
/// Returns the names applied; throws pqxx exceptions on failure.
std::vector<std::string> migrate(pqxx::connection& c);

/// Current schema version on `c` (0 before the first migration).
int schema_version(pqxx::connection& c);

/// The API's list shape over one table: `{"items": [...], "total": n}`. `where` filters with
/// the jsonb argument `$1` (which also carries `limit` and `offset`), `item` renders one row of
/// alias `alias` as jsonb, and `order` orders the page (and its items).
std::string paged_list(pqxx::transaction_base& t, const std::string& table,
                       const std::string& alias, const std::string& where, const std::string& item,
                       const std::string& order, const std::string& args);

/// The jsonb documents the lead statements take, made from the typed messages (strings cleaned
/// with `pg_text`; analysis and metadata must be JSON objects, else `errc::invalid_argument`).
std::string lead_document(const lead_input& in);
std::string lead_filter_document(const lead_filter& f);
std::string lead_patch_document(const lead_patch& p);

std::string lead_insert(pqxx::connection& c, const std::string& in);
/// The same, inside the caller's transaction (group commit: the pool's commit lanes).
std::string lead_insert(pqxx::transaction_base& t, const std::string& in);
/// Inserts many leads (documents as for `lead_insert`) in one statement; their JSON, in order.
/// The statement's executor start-up (the table's check constraints are read per statement)
/// is paid once for all of them.
std::vector<std::string> lead_insert_many(pqxx::transaction_base& t,
                                          const std::vector<const std::string*>& docs);
std::string lead_get(pqxx::connection& c, const std::string& id);
std::string lead_list(pqxx::connection& c, const std::string& filter);
std::string lead_update(pqxx::connection& c, const std::string& id, const std::string& patch);
std::string lead_set_analysis(pqxx::connection& c, const std::string& id,
                              const std::string& analysis);

idempotency_claim idem_begin(pqxx::connection& c, const std::string& scope, const std::string& key,
                             const std::string& hash, int ttl_hours);
bool idem_end(pqxx::connection& c, const std::string& scope, const std::string& key, int status,
              const std::string& body);
bool idem_drop(pqxx::connection& c, const std::string& scope, const std::string& key);

journal_entry journal_begin(pqxx::connection& c, const journal_call& in);
bool journal_end(pqxx::connection& c, const journal_call& in);
journal_entry journal_begin(pqxx::transaction_base& t, const journal_call& in);
bool journal_end(pqxx::transaction_base& t, const journal_call& in);
std::string journal_list(pqxx::connection& c, const std::string& workflow_id);

approval approval_add(pqxx::connection& c, const approval_request& in);
approval approval_get(pqxx::connection& c, const approval_filter& f);
approval_page approval_list(pqxx::connection& c, const approval_filter& f);
approval approval_decide(pqxx::connection& c, const approval_decision& d);
approval approval_set_result(pqxx::connection& c, const std::string& id, const std::string& result);

// Workflow executions and events (actors/stores/run_store.hpp).
run_row run_new(pqxx::connection& c, const run_spec& in);
std::string run_get(pqxx::connection& c, const std::string& id, const run_viewer& v);
run_row run_load(pqxx::connection& c, const std::string& id);
std::string run_list(pqxx::connection& c, const run_filter& f);
int64_t run_claim_lease(pqxx::connection& c, const run_claim& in);
std::vector<std::string> run_resumable(pqxx::connection& c, int32_t limit);
/// `run_save_atom` inside the caller's transaction (group commit: the pool's commit lanes).
run_saved run_store_progress(pqxx::transaction_base& t, const run_save& in);
std::vector<run_event> run_events(pqxx::connection& c, const std::string& id, int64_t since);

// Conversations (actors/stores/conversation_store.hpp); every string is cleaned with `pg_text`.
conversation_opened conv_open(pqxx::connection& c, const conversation_access& a,
                              const std::string& agent_type);
std::string conv_read(pqxx::connection& c, const conversation_access& a, int32_t limit,
                      int32_t offset);
std::vector<chat_line> conv_recent(pqxx::connection& c, const std::string& id, int32_t limit);
int64_t conv_delete(pqxx::connection& c, const conversation_access& a);
bool msg_add(pqxx::connection& c, const new_chat_message& m);
bool log_add(pqxx::connection& c, const agent_log_entry& e);
bool msg_add(pqxx::transaction_base& t, const new_chat_message& m);
/// `conv_open` inside the caller's transaction (group commit: the pool's commit lanes).
conversation_opened conv_open(pqxx::transaction_base& t, const conversation_access& a,
                              const std::string& agent_type);
bool log_add(pqxx::transaction_base& t, const agent_log_entry& e);
std::string agent_metrics(pqxx::connection& c);

// Shared memory (actors/stores/shared_memory_store.hpp).
memory_entry mem_put(pqxx::connection& c, const memory_write& w);
memory_entry mem_get(pqxx::connection& c, const memory_key& k);
std::vector<memory_entry> mem_list(pqxx::connection& c, const std::string& workflow_id,
                                   const std::string& conversation_id);

// Agent messages (actors/stores/agent_message_store.hpp).
bool amsg_write(pqxx::connection& c, const agent_message_batch& b);
agent_message_page amsg_list(pqxx::connection& c, const agent_message_filter& f);

} // namespace pixelcraft::persistence::detail
