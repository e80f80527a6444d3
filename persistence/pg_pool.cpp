#include "persistence/pg_pool.hpp"

#include "actors/deadline.hpp"
#include "actors/json_limits.hpp"
#include "actors/log.hpp"
#include "persistence/detail.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <vector>

namespace pixelcraft::persistence {

/// Writes of one kind in one statement: their documents in, their results out, in order.
using many_fn = std::vector<std::string> (*)(pqxx::transaction_base&,
                                             const std::vector<const std::string*>&);

/// One write waiting for a commit lane: run on a worker's thread inside the lane's shared
/// transaction, then answered by the router after the commit.
struct write_item {
  const char* op = "";
  std::function<void(pqxx::transaction_base&)> apply; ///< worker: runs it, keeps its result
  /// Optional: the batch's writes with the same `many` go in one statement (`doc` is this
  /// write's input, `take` keeps its result); `apply` still runs it alone when needed.
  many_fn many = nullptr;
  std::shared_ptr<const std::string> doc;
  std::function<void(std::string)> take;
  std::function<void()> done;             ///< router: answers with the result
  std::function<void(caf::error)> failed; ///< router: answers with an error
  caf::error error;                       ///< set by the worker: this item failed
  /// Set by the worker: the error is our own refusal (`detail::db_error`), thrown before the
  /// write changed anything, so the batch's transaction goes on without it.
  bool refused = false;
  /// Set by the worker once this write is committed: a re-run of the batch (after a lost
  /// connection) skips it, and a batch that fails later still answers it as stored.
  bool committed = false;
};

/// A lane's batch: handed to a worker and back, never copied (local only).
using write_batch = std::shared_ptr<std::vector<write_item>>;

} // namespace pixelcraft::persistence

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(pixelcraft::persistence::write_batch) // local only

