#include "actors/message_mirror.hpp"

#include <map>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <nlohmann/json.hpp>

#include "actors/errc.hpp"
#include "actors/ids.hpp"
#include "actors/log.hpp"

namespace pixelcraft {

namespace {

using json = nlohmann::json;
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

struct batch {
  std::vector<json> rows;
  std::map<std::string, size_t> row_at;         ///< message id -> index in rows
  std::map<std::string, std::string> status;    ///< message id -> newest status (rows stored)

  bool empty() const { return rows.empty() && status.empty(); }
  size_t size() const { return rows.size() + status.size(); }

  void put(json row) {
    auto id = row.value("message_id", std::string{});
    if (auto it = row_at.find(id); it != row_at.end()) {
      rows[it->second] = std::move(row);
      return;
    }
    row_at.emplace(id, rows.size());
    rows.push_back(std::move(row));
  }

  void set_status(const std::string& id, const std::string& next) {
    if (auto it = row_at.find(id); it != row_at.end()) {
      auto& row = rows[it->second];
      if (moves_forward(row.value("status", std::string{"pending"}), next))
        row["status"] = next;
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
      older.set_status(id, next);
    for (auto& row : rows) {
      auto id = row.value("message_id", std::string{});
      auto st = row.value("status", std::string{"pending"});
      older.put(row);
      older.set_status(id, st);
    }
    *this = std::move(older);
  }

  json payload() const {
    json by_status = json::object();
    for (const auto& [id, st] : status)
      by_status[st].push_back(id);
    return {{"messages", rows}, {"status", by_status}};
  }
};

struct mirror_state {
  message_mirror_options opts;
  batch queued;
  batch in_flight;
  bool writing = false;
  bool timer_armed = false;
  bool retry_armed = false;
  std::vector<caf::typed_response_promise<bool>> flush_next;  ///< answered after the next write
  std::vector<caf::typed_response_promise<bool>> flush_now;   ///< answered after the current one
  uint64_t dropped = 0;
  static inline const char* name = "pixelcraft.message-mirror";
};

using mirror_impl = message_mirror_actor::extend<caf::reacts_to<tick_atom>>;
using mirror_pointer = mirror_impl::stateful_pointer<mirror_state>;

void start_write(mirror_pointer self);

void answer(std::vector<caf::typed_response_promise<bool>>& waiters, const caf::error& err) {
  for (auto& rp : waiters)
    if (err)
      rp.deliver(err);
    else
      rp.deliver(true);
  waiters.clear();
}

void bound_queue(mirror_pointer self) {
  auto& st = self->state;
  if (st.queued.size() <= st.opts.max_queued)
    return;
  // Oldest rows first; their later status changes then update nothing.
  auto excess = st.queued.size() - st.opts.max_queued;
  batch kept;
  for (size_t i = 0; i < st.queued.rows.size(); ++i)
    if (i >= excess)
      kept.put(std::move(st.queued.rows[i]));
  kept.status = std::move(st.queued.status);
  auto dropped = std::min(excess, st.queued.rows.size());
  st.dropped += dropped;
  st.queued = std::move(kept);
  log::warn(component, "agent messages dropped from the mirror: the database is not keeping up",
            {{"dropped", dropped}, {"dropped_total", st.dropped}});
}

/// Something was queued: write now, or soon.
void schedule(mirror_pointer self) {
  auto& st = self->state;
  bound_queue(self);
  if (st.writing || st.retry_armed)
    return;
  if (st.queued.size() >= st.opts.max_batch || !st.flush_next.empty())
    return start_write(self);
  if (!st.timer_armed) {
    st.timer_armed = true;
    self->delayed_send(self, st.opts.linger, tick_atom_v);
  }
}

void start_write(mirror_pointer self) {
  auto& st = self->state;
  if (st.writing || st.queued.empty()) {
    if (!st.writing)
      answer(st.flush_next, {});
    return;
  }
  st.writing = true;
  st.in_flight = std::move(st.queued);
  st.queued = batch{};
  st.flush_now = std::move(st.flush_next);
  st.flush_next.clear();
  self
    ->request(st.opts.db, std::chrono::milliseconds(st.opts.db_timeout_ms + 4000), db_op_atom_v,
              std::string{"amsg_write"}, st.in_flight.payload().dump())
    .then(
      [self](const std::string&) {
        auto& st = self->state;
        st.writing = false;
        st.in_flight = batch{};
        answer(st.flush_now, {});
        if (!st.queued.empty() || !st.flush_next.empty())
          start_write(self);
      },
      [self](caf::error& err) {
        auto& st = self->state;
        st.writing = false;
        answer(st.flush_now, err);
        bool transient = err == caf::sec::request_timeout ||
                         err == caf::sec::request_receiver_down ||
                         err.code() == static_cast<uint8_t>(errc::unavailable) ||
                         err.code() == static_cast<uint8_t>(errc::deadline_exceeded);
        if (!transient) {
          log::error(component, "agent messages refused by the database; dropped",
                     {{"count", st.in_flight.size()}, {"error", caf::to_string(err)}});
          st.in_flight = batch{};
          if (!st.queued.empty() || !st.flush_next.empty())
            start_write(self);
          return;
        }
        log::warn(component, "agent message mirror write failed; retrying",
                  {{"count", st.in_flight.size()}, {"error", caf::to_string(err)}});
        st.queued.merge_older(std::move(st.in_flight));
        st.in_flight = batch{};
        bound_queue(self);
        st.retry_armed = true;
        self->delayed_send(self, std::chrono::seconds(1), tick_atom_v);
      });
}

mirror_impl::behavior_type mirror_fn(mirror_pointer self, message_mirror_options opts) {
  self->state.opts = std::move(opts);
  self->set_exit_handler([self](caf::exit_msg& em) {
    auto& st = self->state;
    auto lost = st.queued.size() + st.in_flight.size();
    if (lost > 0)
      log::warn(component, "agent messages not mirrored at shutdown", {{"count", lost}});
    auto err = caf::make_error(errc::unavailable, "shutting down");
    answer(st.flush_now, err);
    answer(st.flush_next, err);
    self->quit(em.reason);
  });
  return {
    [self](mirror_put_atom, const std::string& text) {
      auto row = json::parse(text, nullptr, false);
      if (!row.is_object() || !row.contains("message_id"))
        return;
      self->state.queued.put(std::move(row));
      schedule(self);
    },
    [self](mirror_status_atom, const std::string& ids, const std::string& status) {
      auto list = json::parse(ids, nullptr, false);
      if (!list.is_array())
        return;
      for (const auto& id : list)
        if (id.is_string())
          self->state.queued.set_status(id.get<std::string>(), status);
      schedule(self);
    },
    [self](mirror_flush_atom) -> caf::result<bool> {
      auto& st = self->state;
      if (st.queued.empty() && !st.writing)
        return true;
      auto rp = self->make_response_promise<bool>();
      if (st.queued.empty())
        st.flush_now.push_back(rp); // everything before us is in the write in flight
      else
        st.flush_next.push_back(rp);
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

std::string new_agent_message(const std::string& msg, const std::string& workflow_id) {
  auto m = json::parse(msg);
  m["message_id"] = random_uuid();
  m["workflow_execution_id"] = workflow_id;
  m["status"] = "pending";
  m["created_at"] = log::now_rfc3339();
  m["processed_at"] = nullptr;
  if (!m.contains("metadata") || !m["metadata"].is_object())
    m["metadata"] = json::object();
  return m.dump();
}

message_mirror_actor spawn_message_mirror(caf::actor_system& sys, message_mirror_options opts) {
  return caf::actor_cast<message_mirror_actor>(sys.spawn(mirror_fn, std::move(opts)));
}

} // namespace pixelcraft
