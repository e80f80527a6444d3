#include "actors/memory/memory_store.hpp"

#include "actors/deadline.hpp"
#include "actors/errc.hpp"
#include "actors/log.hpp"

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <chrono>
#include <deque>
#include <map>

namespace pixelcraft {

namespace {

using clock_type = std::chrono::system_clock;
constexpr const char* component = "pixelcraft.memory";

std::string cache_key(const memory_key& k) {
  return k.scope + "\n" + k.scope_id + "\n" + k.key;
}

/// Only keys of one run or conversation are cached: `global` and `system` reads always go to
/// the table, which checks the scope against the run asking (one owner never reads another's
/// keys, even through a mistaken `scope_id`), and sees writes of other nodes.
bool cacheable(const memory_key& k) {
  return k.scope == "workflow" || k.scope == "conversation";
}

/// A key's scope id must be named (the cache is keyed by it): '' only for `system`.
bool well_formed(const memory_key& k) {
  if (k.key.empty())
    return false;
  return k.scope == "system" ? k.scope_id.empty() : !k.scope_id.empty();
}

struct store_state {
  db_actor db;
  std::chrono::milliseconds timeout{5000};
  std::map<std::string, memory_entry> cache; ///< entries as stored
  std::map<std::string, clock_type::time_point> expiry;
  static inline const char* name = "pixelcraft.memory-store";
};

using store_pointer = memory_actor::stateful_pointer<store_state>;

memory_actor::behavior_type store_fn(store_pointer self, db_actor db, unsigned timeout_ms) {
  self->state.db = std::move(db);
  self->state.timeout = deadlines::db(timeout_ms);
  return {
      [self](mem_put_atom, memory_write& w) -> caf::result<memory_entry> {
        if (!well_formed(w.at))
          return caf::make_error(errc::invalid_argument, "malformed memory write");
        auto rp = self->make_response_promise<memory_entry>();
        auto key = cache_key(w.at);
        auto cache = cacheable(w.at);
        auto ttl = w.ttl_s;
        // Written through before it is acknowledged: a crash loses nothing acknowledged.
        self->request(self->state.db, self->state.timeout, mem_put_atom_v, std::move(w))
            .then(
                [self, rp, key, cache, ttl](memory_entry& stored) mutable {
                  if (cache)
                    self->state.cache[key] = stored;
                  if (ttl >= 0)
                    self->state.expiry[key] =
                        clock_type::now() +
                        std::chrono::milliseconds(static_cast<long long>(ttl * 1000));
                  else
                    self->state.expiry.erase(key);
                  rp.deliver(std::move(stored));
                },
                [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
        return rp;
      },
      [self](mem_get_atom, memory_key& k) -> caf::result<memory_entry> {
        if (!well_formed(k))
          return caf::make_error(errc::invalid_argument, "malformed memory read");
        auto key = cache_key(k);
        auto& st = self->state;
        if (auto it = st.cache.find(key); cacheable(k) && it != st.cache.end()) {
          auto exp = st.expiry.find(key);
          if (exp != st.expiry.end() && exp->second < clock_type::now())
            return memory_entry{};
          return it->second;
        }
        // Not cached (new store after a restart, or written by another node): read the table,
        // which checks the scope against the run asking.
        auto rp = self->make_response_promise<memory_entry>();
        auto cache = cacheable(k);
        self->request(st.db, st.timeout, mem_get_atom_v, std::move(k))
            .then(
                [self, rp, key, cache](memory_entry& entry) mutable {
                  // A key that expires is read from the table each time (its expiry is known
                  // there; this store only tracks expiries of the writes it made).
                  if (cache && entry.found() && entry.expires_at.empty())
                    self->state.cache[key] = entry;
                  rp.deliver(std::move(entry));
                },
                [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
        return rp;
      },
      [self](mem_stored_atom, const memory_key& k, memory_entry& e) {
        if (!well_formed(k) || !cacheable(k) || !e.found())
          return;
        auto key = cache_key(k);
        auto& st = self->state;
        auto it = st.cache.find(key);
        // A newer version written through this store wins (one that expires may since have
        // restarted at 1: the new entry wins then).
        if (it != st.cache.end() && st.expiry.count(key) == 0 && it->second.version > e.version)
          return;
        st.expiry.erase(key);
        if (e.expires_at.empty())
          st.cache[key] = std::move(e);
        else
          st.cache.erase(key); // expiring keys are read from the table
      },
      [self](caf::get_atom) { return caf::actor_cast<caf::actor>(self); },
  };
}

struct supervisor_state {
  db_actor db;
  unsigned timeout_ms = 5000;
  memory_actor child;
  std::deque<clock_type::time_point> restarts;
  static inline const char* name = "pixelcraft.memory-supervisor";
};

using supervisor_pointer = memory_actor::stateful_pointer<supervisor_state>;

memory_actor::behavior_type supervisor_fn(supervisor_pointer self, db_actor db,
                                          unsigned timeout_ms) {
  auto& st = self->state;
  st.db = std::move(db);
  st.timeout_ms = timeout_ms;
  st.child = self->spawn<caf::monitored>(store_fn, st.db, st.timeout_ms);
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    if (dm.source != st.child.address())
      return;
    if (dm.reason == caf::exit_reason::normal || dm.reason == caf::exit_reason::user_shutdown)
      return self->quit(dm.reason);
    // Restart budget: 3 restarts per 60 s, then escalate.
    auto now = clock_type::now();
    while (!st.restarts.empty() && now - st.restarts.front() > std::chrono::seconds(60))
      st.restarts.pop_front();
    if (st.restarts.size() >= 3) {
      log::error(component, "memory store keeps crashing; giving up",
                 {{"error", caf::to_string(dm.reason)}});
      return self->quit(dm.reason);
    }
    st.restarts.push_back(now);
    log::warn(component, "memory store crashed; restarting",
              {{"error", caf::to_string(dm.reason)}});
    st.child = self->spawn<caf::monitored>(store_fn, st.db, st.timeout_ms);
  });
  self->set_exit_handler([self](caf::exit_msg& em) {
    self->send_exit(self->state.child, em.reason);
    self->quit(em.reason);
  });
  return {
      [self](mem_put_atom a, memory_write& w) {
        return self->delegate(self->state.child, a, std::move(w));
      },
      [self](mem_get_atom a, memory_key& k) {
        return self->delegate(self->state.child, a, std::move(k));
      },
      [self](mem_stored_atom a, memory_key& k, memory_entry& e) {
        self->send(self->state.child, a, std::move(k), std::move(e));
      },
      [self](caf::get_atom) { return caf::actor_cast<caf::actor>(self->state.child); },
  };
}

} // namespace

memory_actor spawn_memory_supervisor(caf::actor_system& sys, db_actor db, unsigned db_timeout_ms) {
  return sys.spawn(supervisor_fn, std::move(db), db_timeout_ms);
}

} // namespace pixelcraft