namespace pixelcraft::persistence {

namespace {

constexpr const char* component = "pixelcraft.persistence";

struct worker_state {
  pool_options opts;
  /// Requests the router has handed this worker and it has not finished; the router reads it
  /// to pick the least busy worker (local only: the router and its workers share a process).
  std::shared_ptr<std::atomic<unsigned>> queued;
  std::unique_ptr<pqxx::connection> conn;
  std::chrono::steady_clock::time_point last_fail{};
  std::string last_error = "database unavailable";
  static inline const char* name = "pixelcraft.db-worker";
};

/// A pool worker: the store's operations, plus its share of the commit lanes' batches.
using worker_actor = db_actor::extend<caf::replies_to<commit_atom, write_batch>::with<bool>>;

void connect(worker_state& st) {
  auto started = std::chrono::steady_clock::now();
  auto c = std::make_unique<pqxx::connection>(
      with_connect_timeout(st.opts.dsn, st.opts.connect_timeout_s));
  {
    pqxx::nontransaction n{*c};
    n.exec("SET statement_timeout = " + std::to_string(st.opts.statement_timeout_ms));
    // A process frozen (SIGSTOP, a hung host) inside a transaction would hold its row locks
    // for as long as its connection lives, and every other node's claim of those executions
    // would wait behind them: the server ends such a session. Ours never idle in a
    // transaction: a transaction's statements (a batch's too) follow each other at once.
    n.exec("SET idle_in_transaction_session_timeout = " +
           std::to_string(st.opts.statement_timeout_ms));
    n.exec("SET TIME ZONE 'UTC'");
  }
  detail::migrate(*c);
  st.conn = std::move(c);
  auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started);
  log::info(component, "database connected", {{"latency_ms", ms.count()}});
}

bool is_connection_state(const std::string& sqlstate) {
  // 08: connection exception; 57P01..03: admin shutdown, crash shutdown, cannot connect now.
  return sqlstate.rfind("08", 0) == 0 || sqlstate == "57P01" || sqlstate == "57P02" ||
         sqlstate == "57P03";
}

/// A statement's error as the store's contract names it (not a connection error: see `run`).
caf::error statement_error(const pqxx::sql_error& e, const char* op) {
  auto state = e.sqlstate();
  if (state == "57014")
    return caf::make_error(errc::deadline_exceeded, "database statement timed out");
  if (state == "23505")
    return caf::make_error(errc::already_exists, "already exists");
  if (state == "40001" || state == "40P01")
    return caf::make_error(errc::aborted, "concurrent update, retry");
  if (state == "22P02" || state == "23514" || state == "22023")
    return caf::make_error(errc::invalid_argument, "invalid value");
  log::error(component, "sql error", {{"op", op}, {"sqlstate", state}, {"error", e.what()}});
  return caf::make_error(errc::internal, "database error");
}

/// Runs `f` on the worker's connection, (re)connecting as needed, and turns every exception
/// into a `caf::error`: no exception leaves persistence/.
template <class F>
caf::result<std::invoke_result_t<F&, pqxx::connection&>> run(worker_state& st, const char* op,
                                                             F&& f) {
  using clock = std::chrono::steady_clock;
  // Every handler of a worker runs exactly one `run`: its end is the request's end.
  struct finished {
    std::atomic<unsigned>& n;
    ~finished() { n.fetch_sub(1, std::memory_order_relaxed); }
  } guard{*st.queued};
  if (st.opts.dsn.empty())
    return caf::make_error(errc::unavailable, "DATABASE_URL is not set");
  for (int attempt = 0;; ++attempt) {
    bool fresh = false;
    auto lost = [&](const std::string& why) -> bool {
      st.conn.reset();
      st.last_fail = clock::now();
      st.last_error = "database unavailable";
      log::warn(component, "database connection lost", {{"op", op}, {"error", why}});
      return attempt == 0 && !fresh; // a stale connection gets one fresh try
    };
    try {
      if (st.conn && attempt == 0 && detail::closed_while_idle(*st.conn)) {
        st.conn.reset(); // PQfinish frees all it holds
        log::warn(component, "database connection closed by the server; reconnecting",
                  {{"op", op}});
      }
      if (!st.conn) {
        // Fail fast while the database is known to be down; health checks keep probing.
        if (attempt == 0 && clock::now() - st.last_fail < std::chrono::milliseconds(500))
          return caf::make_error(errc::unavailable, st.last_error);
        fresh = true;
        connect(st);
      }
      return f(*st.conn);
    } catch (const detail::db_error& e) {
      return caf::make_error(e.code, e.what());
    } catch (const pqxx::broken_connection& e) {
      if (lost(e.what()))
        continue;
      return caf::make_error(errc::unavailable, st.last_error);
    } catch (const pqxx::sql_error& e) {
      auto state = e.sqlstate();
      if (is_connection_state(state)) {
        if (lost(e.what()))
          continue;
        return caf::make_error(errc::unavailable, st.last_error);
      }
      return statement_error(e, op);
    } catch (const pqxx::in_doubt_error& e) {
      st.conn.reset();
      log::error(component, "transaction in doubt", {{"op", op}, {"error", e.what()}});
      return caf::make_error(errc::unavailable, "database connection lost during commit");
    } catch (const std::exception& e) {
      if (st.conn && !st.conn->is_open()) {
        if (lost(e.what()))
          continue;
        return caf::make_error(errc::unavailable, st.last_error);
      }
      log::error(component, "database failure", {{"op", op}, {"error", e.what()}});
      return caf::make_error(errc::internal, "database error");
    }
  }
}

/// Runs `it` inside `t`; a statement error is the item's own (returned), a lost connection
/// is everyone's (thrown).
caf::error apply_one(pqxx::connection& c, pqxx::transaction_base& t, write_item& it) {
  it.refused = false;
  try {
    it.apply(t);
    return {};
  } catch (const pqxx::broken_connection&) {
    throw;
  } catch (const pqxx::in_doubt_error&) {
    throw;
  } catch (const detail::db_error& e) {
    // The group-committed writes throw these only before they write (a refused conversation,
    // a lease that moved on, a malformed argument): the transaction is intact.
    it.refused = true;
    return caf::make_error(e.code, e.what());
  } catch (const pqxx::sql_error& e) {
    if (is_connection_state(e.sqlstate()))
      throw;
    return statement_error(e, it.op);
  } catch (const std::exception& e) {
    if (!c.is_open())
      throw;
    log::error(component, "database failure", {{"op", it.op}, {"error", e.what()}});
    return caf::make_error(errc::internal, "database error");
  }
}

/// Runs the batch's writes in `t`: those that share a `many` statement all in one (a
/// statement's start-up is paid once: lead inserts read the table's check constraints at
/// each), the others one by one. False at the first failure, whose error is set on the write
/// (for a group, on its first write: the caller retries each write alone anyway).
bool apply_batch(pqxx::connection& c, pqxx::transaction_base& t, std::vector<write_item>& items) {
  std::map<many_fn, std::vector<write_item*>> groups;
  for (auto& it : items) {
    if (it.committed)
      continue; // a re-run after a lost connection: stored already
    if (it.many) {
      groups[it.many].push_back(&it);
      continue;
    }
    it.error = apply_one(c, t, it);
    if (it.error && !it.refused)
      return false;
  }
  for (auto& [many, group] : groups) {
    if (group.size() == 1) {
      group[0]->error = apply_one(c, t, *group[0]);
      if (group[0]->error && !group[0]->refused)
        return false;
      continue;
    }
    std::vector<const std::string*> docs;
    docs.reserve(group.size());
    for (auto* it : group)
      docs.push_back(it->doc.get());
    std::vector<std::string> out;
    write_item whole;
    whole.op = group[0]->op;
    whole.apply = [&out, &docs, many = many](pqxx::transaction_base& tx) { out = many(tx, docs); };
    group[0]->error = apply_one(c, t, whole);
    if (group[0]->error) {
      group[0]->refused = false; // the group's statement failed, not this write alone
      return false;
    }
    for (size_t i = 0; i < group.size(); ++i)
      group[i]->take(std::move(out[i]));
  }
  return true;
}

/// Runs a lane's batch in one transaction and one commit. A write we refuse ourselves (before
/// it writes) fails alone inside it. When a statement fails (a constraint, a bad value, a
/// timeout), nothing of the batch is stored and each write is retried alone, in its own
/// transaction: the one that failed fails alone. A lost connection fails what is not yet
/// committed (`run` may re-run the batch on a fresh connection: committed writes are skipped).
bool commit_batch(pqxx::connection& c, std::vector<write_item>& items) {
  {
    pqxx::work w{c};
    bool clean = apply_batch(c, w, items);
    if (clean) {
      w.commit();
      for (auto& it : items)
        it.committed = it.committed || !it.error;
      return true;
    }
  } // rolled back
  for (auto& it : items) {
    if (it.committed)
      continue;
    pqxx::work w{c};
    it.error = apply_one(c, w, it);
    if (!it.error) {
      w.commit();
      it.committed = true;
    }
  }
  return true;
}

worker_actor::behavior_type worker(worker_actor::stateful_pointer<worker_state> self,
                                   pool_options opts,
                                   std::shared_ptr<std::atomic<unsigned>> queued) {
  self->state.opts = std::move(opts);
  self->state.queued = std::move(queued);
  auto& st = self->state;
  return {
      [&st](commit_atom, write_batch& batch) {
        return run(st, "commit", [&](pqxx::connection& c) { return commit_batch(c, *batch); });
      },
      [&st](ping_atom) {
        return run(st, "ping", [](pqxx::connection& c) {
          auto t0 = std::chrono::steady_clock::now();
          {
            pqxx::nontransaction n{c};
            n.exec1("SELECT 1");
          }
          auto ms =
              std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0);
          return db_ping{ms.count(), static_cast<int32_t>(detail::schema_version(c))};
        });
      },
      [&st](lead_new_atom, const lead_input& in) {
        return run(st, "lead_insert", [&](pqxx::connection& c) {
          return detail::lead_insert(c, detail::lead_document(in));
        });
      },
      [&st](lead_get_atom, const std::string& id) {
        return run(st, "lead_get",
                   [&](pqxx::connection& c) { return detail::lead_get(c, detail::pg_text(id)); });
      },
      [&st](lead_list_atom, const lead_filter& filter) {
        return run(st, "lead_list", [&](pqxx::connection& c) {
          return detail::lead_list(c, detail::lead_filter_document(filter));
        });
      },
      [&st](lead_upd_atom, const std::string& id, const lead_patch& patch) {
        return run(st, "lead_update", [&](pqxx::connection& c) {
          return detail::lead_update(c, detail::pg_text(id), detail::lead_patch_document(patch));
        });
      },
      [&st](lead_anl_atom, const std::string& id, const std::string& analysis) {
        return run(st, "lead_analysis", [&](pqxx::connection& c) {
          return detail::lead_set_analysis(c, detail::pg_text(id), detail::pg_json_text(analysis));
        });
      },
      [&st](idem_begin_atom, const std::string& scope, const std::string& key,
            const std::string& hash, int32_t ttl_hours) {
        return run(st, "idem_begin", [&](pqxx::connection& c) {
          return detail::idem_begin(c, detail::pg_text(scope), detail::pg_text(key),
                                    detail::pg_text(hash), ttl_hours);
        });
      },
      [&st](idem_end_atom, const std::string& scope, const std::string& key, int32_t status,
            const std::string& body) {
        return run(st, "idem_end", [&](pqxx::connection& c) {
          return detail::idem_end(c, detail::pg_text(scope), detail::pg_text(key), status,
                                  detail::pg_text(body));
        });
      },
      [&st](idem_drop_atom, const std::string& scope, const std::string& key) {
        return run(st, "idem_drop", [&](pqxx::connection& c) {
          return detail::idem_drop(c, detail::pg_text(scope), detail::pg_text(key));
        });
      },
      [&st](run_new_atom, const run_spec& in) {
        return run(st, "run_new", [&](pqxx::connection& c) { return detail::run_new(c, in); });
      },
      [&st](run_get_atom, const std::string& id, const run_viewer& v) {
        return run(st, "run_get", [&](pqxx::connection& c) { return detail::run_get(c, id, v); });
      },
      [&st](run_list_atom, const run_filter& f) {
        return run(st, "run_list", [&](pqxx::connection& c) { return detail::run_list(c, f); });
      },
      [&st](run_load_atom, const std::string& id) {
        return run(st, "run_load", [&](pqxx::connection& c) { return detail::run_load(c, id); });
      },
      [&st](run_claim_atom, const run_claim& in) {
        return run(st, "run_claim",
                   [&](pqxx::connection& c) { return detail::run_claim_lease(c, in); });
      },
      [&st](run_resumable_atom, int32_t limit) {
        return run(st, "run_resumable",
                   [&](pqxx::connection& c) { return detail::run_resumable(c, limit); });
      },
      [&st](run_save_atom, const run_save& in) {
        return run(st, "run_save", [&](pqxx::connection& c) {
          return detail::committed(
              c, [&](pqxx::transaction_base& t) { return detail::run_store_progress(t, in); });
        });
      },
      [&st](run_events_atom, const std::string& id, int64_t since) {
        return run(st, "run_events",
                   [&](pqxx::connection& c) { return detail::run_events(c, id, since); });
      },
      [&st](journal_begin_atom, const journal_call& in) {
        return run(st, "journal_begin",
                   [&](pqxx::connection& c) { return detail::journal_begin(c, in); });
      },
      [&st](journal_end_atom, const journal_call& in) {
        return run(st, "journal_end",
                   [&](pqxx::connection& c) { return detail::journal_end(c, in); });
      },
      [&st](journal_list_atom, const std::string& workflow_id) {
        return run(st, "journal_list",
                   [&](pqxx::connection& c) { return detail::journal_list(c, workflow_id); });
      },
      [&st](appr_add_atom, const approval_request& in) {
        return run(st, "approval_add",
                   [&](pqxx::connection& c) { return detail::approval_add(c, in); });
      },
      [&st](appr_get_atom, const approval_filter& f) {
        return run(st, "approval_get",
                   [&](pqxx::connection& c) { return detail::approval_get(c, f); });
      },
      [&st](appr_list_atom, const approval_filter& f) {
        return run(st, "approval_list",
                   [&](pqxx::connection& c) { return detail::approval_list(c, f); });
      },
      [&st](appr_decide_atom, const approval_decision& d) {
        return run(st, "approval_decide",
                   [&](pqxx::connection& c) { return detail::approval_decide(c, d); });
      },
      [&st](appr_result_atom, const std::string& id, const std::string& result) {
        return run(st, "approval_result",
                   [&](pqxx::connection& c) { return detail::approval_set_result(c, id, result); });
      },
      [&st](conv_open_atom, const conversation_access& a, const std::string& agent_type) {
        return run(st, "conv_open",
                   [&](pqxx::connection& c) { return detail::conv_open(c, a, agent_type); });
      },
      [&st](conv_read_atom, const conversation_access& a, int32_t limit, int32_t offset) {
        return run(st, "conv_read",
                   [&](pqxx::connection& c) { return detail::conv_read(c, a, limit, offset); });
      },
      [&st](conv_recent_atom, const std::string& id, int32_t limit) {
        return run(st, "conv_recent",
                   [&](pqxx::connection& c) { return detail::conv_recent(c, id, limit); });
      },
      [&st](conv_delete_atom, const conversation_access& a) {
        return run(st, "conv_delete",
                   [&](pqxx::connection& c) { return detail::conv_delete(c, a); });
      },
      [&st](msg_add_atom, const new_chat_message& m) {
        return run(st, "msg_add", [&](pqxx::connection& c) { return detail::msg_add(c, m); });
      },
      [&st](log_add_atom, const agent_log_entry& e) {
        return run(st, "log_add", [&](pqxx::connection& c) { return detail::log_add(c, e); });
      },
      [&st](agent_metrics_atom) {
        return run(st, "agent_metrics",
                   [&](pqxx::connection& c) { return detail::agent_metrics(c); });
      },
      [&st](amsg_write_atom, const agent_message_batch& b) {
        return run(st, "amsg_write", [&](pqxx::connection& c) { return detail::amsg_write(c, b); });
      },
      [&st](amsg_list_atom, const agent_message_filter& f) {
        return run(st, "amsg_list", [&](pqxx::connection& c) { return detail::amsg_list(c, f); });
      },
      [&st](mem_put_atom, const memory_write& w) {
        return run(st, "mem_put", [&](pqxx::connection& c) { return detail::mem_put(c, w); });
      },
      [&st](mem_get_atom, const memory_key& k) {
        return run(st, "mem_get", [&](pqxx::connection& c) { return detail::mem_get(c, k); });
      },
      [&st](mem_list_atom, const std::string& workflow_id, const std::string& conversation_id) {
        return run(st, "mem_list", [&](pqxx::connection& c) {
          return detail::mem_list(c, workflow_id, conversation_id);
        });
      },
  };
}

