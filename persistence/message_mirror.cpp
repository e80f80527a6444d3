#include "persistence/message_mirror.hpp"

#include "actors/agent_message.hpp"
#include "actors/deadline.hpp"
#include "actors/errc.hpp"
#include "actors/ids.hpp"
#include "actors/log.hpp"

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <algorithm>
#include <deque>
#include <limits>
#include <set>
#include <unordered_map>
#include <vector>

namespace pixelcraft {

namespace {

constexpr const char* component = "pixelcraft.mirror";

int rank(const std::string& status) {
  if (status == "pending")
    return 0;
  if (status == "delivered")
    return 1;
  if (status == "processed")
    return 2;
  return 3; // failed
}

/// Whether `next` may replace `current` (forward only; processed and failed are final).
bool moves_forward(const std::string& current, const std::string& next) {
  return rank(current) < 2 && rank(next) > rank(current);
}

/// Rows and status changes waiting to be written. Every item carries the sequence number it
/// arrived with (the oldest one not yet written, per message id), so that a flush knows when
/// everything before it is done.
struct batch {
  std::vector<agent_message> rows;
  // Hashed: at 100k messages a second the three lookups per message were the mirror's top
  // cost as ordered maps (string compares of random ids). Nothing depends on their order.
  std::unordered_map<std::string, size_t> row_at;      ///< message id -> index in rows
  std::unordered_map<std::string, std::string> status; ///< message id -> newest status (stored)
  std::unordered_map<std::string, uint64_t> seq;       ///< message id -> oldest sequence number

  bool empty() const { return rows.empty() && status.empty(); }
  size_t size() const { return rows.size() + status.size(); }

  void note(const std::string& id, uint64_t n) {
    auto [it, fresh] = seq.emplace(id, n);
    if (!fresh)
      it->second = std::min(it->second, n);
  }

  uint64_t min_seq() const {
    auto out = std::numeric_limits<uint64_t>::max();
    for (const auto& [id, n] : seq)
      out = std::min(out, n);
    return out;
  }

  void put(agent_message row, uint64_t n) {
    auto id = row.message_id;
    note(id, n);
    if (auto it = row_at.find(id); it != row_at.end()) {
      rows[it->second] = std::move(row);
      return;
    }
    row_at.emplace(id, rows.size());
    rows.push_back(std::move(row));
  }

  void set_status(const std::string& id, const std::string& next, uint64_t n) {
    note(id, n);
    if (auto it = row_at.find(id); it != row_at.end()) {
      auto& row = rows[it->second];
      if (moves_forward(row.status, next))
        row.status = next;
      return;
    }
    auto it = status.find(id);
    if (it == status.end())
      status.emplace(id, next);
    else if (moves_forward(it->second, next))
      it->second = next;
  }

  /// Puts a failed write back in front of what arrived since.
  void merge_older(batch older) {
    for (auto& [id, next] : status)
      older.set_status(id, next, seq[id]);
    for (auto& row : rows) {
      auto id = row.message_id;
      auto st = row.status;
      auto n = seq[id];
      older.put(row, n);
      older.set_status(id, st, n);
    }
    *this = std::move(older);
  }

  /// One batch per row and per status change: how a refused batch is retried.
  std::vector<batch> singles() const {
    std::vector<batch> out;
    for (const auto& row : rows) {
      batch b;
      b.put(row, seq.at(row.message_id));
      out.push_back(std::move(b));
    }
    for (const auto& [id, next] : status) {
      batch b;
      b.set_status(id, next, seq.at(id));
      out.push_back(std::move(b));
    }
    return out;
  }

  /// What `amsg_write_atom` stores (a copy: the batch is kept until the write is answered).
  agent_message_batch to_write() const {
    agent_message_batch out;
    out.rows = rows;
    out.status_ids.reserve(status.size());
    out.statuses.reserve(status.size());
    for (const auto& [id, next] : status) {
      out.status_ids.push_back(id);
      out.statuses.push_back(next);
    }
    return out;
  }
};

/// Someone waiting for the mirror: a flush (everything up to `upto`) or a store (one row).
struct waiter {
  caf::typed_response_promise<bool> rp;
  uint64_t upto = 0;
  std::string row_id; ///< set: waits for this row only
};

struct mirror_state {
  message_mirror_options opts;
  batch queued;
  std::deque<batch> isolating; ///< single-item batches of a refused batch, written first
  batch in_flight;
  bool writing = false;
  bool timer_armed = false;
  bool retry_armed = false;
  uint64_t next_seq = 0;
  std::vector<waiter> waiters;
  uint64_t dropped = 0;
  static inline const char* name = "pixelcraft.message-mirror";

