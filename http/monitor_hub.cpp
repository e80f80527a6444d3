#include "http/monitor_hub.hpp"

#include "actors/deadline.hpp"
#include "actors/json_limits.hpp"
#include "actors/log.hpp"

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <set>
#include <unordered_map>
#include <vector>

namespace pixelcraft::http {

namespace {

using json = nlohmann::json;
constexpr size_t max_client_frame = 64 * 1024;
constexpr auto ping_every = std::chrono::seconds(30);

struct monitor {
  monitor_sub sub;
  bool ready = false;
  int64_t last_seq = 0;
  size_t catch_up_bytes = 0;       ///< queued at once by the replay: allowed on top of the limit
  std::vector<run_event> buffered; ///< live events while the first frames are being prepared
};

struct hub_state {
  db_actor db;
  size_t max_backlog = 4u << 20;
  std::chrono::milliseconds db_timeout{5000};
  std::map<uint64_t, monitor> monitors;
  /// The monitors of each workflow: an event visits only its own (one workflow may have 10k).
  std::unordered_map<std::string, std::set<uint64_t>> by_workflow;
  static inline const char* name = "pixelcraft.monitor-hub";
};

using hub_pointer = monitor_hub_actor::stateful_pointer<hub_state>;

/// The frame of one stored event, the same for every monitor of its workflow.
std::string event_frame(const std::string& workflow_id, const run_event& e) {
  auto quoted = [](const std::string& s) {
    return json(s).dump(-1, ' ', false, json::error_handler_t::replace);
  };
  // The stored data (JSON text: jsonb, or rendered by the run actor) goes in as it is.
  std::string f = "{\"data\":";
  f.reserve(e.data.size() + 192);
  f += e.data.empty() ? std::string{"{}"} : e.data;
  f += ",\"event_type\":";
  f += quoted(e.event_type);
  f += ",\"seq\":";
  f += std::to_string(e.seq);
  f += ",\"timestamp\":";
  f += quoted(e.timestamp);
  f += ",\"type\":\"workflow_update\",\"workflow_id\":";
  f += quoted(workflow_id);
  f += '}';
  return f;
}

/// Queues event `seq` (its `frame`) on the socket; returns the frame's size (0 if it was
/// already sent).
size_t send_frame(monitor& m, int64_t seq, const std::string& frame) {
  if (seq <= m.last_seq)
    return 0; // already reflected or sent
  m.last_seq = seq;
  m.sub.session->send_text(frame);
  return frame.size();
}

size_t send_event(monitor& m, const run_event& e) {
  return send_frame(m, e.seq, event_frame(m.sub.workflow_id, e));
}

void make_ready(hub_pointer self, uint64_t id) {
  auto it = self->state.monitors.find(id);
  if (it == self->state.monitors.end())
    return;
  auto& m = it->second;
  for (auto& e : m.buffered)
    m.catch_up_bytes += send_event(m, e);
  m.buffered.clear();
  m.ready = true;
}

void drop(hub_pointer self, uint64_t id, uint16_t code, const std::string& reason) {
  auto it = self->state.monitors.find(id);
  if (it == self->state.monitors.end())
    return;
  if (code)
    it->second.sub.session->close(code, reason);
  auto& st = self->state;
  if (auto w = st.by_workflow.find(it->second.sub.workflow_id); w != st.by_workflow.end()) {
    w->second.erase(id);
    if (w->second.empty())
      st.by_workflow.erase(w);
  }
  st.monitors.erase(it);
}

/// Sends monitor `id` the stored events after `since`, then what was buffered meanwhile.
void catch_up(hub_pointer self, uint64_t id, const std::string& workflow_id, int64_t since) {
  auto& st = self->state;
  self->request(st.db, st.db_timeout, run_events_atom_v, workflow_id, since)
      .then(
          [self, id](const std::vector<run_event>& events) {
            auto it = self->state.monitors.find(id);
            if (it == self->state.monitors.end())
              return;
            for (const auto& e : events)
              it->second.catch_up_bytes += send_event(it->second, e);
            make_ready(self, id);
          },
          [self, id](caf::error&) { drop(self, id, 1011, "events unavailable"); });
}

monitor_hub_actor::behavior_type hub_fn(hub_pointer self, db_actor db, unsigned db_timeout_ms,
                                        size_t max_backlog) {
  self->state.db = std::move(db);
  self->state.max_backlog = max_backlog;
  self->state.db_timeout = deadlines::db(db_timeout_ms);
  self->delayed_send(self, ping_every, tick_atom_v);
  return {
      [self](wf_event_atom, const std::string& workflow_id, const run_event& e) {
        auto& st = self->state;
        auto watchers = st.by_workflow.find(workflow_id);
        if (watchers == st.by_workflow.end())
          return;
        auto seq = e.seq;
        auto frame = event_frame(workflow_id, e); // once, for all of them
        std::vector<std::pair<uint64_t, int64_t>> behind;
        for (auto id : watchers->second) {
          auto& m = st.monitors.at(id);
          if (!m.ready) {
            m.buffered.push_back(e);
            continue;
          }
          if (seq > m.last_seq + 1) {
            // A gap: events of an execution on another node that were sent while the link
            // was down. They are stored; fetch them, holding live ones back meanwhile.
            m.ready = false;
            m.buffered.push_back(e);
            catch_up(self, id, m.sub.workflow_id, m.last_seq);
            continue;
          }
          if (m.sub.session->unsent_bytes() > st.max_backlog + m.catch_up_bytes) {
            behind.emplace_back(id, m.last_seq);
            continue;
          }
          send_frame(m, seq, frame);
        }
        for (auto [id, seq] : behind) {
          log::info("pixelcraft.http", "workflow monitor closed: too far behind",
                    {{"workflow_id", workflow_id}, {"last_seq", seq}});
          drop(self, id, 1013,
               "too far behind at seq " + std::to_string(seq) + "; reconnect with since");
        }
      },
      [self](ws_sub_atom, monitor_sub& sub) {
        auto id = sub.id;
        auto wf = sub.workflow_id;
        auto since = sub.since;
        monitor m;
        m.sub = std::move(sub);
        auto& st = self->state;
        st.monitors[id] = std::move(m);
        st.by_workflow[wf].insert(id);
        if (since < 0) {
          st.monitors[id].last_seq = 0;
          self->request(st.db, st.db_timeout, run_load_atom_v, wf)
              .then(
                  [self, id, wf](run_row& row) {
                    auto it = self->state.monitors.find(id);
                    if (it == self->state.monitors.end())
                      return;
                    auto seq = row.last_event_seq;
                    // The client's document only (the server's fields are not in it).
                    auto frame =
                        event_frame(wf, run_event{seq, "initial_state", std::move(row.execution),
                                                  log::now_rfc3339()});
                    it->second.catch_up_bytes += frame.size();
                    it->second.sub.session->send_text(std::move(frame));
                    it->second.last_seq = seq;
                    make_ready(self, id);
                  },
                  [self, id](caf::error&) { drop(self, id, 1011, "state unavailable"); });
          return;
        }
        st.monitors[id].last_seq = since;
        catch_up(self, id, wf, since);
      },
      [self](ws_text_atom, uint64_t id, const std::string& text) {
        auto it = self->state.monitors.find(id);
        if (it == self->state.monitors.end())
          return;
        if (text.size() > max_client_frame)
          return drop(self, id, 1009, "frame over 64 KiB");
        auto j = parse_json(text, client_depth); // a client's frame
        if (j.is_object() && j.contains("type") && j["type"] == "ping")
          it->second.sub.session->send_text(R"({"type":"pong"})");
      },
      [self](ws_close_atom, uint64_t id) { drop(self, id, 0, ""); },
      [self](tick_atom) {
        for (auto& [id, m] : self->state.monitors)
          m.sub.session->send_text(R"({"type":"ping"})");
        self->delayed_send(self, ping_every, tick_atom_v);
      },
  };
}

} // namespace

monitor_hub_actor spawn_monitor_hub(caf::actor_system& sys, db_actor db, unsigned db_timeout_ms,
                                    size_t max_backlog_bytes) {
  return sys.spawn(hub_fn, std::move(db), db_timeout_ms, max_backlog_bytes);
}

} // namespace pixelcraft::http