struct router_state {
  std::vector<worker_actor> workers;
  std::vector<std::shared_ptr<std::atomic<unsigned>>> queued; ///< per worker, see worker_state
  size_t next = 0;
  /// The worker with the fewest unfinished requests (ties in turn). Round-robin would queue a
  /// read behind a statement that waits on a lock, or behind a lane's batch, while other
  /// workers sit idle.
  const worker_actor& pick() {
    size_t best = next++ % workers.size();
    unsigned least = queued[best]->load(std::memory_order_relaxed);
    for (size_t k = 1; k < workers.size() && least > 0; ++k) {
      size_t i = (best + k) % workers.size();
      if (auto n = queued[i]->load(std::memory_order_relaxed); n < least) {
        least = n;
        best = i;
      }
    }
    queued[best]->fetch_add(1, std::memory_order_relaxed);
    return workers[best];
  }
  /// Group commit: writes wait here while every lane has a batch in flight, and go together
  /// in the next free lane's transaction. At low load a write goes at once, alone.
  std::vector<write_item> waiting;
  unsigned lanes = 1;     ///< batches in flight at most (half the workers: reads keep the rest)
  unsigned in_flight = 0; ///< batches in flight now
  std::chrono::milliseconds batch_timeout{10000};
  static inline const char* name = "pixelcraft.db-pool";
};