  /// The oldest sequence number not yet written (max when nothing is pending).
  uint64_t pending_from() const {
    auto out = std::min(queued.min_seq(), in_flight.min_seq());
    for (const auto& b : isolating)
      out = std::min(out, b.min_seq());
    return out;
  }
};

using mirror_impl = message_mirror_actor::extend<caf::reacts_to<tick_atom>>;
using mirror_pointer = mirror_impl::stateful_pointer<mirror_state>;

void start_write(mirror_pointer self);

/// Answers the waiters for which `pick` returns true: with `err`, or `true` without one.
template <class Pred> void answer_if(mirror_pointer self, Pred pick, const caf::error& err = {}) {
  auto& ws = self->state.waiters;
  auto keep = std::partition(ws.begin(), ws.end(), [&](const waiter& w) { return !pick(w); });
  for (auto it = keep; it != ws.end(); ++it)
    if (err)
      it->rp.deliver(err);
    else
      it->rp.deliver(true);
  ws.erase(keep, ws.end());
}

/// After a write: stores whose row was in `written` are done, flushes whose range is done too.
void answer_written(mirror_pointer self, const batch& written) {
  auto from = self->state.pending_from();
  answer_if(self, [&](const waiter& w) {
    return w.row_id.empty() ? w.upto < from : written.row_at.count(w.row_id) > 0;
  });
}

/// A write failed for a reason that may pass: its waiters learn now, its rows stay queued.
void answer_failed(mirror_pointer self, const batch& failed, const caf::error& err) {
  auto from = failed.min_seq();
  answer_if(
      self,
      [&](const waiter& w) {
        return w.row_id.empty() ? w.upto >= from : failed.seq.count(w.row_id) > 0;
      },
      err);
}

void bound_queue(mirror_pointer self) {
  auto& st = self->state;
  if (st.queued.size() <= st.opts.max_queued)
    return;
  // Oldest rows first; their later status changes then update nothing.
  auto excess = st.queued.size() - st.opts.max_queued;
  batch kept;
  std::set<std::string> lost;
  for (size_t i = 0; i < st.queued.rows.size(); ++i) {
    auto id = st.queued.rows[i].message_id;
    if (i >= excess)
      kept.put(std::move(st.queued.rows[i]), st.queued.seq[id]);
    else
      lost.insert(id);
  }
  for (auto& [id, next] : st.queued.status)
    kept.set_status(id, next, st.queued.seq[id]);
  auto dropped = std::min(excess, st.queued.rows.size());
  st.dropped += dropped;
  st.queued = std::move(kept);
  log::warn(component, "agent messages dropped from the mirror: the database is not keeping up",
            {{"dropped", dropped}, {"dropped_total", st.dropped}});
  answer_if(
      self, [&](const waiter& w) { return w.row_id.empty() || lost.count(w.row_id) > 0; },
      caf::make_error(errc::unavailable, "agent messages dropped: the database is not keeping up"));
}

/// Something was queued: write now, or soon.
void schedule(mirror_pointer self) {
  auto& st = self->state;
  bound_queue(self);
  if (st.writing || st.retry_armed)
    return;
  if (st.queued.size() >= st.opts.max_batch || !st.waiters.empty())
    return start_write(self);
  if (!st.timer_armed) {
    st.timer_armed = true;
    self->delayed_send(self, st.opts.linger, tick_atom_v);
  }
}

bool transient(const caf::error& err) {
  return err == caf::sec::request_timeout || err == caf::sec::request_receiver_down ||
         err == errc::unavailable || err == errc::deadline_exceeded || err == errc::aborted;
}

void start_write(mirror_pointer self) {
  auto& st = self->state;
  if (st.writing)
    return;
  if (!st.isolating.empty()) {
    st.in_flight = std::move(st.isolating.front());
    st.isolating.pop_front();
  } else if (!st.queued.empty()) {
    st.in_flight = std::move(st.queued);
    st.queued = batch{};
  } else {
    answer_written(self, batch{}); // nothing pending: every flush is done
    return;
  }
  st.writing = true;
  bool single = st.in_flight.size() == 1;
  self->request(st.opts.db, deadlines::db(st.opts.db_timeout_ms), amsg_write_atom_v,
                st.in_flight.to_write())
      .then(
          [self](bool) {
            auto& st = self->state;
            st.writing = false;
            auto written = std::move(st.in_flight);
            st.in_flight = batch{};
            answer_written(self, written);
            if (!st.queued.empty() || !st.isolating.empty() || !st.waiters.empty())
              start_write(self);
          },
          [self, single](caf::error& err) {
            auto& st = self->state;
            st.writing = false;
            auto failed = std::move(st.in_flight);
            st.in_flight = batch{};
            if (transient(err)) {
              log::warn(component, "agent message mirror write failed; retrying",
                        {{"count", failed.size()}, {"error", caf::to_string(err)}});
              answer_failed(self, failed, err);
              if (single)
                st.isolating.push_front(std::move(failed));
              else
                st.queued.merge_older(std::move(failed));
              bound_queue(self);
              st.retry_armed = true;
              self->delayed_send(self, std::chrono::seconds(1), tick_atom_v);
              return;
            }
            if (!single) {
              // Refused for good: one row (or status change) is at fault. Row by row, so only it
              // fails and every other one is stored.
              log::warn(component, "agent message batch refused; retrying row by row",
                        {{"count", failed.size()}, {"error", caf::to_string(err)}});
              auto parts = failed.singles();
              st.isolating.insert(st.isolating.begin(), std::make_move_iterator(parts.begin()),
                                  std::make_move_iterator(parts.end()));
            } else {
              auto id = failed.seq.empty() ? std::string{} : failed.seq.begin()->first;
              log::error(component, "agent message refused by the database; dropped",
                         {{"message_id", id}, {"error", caf::to_string(err)}});
              answer_if(
                  self, [&](const waiter& w) { return !w.row_id.empty() && w.row_id == id; }, err);
              answer_written(self, batch{}); // flushes are not failed by another row
            }
            start_write(self);
          });
}

mirror_impl::behavior_type mirror_fn(mirror_pointer self, message_mirror_options opts) {
  self->state.opts = std::move(opts);
  self->set_exit_handler([self](caf::exit_msg& em) {
    auto& st = self->state;
    auto lost = st.queued.size() + st.in_flight.size();
    for (const auto& b : st.isolating)
      lost += b.size();
    if (lost > 0)
      log::warn(component, "agent messages not mirrored at shutdown", {{"count", lost}});
    answer_if(
        self, [](const waiter&) { return true; },
        caf::make_error(errc::unavailable, "shutting down"));
    self->quit(em.reason);
  });
  // Checks and queues one row; returns its id, or the reason it was refused.
  auto accept = [self](agent_message& row, std::string& id) -> std::string {
    auto& st = self->state;
    auto problem = agent_message_problem(row, st.opts.max_row_bytes);
    if (!problem.empty()) {
      log::warn(component, "agent message refused before batching", {{"reason", problem}});
      return problem;
    }
    id = row.message_id;
    st.queued.put(std::move(row), ++st.next_seq);
    return {};
  };
  return {
      [self, accept](mirror_put_atom, agent_message& row) {
        std::string id;
        if (accept(row, id).empty())
          schedule(self);
      },
      [self, accept](mirror_store_atom, agent_message& row) -> caf::result<bool> {
        std::string id;
        auto problem = accept(row, id);
        if (!problem.empty())
          return caf::make_error(errc::invalid_argument, "agent message refused: " + problem);
        auto rp = self->make_response_promise<bool>();
        self->state.waiters.push_back({rp, 0, id});
        schedule(self);
        return rp;
      },
      [self](mirror_status_atom, const std::vector<std::string>& ids, const std::string& status) {
        if (!known_message_status(status))
          return;
        auto& st = self->state;
        for (const auto& id : ids)
          if (is_uuid(id))
            st.queued.set_status(id, status, ++st.next_seq);
        schedule(self);
      },
      [self](mirror_flush_atom) -> caf::result<bool> {
        auto& st = self->state;
        if (st.pending_from() == std::numeric_limits<uint64_t>::max())
          return true;
        auto rp = self->make_response_promise<bool>();
        st.waiters.push_back({rp, st.next_seq, {}});
        if (!st.retry_armed)
          start_write(self);
        return rp;
      },
      [self](tick_atom) {
        auto& st = self->state;
        st.timer_armed = false;
        st.retry_armed = false;
        start_write(self);
      },
  };
}

} // namespace

message_mirror_actor spawn_message_mirror(caf::actor_system& sys, message_mirror_options opts) {
  return caf::actor_cast<message_mirror_actor>(sys.spawn(mirror_fn, std::move(opts)));
}

} // namespace pixelcraft