using router_pointer = db_actor::stateful_pointer<router_state>;

constexpr size_t max_batch = 256;

/// Hands waiting writes to free lanes; each batch's writers are answered after its commit.
void flush(router_pointer self) {
  auto& st = self->state;
  while (!st.waiting.empty() && st.in_flight < st.lanes) {
    auto batch = std::make_shared<std::vector<write_item>>();
    auto n = std::min(max_batch, st.waiting.size());
    batch->reserve(n);
    std::move(st.waiting.begin(), st.waiting.begin() + static_cast<std::ptrdiff_t>(n),
              std::back_inserter(*batch));
    st.waiting.erase(st.waiting.begin(), st.waiting.begin() + static_cast<std::ptrdiff_t>(n));
    ++st.in_flight;
    self->request(st.pick(), st.batch_timeout, commit_atom_v, batch)
        .then(
            [self, batch](bool) {
              --self->state.in_flight;
              for (auto& it : *batch)
                if (it.error)
                  it.failed(std::move(it.error));
                else
                  it.done();
              flush(self);
            },
            [self, batch](caf::error& err) {
              --self->state.in_flight;
              // The worker answered (the connection was lost part-way): what it committed is
              // stored. After a timeout it may still be working: nothing of it can be read.
              bool answered = err != caf::sec::request_timeout;
              for (auto& it : *batch)
                if (answered && it.committed)
                  it.done();
                else
                  it.failed(err);
              flush(self);
            });
  }
}

/// Queues `it` for the commit lanes; `result` (which `it` fills) answers the caller once the
/// lane's transaction has committed, or the batch's error does.
template <class Reply>
caf::result<Reply> enqueue_write(router_pointer self, write_item it,
                                 std::shared_ptr<Reply> result) {
  auto rp = self->make_response_promise<Reply>();
  it.done = [rp, result]() mutable { rp.deliver(std::move(*result)); };
  it.failed = [rp](caf::error err) mutable { rp.deliver(std::move(err)); };
  self->state.waiting.push_back(std::move(it));
  flush(self);
  return rp;
}

/// Queues a write for the commit lanes: `apply(transaction)` runs on a worker and its result
/// answers the caller once the lane's transaction has committed.
template <class Reply, class Apply>
caf::result<Reply> group_commit(router_pointer self, const char* op, Apply apply) {
  auto result = std::make_shared<Reply>();
  write_item it;
  it.op = op;
  it.apply = [apply = std::move(apply), result](pqxx::transaction_base& t) { *result = apply(t); };
  return enqueue_write(self, std::move(it), std::move(result));
}

/// `group_commit` for a write made of one document with a text result, which goes in one
/// statement (`many`) with the other writes of its kind in the same batch.
caf::result<std::string>
group_commit_doc(router_pointer self, const char* op, std::string doc,
                 std::string (*one)(pqxx::transaction_base&, const std::string&), many_fn many) {
  auto result = std::make_shared<std::string>();
  auto input = std::make_shared<const std::string>(std::move(doc));
  write_item it;
  it.op = op;
  it.apply = [input, one, result](pqxx::transaction_base& t) { *result = one(t, *input); };
  it.many = many;
  it.doc = input;
  it.take = [result](std::string out) { *result = std::move(out); };
  return enqueue_write(self, std::move(it), std::move(result));
}

db_actor::behavior_type router(router_pointer self, pool_options opts) {
  auto n = std::max(1u, opts.size);
  for (unsigned i = 0; i < n; ++i) {
    auto queued = std::make_shared<std::atomic<unsigned>>(0);
    self->state.queued.push_back(queued);
    self->state.workers.push_back(self->spawn<caf::detached + caf::linked>(worker, opts, queued));
  }
  auto& st = self->state;
  st.lanes = std::max(1u, n / 2);
  // Each statement of a batch is bounded by statement_timeout; a batch of them by a few.
  st.batch_timeout = deadlines::db_batch(opts.statement_timeout_ms);
  return {
      [self, &st](ping_atom a) { return self->delegate(st.pick(), a); },
      [self](lead_new_atom, lead_input& x) {
        // The document is made here: a bad analysis or metadata fails this lead alone.
        std::string doc;
        try {
          doc = detail::lead_document(x);
        } catch (const detail::db_error& e) {
          return caf::result<std::string>{caf::make_error(e.code, e.what())};
        }
        return group_commit_doc(
            self, "lead_insert", std::move(doc),
            [](pqxx::transaction_base& t, const std::string& d) {
              return detail::lead_insert(t, d);
            },
            &detail::lead_insert_many);
      },
      [self, &st](lead_get_atom a, std::string& x) {
        return self->delegate(st.pick(), a, std::move(x));
      },
      [self, &st](lead_list_atom a, lead_filter& x) {
        return self->delegate(st.pick(), a, std::move(x));
      },
      [self, &st](lead_upd_atom a, std::string& x, lead_patch& y) {
        return self->delegate(st.pick(), a, std::move(x), std::move(y));
      },
      [self, &st](lead_anl_atom a, std::string& x, std::string& y) {
        return self->delegate(st.pick(), a, std::move(x), std::move(y));
      },
      [self, &st](idem_begin_atom a, std::string& s, std::string& k, std::string& h, int32_t t) {
        return self->delegate(st.pick(), a, std::move(s), std::move(k), std::move(h), t);
      },
      [self, &st](idem_end_atom a, std::string& s, std::string& k, int32_t code, std::string& b) {
        return self->delegate(st.pick(), a, std::move(s), std::move(k), code, std::move(b));
      },
      [self, &st](idem_drop_atom a, std::string& s, std::string& k) {
        return self->delegate(st.pick(), a, std::move(s), std::move(k));
      },
      [self, &st](run_new_atom a, run_spec& x) {
        return self->delegate(st.pick(), a, std::move(x));
      },
      [self, &st](run_get_atom a, std::string& id, run_viewer& v) {
        return self->delegate(st.pick(), a, std::move(id), std::move(v));
      },
      [self, &st](run_list_atom a, run_filter& x) {
        return self->delegate(st.pick(), a, std::move(x));
      },
      [self, &st](run_load_atom a, std::string& id) {
        return self->delegate(st.pick(), a, std::move(id));
      },
      [self, &st](run_claim_atom a, run_claim& x) {
        return self->delegate(st.pick(), a, std::move(x));
      },
      [self, &st](run_resumable_atom a, int32_t limit) {
        return self->delegate(st.pick(), a, limit);
      },
      [self](run_save_atom, run_save& x) {
        // Step records of many executions commit together (one transaction per batch); their
        // text is cleaned where it is bound (a NUL from a model never fails a save).
        return group_commit<run_saved>(self, "run_save",
                                       [x = std::move(x)](pqxx::transaction_base& t) {
                                         return detail::run_store_progress(t, x);
                                       });
      },
      [self, &st](run_events_atom a, std::string& id, int64_t since) {
        return self->delegate(st.pick(), a, std::move(id), since);
      },
      [self](journal_begin_atom, journal_call& x) {
        return group_commit<journal_entry>(
            self, "journal_begin",
            [x = std::move(x)](pqxx::transaction_base& t) { return detail::journal_begin(t, x); });
      },
      [self](journal_end_atom, journal_call& x) {
        return group_commit<bool>(
            self, "journal_end",
            [x = std::move(x)](pqxx::transaction_base& t) { return detail::journal_end(t, x); });
      },
      [self, &st](journal_list_atom a, std::string& x) {
        return self->delegate(st.pick(), a, std::move(x));
      },
      [self, &st](appr_add_atom a, approval_request& x) {
        return self->delegate(st.pick(), a, std::move(x));
      },
      [self, &st](appr_get_atom a, approval_filter& x) {
        return self->delegate(st.pick(), a, std::move(x));
      },
      [self, &st](appr_list_atom a, approval_filter& x) {
        return self->delegate(st.pick(), a, std::move(x));
      },
      [self, &st](appr_decide_atom a, approval_decision& x) {
        return self->delegate(st.pick(), a, std::move(x));
      },
      [self, &st](appr_result_atom a, std::string& x, std::string& y) {
        return self->delegate(st.pick(), a, std::move(x), std::move(y));
      },
      [self](conv_open_atom, conversation_access& x, std::string& agent) {
        // A new chat's model call waits for this commit: it shares one with the others.
        return group_commit<conversation_opened>(
            self, "conv_open",
            [x = std::move(x), agent = std::move(agent)](pqxx::transaction_base& t) {
              return detail::conv_open(t, x, agent);
            });
      },
      [self, &st](conv_read_atom a, conversation_access& x, int32_t limit, int32_t offset) {
        return self->delegate(st.pick(), a, std::move(x), limit, offset);
      },
      [self, &st](conv_recent_atom a, std::string& id, int32_t limit) {
        return self->delegate(st.pick(), a, std::move(id), limit);
      },
      [self, &st](conv_delete_atom a, conversation_access& x) {
        return self->delegate(st.pick(), a, std::move(x));
      },
      [self](msg_add_atom, new_chat_message& m) {
        return group_commit<bool>(self, "msg_add", [m = std::move(m)](pqxx::transaction_base& t) {
          return detail::msg_add(t, m);
        });
      },
      [self](log_add_atom, agent_log_entry& e) {
        return group_commit<bool>(self, "log_add", [e = std::move(e)](pqxx::transaction_base& t) {
          return detail::log_add(t, e);
        });
      },
      [self, &st](agent_metrics_atom a) { return self->delegate(st.pick(), a); },
      [self, &st](amsg_write_atom a, agent_message_batch& b) {
        return self->delegate(st.pick(), a, std::move(b));
      },
      [self, &st](amsg_list_atom a, agent_message_filter& f) {
        return self->delegate(st.pick(), a, std::move(f));
      },
      [self, &st](mem_put_atom a, memory_write& w) {
        return self->delegate(st.pick(), a, std::move(w));
      },
      [self, &st](mem_get_atom a, memory_key& k) {
        return self->delegate(st.pick(), a, std::move(k));
      },
      [self, &st](mem_list_atom a, std::string& workflow_id, std::string& conversation_id) {
        return self->delegate(st.pick(), a, std::move(workflow_id), std::move(conversation_id));
      },
  };
}

} // namespace

db_actor spawn_db_pool(caf::actor_system& sys, pool_options opts) {
  return sys.spawn(router, std::move(opts));
}

} // namespace pixelcraft::persistence
